"""`imaginebot imagine`, `upscale`, `vary` and `describe`: one request through the whole
pipeline, the terminal its result channel (it prints queued / generating / done, and writes
the picture to a file: for several, the grid to FILE and each original, byte for byte, to
FILE-1 ... FILE-N beside it)."""

from __future__ import annotations

import asyncio
import getpass
import secrets
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.bootstrap import BotApp
from bot.core.errors import UserFacingError
from bot.core.models import (
    Generation,
    ImagineCommand,
    Kind,
    ReplyTarget,
    Requester,
    Scope,
    StatusUpdate,
    Ticket,
)
from bot.core.service import GenerationService
from bot.settings import Settings

Submit = Callable[[GenerationService, Requester, Scope, ReplyTarget], Awaitable[Ticket]]
SCOPE = Scope(platform="cli", id="local")
TARGET = ReplyTarget(platform="cli", chat_id="terminal")

# For the operator at the terminal: which provider did not answer, and where it is set.
PROVIDER_NAMES = {
    "openai": ("OpenAI", "OPENAI_BASE_URL"),
    "horde": ("AI Horde", "HORDE_API_URL"),
    "sdwebui": ("the Stable Diffusion server", "SDWEBUI_URL"),
    "comfyui": ("ComfyUI", "COMFYUI_URL"),
}


def unreachable_hint(settings: Settings) -> str:
    """What to set when no provider of the chain answered (the chat user's reason is vaguer)."""
    names = [PROVIDER_NAMES[p][0] for p in settings.providers]
    urls = [PROVIDER_NAMES[p][1] for p in settings.providers]
    who = " and ".join(names)
    verb = "did" if len(names) == 1 else "all did"
    if settings.providers == ("horde",) and settings.openai_api_key is None:
        return (
            f"{who} did not answer; set OPENAI_API_KEY or IMAGE_PROVIDERS to use another "
            f"provider, or check {urls[0]} and the network (`imaginebot providers` checks them)"
        )
    return (
        f"{who} {verb} not answer; check {' and '.join(urls)} and the network, or set "
        "IMAGE_PROVIDERS to use another provider (`imaginebot providers` checks them)"
    )


class CliChannel:
    platform = "cli"

    def __init__(self, output: Path | None, settings: Settings) -> None:
        self.settings = settings
        self.output = output
        self.finished = asyncio.Event()
        self.succeeded = False
        self.written: Path | None = None

    async def show_status(self, generation: Generation, update: StatusUpdate) -> None:
        detail = f" ({update.detail})" if update.detail else ""
        position = f", position {update.position}" if update.position else ""
        print(f"generating{position}{detail}…", flush=True)

    async def deliver(self, generation: Generation, image_path: Path) -> None:
        self.succeeded = True
        if generation.kind is Kind.DESCRIBE:
            print(f"done: {generation.id} ({generation.provider} {generation.model})", flush=True)
            for number, suggestion in enumerate(generation.suggestions, start=1):
                print(f"{number}. {suggestion}", flush=True)
            self.finished.set()
            return
        target = self.output or Path(f"imaginebot-{generation.id}{image_path.suffix}")
        shutil.copyfile(image_path, target)
        self.written = target
        originals = []
        if len(generation.images) > 1:
            for image in generation.images:
                original = Path(image.path)
                copy = target.with_name(f"{target.stem}-{image.index}{original.suffix}")
                shutil.copyfile(original, copy)
                originals.append(str(copy))
        crop = f", {generation.crop_note}" if generation.crop_note else ""
        print(
            f"done: {target} ({generation.image_width}x{generation.image_height}, "
            f"{generation.provider} {generation.model}{crop})",
            flush=True,
        )
        for name in originals:
            print(f"  {name}", flush=True)
        self.finished.set()

    async def report_failure(self, generation: Generation) -> None:
        reason = generation.failure_reason
        if generation.failure_code == "unavailable":  # "took too long" says enough already
            reason = unreachable_hint(self.settings)
        print(f"failed: {reason}", file=sys.stderr, flush=True)
        self.finished.set()


async def imagine(settings: Settings, command: ImagineCommand, output: Path | None) -> int:
    """Exit status: 0 with the picture written, 1 when it failed, 2 for bad input."""

    async def submit(
        service: GenerationService, who: Requester, scope: Scope, target: ReplyTarget
    ) -> Ticket:
        return await service.imagine(who, scope, target, command)

    return await run_request(settings, submit, output)


def read_picture(path: Path, settings: Settings) -> bytes:
    """At most one byte more than MAX_INPUT_IMAGE_MB, so the core refuses a larger file
    with its own message without the whole of it being read."""
    with path.open("rb") as handle:
        return handle.read(int(settings.max_input_image_mb * 1_000_000) + 1)


async def run_request(settings: Settings, submit: Submit, output: Path | None) -> int:
    """Exit status: 0 with the result written, 1 when it failed, 2 for bad input."""
    # Each CLI run reads its own event stream, so it never takes a running bot's events.
    settings = settings.model_copy(update={"bot_instance": f"cli-{secrets.token_hex(4)}"})
    app = await BotApp.create(settings)
    channel = CliChannel(output, settings)
    app.register(channel)
    try:
        await app.start(resume=False, worker=settings.embedded_queue, serve_health=False)
        user = getpass.getuser()
        try:
            ticket = await submit(
                app.service,
                Requester(platform="cli", user_id=user, display_name=user),
                SCOPE,
                TARGET,
            )
        except UserFacingError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 2
        print(
            f"queued: {ticket.generation_id} (position {ticket.position}, style {ticket.style.id}, "
            f"{ticket.aspect}, seed {ticket.seed})",
            flush=True,
        )
        limit = settings.job_timeout_seconds * settings.job_max_tries + 60
        try:
            await asyncio.wait_for(channel.finished.wait(), timeout=limit)
        except TimeoutError:
            print(f"failed: no result after {limit:.0f}s; is a worker running?", file=sys.stderr)
            return 1
        return 0 if channel.succeeded else 1
    finally:
        # This run's event stream is private to it: remove it rather than leave it in Redis.
        await app.close(drop_event_stream=True)
