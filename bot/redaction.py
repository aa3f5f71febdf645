"""Secrets never reach the log output: a filter on every log handler rewrites each record.

Libraries log what they like: python-telegram-bot's errors quote the bot token ("The token
`...` was rejected by the server"), URLs of the Bot API contain it, and discord.py's
`discord.webhook` logger prints interaction URLs (whose last part is the interaction token)
at DEBUG. Rather than hunt down each logger, the filter sits on the handlers, so every record
from every logger is cleaned just before it is written, tracebacks included. It knows the
configured secrets (every SecretStr setting) and the shapes tokens have even when they are
not ours (a token pasted into a prompt, a key of another service in an error message).
"""

from __future__ import annotations

import logging
import re
import weakref
from collections.abc import Iterable

from pydantic import SecretStr

from bot.settings import Settings

MASK = "[redacted]"
# Shorter configured values are not treated as secrets: too likely to occur by chance.
MIN_SECRET_CHARS = 8

TOKEN_SHAPES = (
    # Telegram bot tokens: the bot id, a colon, 35 characters (they start with "AA").
    re.compile(r"(?<!\d)\d{6,12}:[A-Za-z0-9_-]{30,}"),  # also inside /bot<token>/
    # Discord bot tokens: base64 user id . timestamp . HMAC.
    re.compile(r"\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}"),
    # OpenAI-style API keys (sk-..., sk-proj-...).
    re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),
    # Discord interaction tokens: base64 of "interaction:..." (delivery handles hold them).
    re.compile(r"\baW50ZXJhY3Rpb2[A-Za-z0-9_-]{20,}"),
)
# A value stored under a secret-sounding key, in JSON or a repr: "token": "...", 'secret': '...'.
KEYED = re.compile(
    r"""(["']?\w*(?:token|secret|api_key|password)["']?\s*[:=]\s*["'])[^"']+""", re.IGNORECASE
)
# Interaction and webhook tokens are the path segment after the application or interaction
# id: /webhooks/<id>/<token>, /interactions/<id>/<token>/callback.
URL_TOKEN = re.compile(r"(/(?:webhooks|interactions)/\d+/)[^/\s?#'\"]+")

_filters: weakref.WeakSet[RedactingFilter] = weakref.WeakSet()


def secret_values(settings: Settings) -> list[str]:
    """Every SecretStr setting that is set and differs from its default (a default such as
    the AI Horde's anonymous key is public), and a Telegram token's part after the colon."""
    values: list[str] = []
    for name, field in type(settings).model_fields.items():
        value = getattr(settings, name)
        if not isinstance(value, SecretStr) or value == field.default:
            continue
        secret = value.get_secret_value()
        values.append(secret)
        if ":" in secret:
            values.append(secret.split(":", 1)[1])
    return values


def _mask(_match: re.Match[str]) -> str:
    return MASK


def _mask_after_prefix(match: re.Match[str]) -> str:
    return match.group(1) + MASK


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    # Replacement functions, not templates: a template is compiled on first use, which
    # fails for records logged while the interpreter shuts down.
    for secret in sorted(secrets, key=len, reverse=True):  # longest first: whole tokens
        text = text.replace(secret, MASK)
    for shape in TOKEN_SHAPES:
        text = shape.sub(_mask, text)
    text = KEYED.sub(_mask_after_prefix, text)
    return URL_TOKEN.sub(_mask_after_prefix, text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message, arguments and traceback with the secrets masked."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = {s for s in secrets if len(s) >= MIN_SECRET_CHARS}
        self._formatter = logging.Formatter()
        _filters.add(self)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            self._clean(record)
        except Exception:
            return False  # a line that cannot be cleaned is dropped, never written raw
        return True

    def _clean(self, record: logging.LogRecord) -> None:
        message = redact(record.getMessage(), self.secrets)
        record.msg, record.args = message, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)


def remember(secret: str) -> None:
    """A secret made at run time (a generated webhook secret): masked from now on."""
    if len(secret) >= MIN_SECRET_CHARS:
        for installed in list(_filters):
            installed.secrets.add(secret)


def install(secrets: Iterable[str], handlers: Iterable[logging.Handler]) -> RedactingFilter:
    """One filter, shared by the given handlers (the root logger's, in practice)."""
    redacting = RedactingFilter(secrets)
    for handler in handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(redacting)
    return redacting
