"""Start-up failures told as one plain sentence, then a non-zero exit.

A bad token, a platform or Redis that does not answer, or a wrong setting stops the start.
The operator sees one line naming what to fix, never a traceback (that is logged at DEBUG).
Sentences name the setting, never its value: a token must not reach the terminal.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from bot.settings import ConfigError

log = logging.getLogger(__name__)

# Exit statuses: a setting to change (wrong value, refused token) or something to bring up.
EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 1


class StartupError(Exception):
    """Something the bot needs did not answer at start-up; the message says what to check."""


def host_of(url: str | None, default: str) -> str:
    """`host:port` of a URL for a message (never its path: a Telegram path holds the token)."""
    if not url:
        return default
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2] or default


def explain(exc: BaseException) -> tuple[int, str]:
    """The exit status and the sentence for an exception that ended the start."""
    if isinstance(exc, ConfigError):
        return EXIT_CONFIG, str(exc)
    if isinstance(exc, StartupError):
        return EXIT_UNAVAILABLE, str(exc)
    if isinstance(exc, PermissionError):
        where = f" {exc.filename}" if exc.filename else ""
        return EXIT_CONFIG, (
            f"cannot write{where} (permission denied); set DATA_DIR to a folder this user may write"
        )
    log.debug("start-up failed", exc_info=exc)
    return EXIT_UNAVAILABLE, (
        f"start-up failed ({exc.__class__.__name__}); run with LOG_LEVEL=DEBUG to see where"
    )
