"""`imaginebot imagine`, `upscale`, `vary` and `describe`: one request through the whole
pipeline, the terminal its result channel (it prints queued / generating / done, and writes
the picture to a file: for several, the grid to FILE and each original, byte for byte, to
FILE-1 ... FILE-N beside it).

Nothing is queued (and paid for) before the output's folder is known to take the file; a file
that cannot be written afterwards is reported at once with where the picture is kept instead.
Files are named for what they hold: a JPEG grid asked for as `grid.png` is written as
`grid.jpg`, and the line that says where says so."""

from __future__ import annotations

import asyncio
import getpass
import os
import secrets
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.bootstrap import BotApp
from bot.core.errors import UserFacingError, retrying_words
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
from bot.core.requests.service import GenerationService
from bot.settings import Settings

Submit = Callable[[GenerationService, Requester, Scope, ReplyTarget], Awaitable[Ticket]]
SCOPE = Scope(platform="cli", id="local")
TARGET = ReplyTarget(platform="cli", chat_id="terminal", nsfw_ok=False)
# Where pictures go without -o: one folder (git-ignored in the checkout), not the current one.
DEFAULT_FOLDER = Path("out")
# Suffixes naming the same format: the name asked for is kept when it already fits.
SAME_FORMAT = {".jpeg": ".jpg", ".jpg": ".jpg", ".png": ".png", ".webp": ".webp"}
FORMAT_NAMES = {".jpg": "JPEG", ".png": "PNG", ".webp": "WebP"}


def output_problem(output: Path | None) -> str | None:
    """Why the picture could not be written to `output` (None: it can), checked before queueing."""
    if output is None:
        try:
            DEFAULT_FOLDER.mkdir(exist_ok=True)
        except OSError as exc:
            return f"cannot create the folder {DEFAULT_FOLDER}/ for the picture: {exc.strerror}"
        output = DEFAULT_FOLDER / "picture.png"
    folder = output.parent
    if output.is_dir():
        return f"{output} is a folder; give a file name, e.g. {output / 'picture.png'}"
    if not folder.is_dir():
        return f"cannot write {output}: the folder {folder} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot write {output}: the folder {folder} is not writable"
    if output.exists() and not os.access(output, os.W_OK):
        return f"cannot write {output}: the file exists and is not writable"
    return None


def named_for_format(asked: Path, suffix: str) -> Path:
    """`asked`, with the suffix of the format it will hold when its own names another."""
    if SAME_FORMAT.get(asked.suffix.lower()) == SAME_FORMAT.get(suffix.lower(), suffix.lower()):
        return asked
    return asked.with_suffix(suffix)


def made_by(generation: Generation) -> str:
    """Who made the picture, for the `done:` line."""
    if generation.provider == "original":
        return "the original picture: no upscaler is configured"
    return f"{generation.provider} {generation.model}"


# For the operator at the terminal: which provider did not answer, and where it is set.
PROVIDER_NAMES = {
    "openai": ("OpenAI", "OPENAI_BASE_URL"),
    "horde": ("AI Horde", "HORDE_API_URL"),
    "sdwebui": ("the Stable Diffusion server", "SDWEBUI_URL"),
    "comfyui": ("ComfyUI", "COMFYUI_URL"),
}


def unreachable_hint(settings: Settings) -> str:
    """What to set when no provider of the chain could be reached (the chat user's reason is
    vaguer)."""
    names = [PROVIDER_NAMES[p][0] for p in settings.providers]
    urls = [PROVIDER_NAMES[p][1] for p in settings.providers]
    who = " and ".join(names)
    if settings.providers == ("horde",) and settings.openai_api_key is None:
        return (
            f"{who} cannot be reached; set OPENAI_API_KEY or IMAGE_PROVIDERS to use another "
            f"provider, or check {urls[0]} and the network (`imaginebot providers` checks them)"
        )
    return (
        f"{who} cannot be reached; check {' and '.join(urls)} and the network, or set "
        "IMAGE_PROVIDERS to use another provider (`imaginebot providers` checks them)"
    )


def busy_hint(settings: Settings) -> str:
    """When the providers answered, but only with errors (an outage, an overload)."""
    who = " and ".join(PROVIDER_NAMES[p][0] for p in settings.providers)
    return (
        f"{who} answered only with errors (busy or down); try again later, or set "
        "IMAGE_PROVIDERS to use another provider (`imaginebot providers` checks them)"
    )


