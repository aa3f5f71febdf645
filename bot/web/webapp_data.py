"""Telegram Mini App `initData`: checked as Telegram documents it, before anyone is believed.

A Mini App opened from a `web_app` button (or a direct link) gets `initData` from the
Telegram client: URL-encoded `key=value` pairs (`user`, `auth_date`, `query_id`,
`start_param`, ... and `hash`). The server checks it (core.telegram.org/bots/webapps,
"Validating data received via the Mini App"):

- the data-check-string is every pair but `hash`, sorted by key, as `key=value` joined by
  line feeds;
- the secret key is HMAC-SHA256 of the bot token with the key "WebAppData";
- `hash` must equal the hex HMAC-SHA256 of the data-check-string under that secret key,
  compared in constant time;
- `auth_date` (Unix seconds) must be recent: older than `max_age` seconds is refused, and so
  is one from the future beyond a small clock skew.

Why not a library: the algorithm is these few lines of the standard library, and the parse
must be total (any string in, a `WebAppUser` or `InitDataRefused` out), which the property
tests in tests/unit/web/test_webapp_data.py check.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

MAX_LENGTH = 8192
CLOCK_SKEW = 60.0


class InitDataRefused(Exception):
    """Not Telegram's, altered, or too old; the message is for the log only."""


@dataclass(frozen=True)
class WebAppUser:
    user_id: str
    name: str
    auth_date: int
    start_param: str | None


def secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode("utf-8"), hashlib.sha256).digest()


def data_check_string(pairs: dict[str, str]) -> str:
    return "\n".join(f"{key}={pairs[key]}" for key in sorted(pairs) if key != "hash")


def sign(pairs: dict[str, str], bot_token: str) -> str:
    """`initData` as Telegram makes it (for the fake Bot API and tests)."""
    digest = hmac.new(
        secret_key(bot_token), data_check_string(pairs).encode("utf-8"), hashlib.sha256
    ).hexdigest()
    return urlencode({**pairs, "hash": digest})


def _pairs(init_data: str) -> dict[str, str]:
    if not init_data or len(init_data) > MAX_LENGTH or not init_data.isascii():
        raise InitDataRefused("empty, too long or not ASCII")
    try:
        items = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InitDataRefused("not URL-encoded pairs") from None
    pairs = dict(items)
    if len(pairs) != len(items):
        raise InitDataRefused("a key given twice")
    return pairs


def _user(pairs: dict[str, str]) -> tuple[str, str]:
    try:
        user = json.loads(pairs["user"])
    except (KeyError, ValueError):
        raise InitDataRefused("no user") from None
    user_id = user.get("id") if isinstance(user, dict) else None
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
        raise InitDataRefused("no user id")
    first, last = user.get("first_name", ""), user.get("last_name", "")
    name = " ".join(str(p) for p in (first, last) if isinstance(p, str) and p)
    return str(user_id), name[:64]


def validate(
    init_data: str, bot_token: str, *, max_age: float, now: float | None = None
) -> WebAppUser:
    """The user `init_data` vouches for; InitDataRefused for anything else."""
    pairs = _pairs(init_data)
    given = pairs.get("hash", "")
    expected = hmac.new(
        secret_key(bot_token), data_check_string(pairs).encode("utf-8"), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(given.encode("ascii"), expected.encode("ascii")):
        raise InitDataRefused("hash does not match")
    auth = pairs.get("auth_date", "")
    if not auth.isdigit() or len(auth) > 12:
        raise InitDataRefused("no auth_date")
    auth_date = int(auth)
    current = time.time() if now is None else now
    if auth_date > current + CLOCK_SKEW or current - auth_date > max_age:
        raise InitDataRefused("auth_date outside the allowed window")
    user_id, name = _user(pairs)
    return WebAppUser(user_id, name, auth_date, pairs.get("start_param"))
