"""The `imaginebot` command: argument parsing, then a call into the part that does the work.

What each process is built from lives in bot/bootstrap.py; what the one-shot commands print,
in bot/cli_output.py; `imaginebot imagine`, in bot/cli_imagine.py.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from bot import __version__, cli_edits, cli_styles
from bot.cli_output import styles_table
from bot.core.models import (
    ASPECT_RATIOS,
    DEFAULT_STRENGTH,
    MAX_COUNT,
    MAX_SEED,
    MAX_STYLE_REFERENCES,
    ImagineCommand,
)
from bot.core.requests.styles import load_catalogue
from bot.logging_setup import configure_logging, console_level
from bot.settings import ConfigError, Settings, load_settings
from bot.startup import EXIT_CONFIG, explain
from bot.web import commands as web_commands

# httpx tries to import its command-line client (click and pygments, about 1.2 MB resident in
# every bot and worker process) and falls back to a stub when that import fails. Nothing here
# runs httpx's CLI: make the import fail at once. Only done before httpx is first imported.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

log = logging.getLogger("bot.cli")

Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]


async def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.bootstrap import BotApp

    app = await BotApp.create(settings, chat=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await app.serve(stop, worker=not args.no_worker)
    return 0


async def worker(settings: Settings, args: argparse.Namespace) -> int:
    from bot.bootstrap import run_worker_process
    from bot.provider_checks import log_provider_checks
    from bot.worker_supervisor import check_worker_heartbeat

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


async def imagine(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli_imagine import imagine, read_picture

    named = ""
    try:
        named = args.image or ""
        picture = read_picture(Path(args.image), settings) if args.image else None
        references = []
        for named in args.style_ref or ():
            references.append(read_picture(Path(named), settings))
    except OSError as exc:
        print(f"error: cannot read {named}: {exc.strerror}", file=sys.stderr)
        return EXIT_CONFIG
    # Aspect and count only when given: else the style's defaults (then 1:1, one picture).
    shape = {k: getattr(args, k) for k in ("aspect", "count") if getattr(args, k) is not None}
    command = ImagineCommand(
        prompt=args.prompt,
        style=args.style,
        negative_prompt=args.negative,
        seed=args.seed,
        image=picture,
        style_references=tuple(references),
        **shape,
        # Unset: the command's own default.
        **({"strength": args.strength} if args.strength is not None else {}),
    )
    output = Path(args.output) if args.output else None
    return await imagine(settings, command, output, scope=args.scope)


async def follow_up(settings: Settings, args: argparse.Namespace) -> int:
    """`upscale` and `vary`: image K of an earlier request (see `imaginebot history`)."""
    from bot.cli_follow_ups import follow_up

    output = Path(args.output) if args.output else None
    return await follow_up(settings, args.command, args.generation_id, args.index, output)


async def describe(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli_follow_ups import describe

    return await describe(settings, Path(args.file))


async def providers(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli_output import capabilities_table, providers_table
    from bot.core.generation.providers.chain import capability_rows
    from bot.provider_checks import capabilities_of, check_providers

    results = await check_providers(settings)
    print(providers_table(results))
    # What each can do, so an operator sees why a request is refused or a button missing.
    print()
    print(capabilities_table(capability_rows(await capabilities_of(settings))))
    return 0 if all(ok for _, ok, _ in results) else 1


async def migrate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli_output import schema_line
    from bot.core.store import open_configured_store

    store = await open_configured_store(settings, migrate=False)
    try:
        applied = await store.migrate()
        version = await store.schema_version()
    finally:
        await store.close()
    print(schema_line(version, applied))
    return 0


async def history(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli_output import history_lines
    from bot.core.store import open_configured_store

    store = await open_configured_store(settings)
    try:
        rows = await store.latest(args.limit, platform=args.platform, user_id=args.user)
    finally:
        await store.close()
    print(history_lines(rows))
    return 0


def strength(text: str) -> float:
    value = float(text)
    if not 0.1 <= value <= 1.0:
        raise argparse.ArgumentTypeError("the strength is 0.1 to 1.0")
    return value


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer from `low` to `high`, refused by the parser (exit 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"use a number from {low} to {high}")
        return value

    return parse


def check_combinations(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """What argparse cannot say per option: --strength means nothing without --image."""
    if args.command == "imagine" and args.strength is not None and not args.image:
        parser.error("--strength goes with --image (how far the result may move from it)")
    if args.command == "imagine" and len(args.style_ref or ()) > MAX_STYLE_REFERENCES:
        parser.error(f"--style-ref: at most {MAX_STYLE_REFERENCES} pictures")


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

    add_imagine_parser(sub)
    add_follow_up_parsers(sub)
    p_describe = sub.add_parser("describe", help="prompt suggestions for a picture")
    p_describe.add_argument("file", help="a PNG, JPEG, WebP or GIF")

    cli_styles.add_parser(sub)
    sub.add_parser("providers", help="check every configured image provider")
    sub.add_parser("migrate", help="apply database migrations")
    add_history_parser(sub)
    cli_edits.add_parsers(sub)
    web_commands.add_parsers(sub)
    add_db_parser(sub)
    return parser


def add_imagine_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p_img = sub.add_parser("imagine", help="generate one image from the command line")
    p_img.add_argument("prompt", help="what to draw, in quotes")
    p_img.add_argument(
        "--style",
        metavar="STYLE",
        help="one of: "
        + ", ".join(load_catalogue().ids)
        + " (default: DEFAULT_STYLE); or a style of --scope by name, or any community's #CODE",
    )
    p_img.add_argument(
        "--aspect",
        choices=ASPECT_RATIOS,
        help="picture shape, width:height (default: the style's, else 1:1; made at a "
        "provider's nearest size and cropped when it cannot make it)",
    )
    p_img.add_argument("--negative", metavar="TEXT", help="what the picture should not show")
    p_img.add_argument(
        "--seed",
        type=whole_number(0, MAX_SEED),
        help=f"0-{MAX_SEED}: a number to make the same picture again (default: random)",
    )
    p_img.add_argument(
        "--count",
        type=int,
        choices=range(1, MAX_COUNT + 1),
        metavar="N",
        help="pictures to make, 1-4 (default: the style's, else 1): a grid to FILE and each "
        "original to FILE-1 ... FILE-N",
    )
    p_img.add_argument("--image", metavar="FILE", help="start from this picture")
    p_img.add_argument(
        "--strength",
        type=strength,
        help=f"with --image: how far the result may move from it, 0.1-1.0 (default: {DEFAULT_STRENGTH:g})",
    )
    p_img.add_argument(
        "--style-ref",
        action="append",
        metavar="FILE",
        help=f"a picture of the look to follow (repeat for up to {MAX_STYLE_REFERENCES})",
    )
    p_img.add_argument("-o", "--output", help="file to write (default: out/imaginebot-<id>.png)")
    p_img.add_argument(
        "--scope",
        type=cli_styles.scope_arg,
        metavar="PLATFORM:ID",
        help="make it as in this server or group: its styles (by name), settings and limits "
        "(default: the command line's own, cli:local)",
    )


def add_follow_up_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, what in (("upscale", "upscale"), ("vary", "make variations of")):
        p_follow = sub.add_parser(name, help=f"{what} image K of an earlier request")
        p_follow.add_argument("generation_id", help="the request's id (see `imaginebot history`)")
        p_follow.add_argument(
            "--index",
            type=int,
            default=1,
            choices=range(1, MAX_COUNT + 1),
            metavar="K",
            help="which image, 1-4, as numbered on the grid (default: 1)",
        )
        p_follow.add_argument(
            "-o", "--output", help="file to write (default: out/imaginebot-<id>.png)"
        )


def add_history_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p_hist = sub.add_parser("history", help="show the latest requests, of every platform")
    p_hist.add_argument(
        "--platform", choices=("cli", "discord", "telegram"), help="only this platform's requests"
    )
    p_hist.add_argument("--user", help="only this user's requests (a user id; for cli, a login)")
    p_hist.add_argument(
        "--limit",
        type=whole_number(1, 1000),
        default=20,
        help="how many requests to show, 1-1000 (default: 20)",
    )


def add_db_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


async def db(settings: Settings, args: argparse.Namespace) -> int:
    from bot.core.store.copy import db_command

    return await db_command(settings, args)


COMMANDS: dict[str, Command] = {
    "run": run,
    "worker": worker,
    "imagine": imagine,
    "upscale": follow_up,
    "vary": follow_up,
    "describe": describe,
    "migrate": migrate,
    "history": history,
    "db": db,
    "providers": providers,
    "styles": cli_styles.styles,
    **cli_edits.COMMANDS,
    **web_commands.COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_combinations(parser, args)
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
    if args.command == "styles" and args.styles_action is None:
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