# The operator at the terminal gets what to do; the other codes' reasons say enough already.
OPERATOR_HINTS = {"unreachable": unreachable_hint, "busy": busy_hint, "unavailable": busy_hint}


class CliChannel:
    platform = "cli"

    def __init__(self, output: Path | None, settings: Settings) -> None:
        self.settings = settings
        self.output = output
        self.finished = asyncio.Event()
        self.succeeded = False
        self.written: Path | None = None

    async def show_status(self, generation: Generation, update: StatusUpdate) -> None:
        retrying = retrying_words(update.detail)
        if retrying:
            print(f"retrying: {retrying}", flush=True)
            return
        detail = f" ({update.detail})" if update.detail else ""
        position = f", position {update.position}" if update.position else ""
        print(f"generating{position}{detail}…", flush=True)

    async def deliver(self, generation: Generation, image_path: Path) -> None:
        # Whatever happens here, the command stops waiting: it never hangs on a failed write.
        try:
            if generation.kind is Kind.DESCRIBE:
                self.succeeded = True
                print(f"done: {generation.id} ({made_by(generation)})", flush=True)
                for number, suggestion in enumerate(generation.suggestions, start=1):
                    print(f"{number}. {suggestion}", flush=True)
                return
            self.succeeded = self._write(generation, image_path)
        finally:
            self.finished.set()

    def _write(self, generation: Generation, image_path: Path) -> bool:
        asked = self.output or DEFAULT_FOLDER / f"imaginebot-{generation.id}{image_path.suffix}"
        target = named_for_format(asked, image_path.suffix)
        copies = [(image_path, target)]
        if len(generation.images) > 1:
            for image in generation.images:
                original = Path(image.path)
                copies.append(
                    (original, target.with_name(f"{target.stem}-{image.index}{original.suffix}"))
                )
        try:
            for source, copy in copies:
                shutil.copyfile(source, copy)
        except OSError as exc:
            print(
                f"failed: cannot write {exc.filename or target}: {exc.strerror}; the picture is "
                f"kept in the history: {image_path}",
                file=sys.stderr,
                flush=True,
            )
            for image in generation.images if len(generation.images) > 1 else ():
                print(f"  {image.path}", file=sys.stderr, flush=True)
            return False
        self.written = target
        crop = f", {generation.crop_note}" if generation.crop_note else ""
        kind = FORMAT_NAMES.get(target.suffix.lower(), target.suffix[1:].upper())
        renamed = f" (not {asked.name}: the picture is a {kind})" if target != asked else ""
        print(
            f"done: {target}{renamed} "
            f"({generation.image_width}x{generation.image_height}, {made_by(generation)}{crop})",
            flush=True,
        )
        for _source, copy in copies[1:]:
            print(f"  {copy}", flush=True)
        return True

    async def report_failure(self, generation: Generation) -> None:
        reason = generation.failure_reason
        hint = OPERATOR_HINTS.get(generation.failure_code or "")
        if hint is not None:
            reason = hint(self.settings)
        print(f"failed: {reason}", file=sys.stderr, flush=True)
        self.finished.set()


async def imagine(
    settings: Settings, command: ImagineCommand, output: Path | None, scope: Scope | None = None
) -> int:
    """Exit status: 0 with the picture written, 1 when it failed, 2 for bad input. `scope`:
    made as in that server or group (its styles, settings and limits)."""

    async def submit(
        service: GenerationService, who: Requester, default: Scope, target: ReplyTarget
    ) -> Ticket:
        return await service.imagine(who, scope or default, target, command)

    return await run_request(settings, submit, output)


def read_picture(path: Path, settings: Settings) -> bytes:
    """At most one byte more than MAX_INPUT_IMAGE_MB, so the core refuses a larger file
    with its own message without the whole of it being read."""
    with path.open("rb") as handle:
        return handle.read(int(settings.max_input_image_mb * 1_000_000) + 1)


async def run_request(
    settings: Settings, submit: Submit, output: Path | None, *, writes: bool = True
) -> int:
    """Exit status: 0 with the result written, 1 when it failed, 2 for bad input."""
    problem = output_problem(output) if writes else None
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
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
