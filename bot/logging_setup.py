"""The one place logging is set up: format, levels, and the filter that masks secrets."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from types import TracebackType

log = logging.getLogger("bot.cli")

# The long-running services; every other command is a one-shot that prints its own progress.
SERVICES = ("run", "worker", "web")


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Format, levels, and the filter that masks secrets (the configured ones and anything
    shaped like a token) on every handler. Uncaught exceptions and warnings go through
    logging too, so they pass the same filter."""
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


def console_level(command: str, level: str) -> str:
    """The long-running services log at LOG_LEVEL; one-shot commands print their own progress
    on stdout and show only warnings on stderr, so INFO lines from libraries never land between
    "queued" and "done". LOG_LEVEL=DEBUG shows everything, for debugging."""
    if command in SERVICES or level == "DEBUG":
        return level
    return "WARNING" if level == "INFO" else level
