"""The `imaginebot` command: run, worker, imagine, styles, providers, migrate, history."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from wcwidth import wcswidth

from bot import __version__
from bot.core.errors import UserFacingError
from bot.core.models import (
    ASPECT_RATIOS,
    Generation,
    ImagineCommand,
    ReplyTarget,
    Requester,
    Scope,
    Status,
    StatusUpdate,
)
from bot.core.styles import StyleCatalogue, load_catalogue
from bot.settings import ConfigError, Settings, load_settings
from bot.startup import EXIT_CONFIG, explain
from bot.web import commands as web_commands

if TYPE_CHECKING:
    from bot.adapters.base import PlatformAdapter
    from bot.bootstrap import BotApp

# httpx tries to import its command-line client (click and pygments, about 1.2 MB resident in
# every bot and worker process) and falls back to a stub when that import fails. Nothing here
# runs httpx's CLI: make the import fail at once. Only done before httpx is first imported.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

log = logging.getLogger("bot.cli")


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """The one place logging is set up: format, levels, and the filter that masks secrets
    (the configured ones and anything shaped like a token) on every handler. Uncaught
    exceptions and warnings go through logging too, so they pass the same filter."""
    from bot.redaction import install

    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    install(secrets, logging.getLogger().handlers)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    # HTTP client libraries log full URLs at INFO, and Telegram URLs contain the bot token.
    for noisy in (
        "httpx",
        "httpcore",
        "telegram.ext",
        "discord.http",
        "discord.gateway",
        "arq.worker",
    ):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def _log_uncaught(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    log.critical("stopped by an unexpected error", exc_info=(kind, value, tb))


# -- imagine (the CLI is a result channel of its own) -----------------------------------------------


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


async def imagine(settings: Settings, args: argparse.Namespace) -> int:
    from bot.bootstrap import BotApp

    # Each CLI run reads its own event stream, so it never takes a running bot's events.
    settings = settings.model_copy(update={"bot_instance": f"cli-{secrets.token_hex(4)}"})
    app = await BotApp.create(settings)
    channel = CliChannel(Path(args.output) if args.output else None, settings)
    app.register(channel)
    try:
        await app.start(resume=False, worker=settings.embedded_queue, serve_health=False)
        requester = Requester(
            platform="cli", user_id=getpass.getuser(), display_name=getpass.getuser()
        )
        command = ImagineCommand(
            prompt=args.prompt,
            style=args.style,
            aspect=args.aspect,
            negative_prompt=args.negative,
            seed=args.seed,
        )
        try:
            ticket = await app.service.imagine(
                requester,
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


# -- run / worker -----------------------------------------------------------------------------------


def _adapters(settings: Settings, app: BotApp) -> list[PlatformAdapter]:
    adapters: list[PlatformAdapter] = []
    if settings.discord_token is not None:
        from bot.adapters.discord.adapter import DiscordAdapter

        adapters.append(DiscordAdapter(settings, app))
    if settings.telegram_token is not None:
        from bot.adapters.telegram.adapter import (  # type: ignore[import-untyped,unused-ignore]
            TelegramAdapter,
        )

        adapters.append(TelegramAdapter(settings, app))
    return adapters


async def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.bootstrap import BotApp

    if settings.discord_token is None and settings.telegram_token is None:
        print(
            "error: no chat platform configured. Set DISCORD_TOKEN and/or TELEGRAM_TOKEN "
            "(in the environment or in .env).",
            file=sys.stderr,
        )
        return 2
    app = await BotApp.create(settings)
    adapters: list[PlatformAdapter] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        adapters = _adapters(settings, app)
        app.adapters = list(adapters)
        for adapter in adapters:
            app.register(adapter)
            await adapter.start()
            log.info("%s adapter started", adapter.platform)
        await app.start(resume=True, worker=not args.no_worker)
        # Checked where the provider calls are made (here only with the worker in this
        # process; `imaginebot worker` checks its own), in the background: a slow provider
        # must not hold up the start.
        provider_checks = (
            None if args.no_worker else asyncio.create_task(log_provider_checks(settings))
        )
        mode = "embedded queue" if settings.embedded_queue else "Redis queue"
        log.info(
            "imaginebot %s running (%s; providers %s; %s)",
            __version__,
            ", ".join(a.platform for a in adapters),
            ", ".join(settings.providers),
            mode + ("" if args.no_worker else ", with a worker in this process"),
        )
        await stop.wait()
        if provider_checks is not None:
            provider_checks.cancel()
        log.info("stopping")
    finally:
        for adapter in adapters:
            try:
                await adapter.stop()
            except Exception as exc:
                log.warning(
                    "stopping %s adapter failed (%s)",
                    adapter.platform,
                    exc.__class__.__name__,
                    exc_info=log.isEnabledFor(logging.DEBUG),
                )
        await app.close()
    return 0


async def worker(settings: Settings, args: argparse.Namespace) -> int:
    from bot.bootstrap import check_worker_heartbeat, run_worker_process

    if args.check:
        if settings.embedded_queue:
            print(
                "error: REDIS_URL is not set; workers only run with a shared Redis", file=sys.stderr
            )
            return 2
        if await check_worker_heartbeat(settings):
            print("ok: a worker heartbeat is fresh")
            return 0
        print("no fresh worker heartbeat", file=sys.stderr)
        return 1
    provider_checks = asyncio.create_task(log_provider_checks(settings))
    try:
        await run_worker_process(settings)
    finally:
        provider_checks.cancel()
    return 0


# -- small commands ---------------------------------------------------------------------------------


def cells(text: str) -> int:
    """Terminal cells `text` takes: an emoji is two cells whatever its length in code points."""
    width = wcswidth(text)
    return width if width >= 0 else len(text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - cells(text))


def styles_table(catalogue: StyleCatalogue | None = None) -> str:
    catalogue = catalogue or load_catalogue()
    rows = [("id", "name", "description")] + [
        (s.id, f"{s.emoji} {s.name}", s.description) for s in catalogue
    ]
    widths = [max(cells(r[i]) for r in rows) for i in range(2)]
    lines = [f"{pad(r[0], widths[0])}  {pad(r[1], widths[1])}  {r[2]}" for r in rows]
    lines.insert(1, "-" * (widths[0] + widths[1] + 4 + max(cells(r[2]) for r in rows)))
    return "\n".join(lines)


async def check_providers(settings: Settings) -> list[tuple[str, bool, str]]:
    """(provider, ok, detail) for every configured provider, in chain order."""
    from bot.bootstrap import http_client
    from bot.core.providers.base import ImageProvider
    from bot.core.providers.registry import build_providers

    async def one(provider_id: str, provider: ImageProvider) -> tuple[str, bool, str]:
        try:
            check = await provider.check()
        except Exception as exc:  # one broken provider must not hide the others' results
            return provider_id, False, f"check failed: {exc.__class__.__name__}"
        finally:
            await provider.aclose()
        return provider_id, check.ok, check.detail

    async with http_client(settings) as http:
        built = build_providers(settings, http)
        # Side by side: a slow provider's timeout does not add to the others'.
        return list(await asyncio.gather(*(one(p, provider) for p, provider in built.items())))


async def log_provider_checks(settings: Settings) -> None:
    try:
        for provider_id, ok, detail in await check_providers(settings):
            level = logging.INFO if ok else logging.WARNING
            log.log(level, "provider %s: %s (%s)", provider_id, "ok" if ok else "FAILING", detail)
    except Exception:
        log.warning("provider checks failed", exc_info=True)


async def providers(settings: Settings, args: argparse.Namespace) -> int:
    results = await check_providers(settings)
    width = max(len("provider"), *(len(p) for p, _, _ in results))
    print(f"{'provider':<{width}}  status  detail")
    for provider_id, ok, detail in results:
        print(f"{provider_id:<{width}}  {'ok' if ok else 'FAIL':<6}  {detail}")
    return 0 if all(ok for _, ok, _ in results) else 1


async def migrate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.core.store import open_configured_store

    store = await open_configured_store(settings, migrate=False)
    try:
        applied = await store.migrate()
        version = await store.schema_version()
    finally:
        await store.close()
    print(
        f"schema version {version}"
        + (f" (applied {', '.join(map(str, applied))})" if applied else " (up to date)")
    )
    return 0


async def history(settings: Settings, args: argparse.Namespace) -> int:
    from bot.core.store import open_configured_store

    store = await open_configured_store(settings)
    try:
        rows = await store.history(args.platform, args.user or getpass.getuser(), args.limit)
    finally:
        await store.close()
    if not rows:
        print("no requests yet")
        return 0
    for g in rows:
        when = datetime.fromtimestamp(g.created_at, tz=UTC).strftime("%Y-%m-%d %H:%M")
        reason = f"  ({g.failure_reason})" if g.status is Status.FAILED else ""
        print(f"{g.id}  {when}  {g.status.value:<9}  {g.style:<12}  {g.prompt[:60]}{reason}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imaginebot", description="AI images for Discord and Telegram."
    )
    parser.add_argument("--version", action="version", version=f"imaginebot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p_run = sub.add_parser("run", help="run the bot (the adapters whose tokens are set)")
    p_run.add_argument(
        "--no-worker", action="store_true", help="leave generation to `imaginebot worker` processes"
    )
    p_worker = sub.add_parser("worker", help="run a generation worker (needs REDIS_URL)")
    p_worker.add_argument(
        "--check", action="store_true", help="exit non-zero unless a worker heartbeat is fresh"
    )

    p_img = sub.add_parser("imagine", help="generate one image from the command line")
    p_img.add_argument("prompt", help="what to draw, in quotes")
    p_img.add_argument(
        "--style",
        metavar="STYLE",
        help="one of: " + ", ".join(load_catalogue().ids) + " (default: DEFAULT_STYLE)",
    )
    p_img.add_argument(
        "--aspect",
        default="1:1",
        choices=ASPECT_RATIOS,
        help="picture shape, width:height (default: 1:1; what the provider can make)",
    )
    p_img.add_argument("--negative", metavar="TEXT", help="what the picture should not show")
    p_img.add_argument(
        "--seed", type=int, help="a number to make the same picture again (default: random)"
    )
    p_img.add_argument("-o", "--output", help="file to write (default: imaginebot-<id>.png)")

    sub.add_parser("styles", help="list the style catalogue")
    sub.add_parser("providers", help="check every configured image provider")
    sub.add_parser("migrate", help="apply database migrations")
    p_hist = sub.add_parser("history", help="show recent requests")
    p_hist.add_argument("--platform", default="cli", help="cli, discord or telegram")
    p_hist.add_argument("--user", help="user id (default: you, for cli)")
    p_hist.add_argument(
        "--limit", type=int, default=20, help="how many requests to show (default: 20)"
    )
    web_commands.add_parsers(sub)
    p_db = sub.add_parser("db", help="database tools").add_subparsers(
        dest="db", required=True, help="copy: one database into another"
    )
    p_copy = p_db.add_parser("copy", help="copy history and settings into an empty database")
    p_copy.add_argument(
        "--from", dest="source", required=True, help="sqlite:///path or postgresql://..."
    )
    p_copy.add_argument(
        "--to", dest="target", required=True, help="sqlite:///path or postgresql://..."
    )
    p_copy.add_argument("--images-to", help="also copy the image files into this folder")
    return parser


async def db(settings: Settings, args: argparse.Namespace) -> int:
    from bot.core.store.copy import db_command

    return await db_command(settings, args)


COMMANDS = {
    "run": run,
    "worker": worker,
    "imagine": imagine,
    "migrate": migrate,
    "history": history,
    "db": db,
    "providers": providers,
    **web_commands.COMMANDS,
}


SERVICES = ("run", "worker", "web")


def console_level(command: str, level: str) -> str:
    """The long-running services log at LOG_LEVEL; one-shot commands print their own progress
    on stdout and show only warnings on stderr, so INFO lines from libraries never land between
    "queued" and "done". LOG_LEVEL=DEBUG shows everything, for debugging."""
    if command in SERVICES or level == "DEBUG":
        return level
    return "WARNING" if level == "INFO" else level


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status = run_command(args)
        sys.stdout.flush()  # inside the try: with a pipe, the last lines are written here
        return status
    except BrokenPipeError:
        # The reader went away (`imaginebot history | head`): nothing more to say to it.
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def run_command(args: argparse.Namespace) -> int:
    if args.command == "styles":
        print(styles_table())
        return 0
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    from bot.redaction import secret_values

    configure_logging(console_level(args.command, settings.log_level), secret_values(settings))
    started = time.monotonic()
    try:
        return asyncio.run(COMMANDS[args.command](settings, args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        raise
    except Exception as exc:  # start-up failures: one sentence, the traceback only at DEBUG
        status, sentence = explain(exc)
        print(f"error: {sentence}", file=sys.stderr)
        return status
    finally:
        log.debug("%s took %.2fs", args.command, time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main())
