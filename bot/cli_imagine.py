"""`imaginebot imagine`: one request through the whole pipeline, the terminal its result
channel (it prints queued / generating / done, and writes the picture to a file)."""

from __future__ import annotations

import asyncio
import getpass
import secrets
import shutil
import sys
from pathlib import Path

from bot.bootstrap import BotApp
from bot.core.errors import UserFacingError
from bot.core.models import (
    Generation,
    ImagineCommand,
    ReplyTarget,
    Requester,
    Scope,
    StatusUpdate,
)
from bot.settings import Settings

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
        target = self.output or Path(f"imaginebot-{generation.id}{image_path.suffix}")
        shutil.copyfile(image_path, target)
        self.written = target
        self.succeeded = True
        print(
            f"done: {target} ({generation.image_width}x{generation.image_height}, "
            f"{generation.provider} {generation.model})",
            flush=True,
        )
        self.finished.set()

    async def report_failure(self, generation: Generation) -> None:
        reason = generation.failure_reason
        if generation.failure_code == "unavailable":  # "took too long" says enough already
            reason = unreachable_hint(self.settings)
        print(f"failed: {reason}", file=sys.stderr, flush=True)
        self.finished.set()


async def imagine(settings: Settings, command: ImagineCommand, output: Path | None) -> int:
    """Exit status: 0 with the picture written, 1 when it failed, 2 for bad input."""
    # Each CLI run reads its own event stream, so it never takes a running bot's events.
    settings = settings.model_copy(update={"bot_instance": f"cli-{secrets.token_hex(4)}"})
    app = await BotApp.create(settings)
    channel = CliChannel(output, settings)
    app.register(channel)
    try:
        await app.start(resume=False, worker=settings.embedded_queue, serve_health=False)
        user = getpass.getuser()
        try:
            ticket = await app.service.imagine(
                Requester(platform="cli", user_id=user, display_name=user),
                Scope(platform="cli", id="local"),
                ReplyTarget(platform="cli", chat_id="terminal"),
                command,
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
