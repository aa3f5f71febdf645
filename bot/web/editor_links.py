"""Signed, one-time links to the brush editor: each names one picture (a generation of one
scope), the person it is for, and when it stops opening.

An editor link is the gallery's signed token (bot/web/signing.py) of kind "edit", so it can
never be taken for a gallery link or a session cookie, nor they for it. Its payload: the
platform and scope, the generation id, the user id, whether that person administers the
scope, the expiry, a random nonce (the link's identity: its use is stored under it, so a
link works once, bot/web/queries.py `claim_editor_link`), and, for Discord, where the
result may be posted (the route decided from the press's `app_permissions`).

Telegram's direct Mini App links (`t.me/<bot>/<app>?startapp=<param>`) allow only
`A-Za-z0-9_-` and 512 characters in the parameter: `as_start_param` turns a token into that
form (the body and the fixed-length MAC side by side, without the dot) and `from_start_param`
back.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from bot.core.models import MAX_COUNT
from bot.web.grants import USER_ID, valid_scope
from bot.web.signing import BadSignature, Signer

KIND = "edit"
GENERATION_ID = re.compile(r"^[0-9a-f]{1,32}$")
NONCE = re.compile(r"^[0-9a-f]{32}$")
ROUTES = ("channel", "dm")
MAC_CHARS = 43  # base64url of a 32-byte HMAC-SHA256, unpadded
START_PARAM = re.compile(r"^[A-Za-z0-9_-]{44,512}$")


class LinkRefused(Exception):
    """A link that opens nothing; the message is for the log, never for the page."""


@dataclass(frozen=True)
class EditorLink:
    platform: str
    scope_id: str
    generation_id: str
    user_id: str
    admin: bool
    expires: float
    nonce: str = field(default_factory=lambda: secrets.token_hex(16))
    # Discord: where the result goes when no interaction token can carry it ("channel" or
    # "dm"), the server's upload limit, and the permissions missing in the channel.
    route: str | None = None
    channel_limit: int | None = None
    # Telegram: opened as a Mini App (a `web_app` button, or a startapp link): the submit
    # must carry initData that Telegram signed, and the person is the one it names.
    webapp: bool = False

    @property
    def scope_path(self) -> str:
        return f"/g/{self.platform}/{quote(self.scope_id, safe='')}/"

    @property
    def path(self) -> str:
        """The editor's page for this link (the token goes in `?t=`)."""
        return f"{self.scope_path}edit/{self.generation_id}"

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires


def make_link(
    platform: str,
    scope_id: str,
    generation_id: str,
    *,
    user_id: str,
    admin: bool,
    minutes: float,
    route: str | None = None,
    channel_limit: int | None = None,
    webapp: bool = False,
) -> EditorLink:
    if platform not in ("discord", "telegram") or not valid_scope(platform, scope_id):
        raise ValueError(f"{platform}:{scope_id} is not a server, group or direct chat")
    if not GENERATION_ID.match(generation_id) or not USER_ID.match(user_id):
        raise ValueError("not a generation id or a user id")
    if minutes <= 0:
        raise ValueError("an editor link must be valid for more than 0 minutes")
    if route is not None and route not in ROUTES:
        raise ValueError(f"unknown route {route!r}")
    return EditorLink(
        platform,
        scope_id,
        generation_id,
        user_id,
        admin,
        round(time.time() + minutes * 60, 3),
        route=route,
        channel_limit=channel_limit,
        webapp=webapp,
    )


def encode(signer: Signer, link: EditorLink) -> str:
    payload: dict[str, Any] = {
        "k": KIND,
        "p": link.platform,
        "s": link.scope_id,
        "g": link.generation_id,
        "u": link.user_id,
        "a": link.admin,
        "e": round(link.expires, 3),
        "n": link.nonce,
    }
    if link.route is not None:
        payload["r"] = link.route
    if link.channel_limit is not None:
        payload["l"] = link.channel_limit
    if link.webapp:
        payload["w"] = True
    return signer.sign(payload)


def _checked(payload: dict[str, Any]) -> EditorLink:
    route, limit, webapp = payload.get("r"), payload.get("l"), payload.get("w", False)
    expires = payload["e"]
    fields = (payload["p"], payload["s"], payload["g"], payload["u"], payload["n"])
    if not all(isinstance(f, str) for f in fields) or payload["a"] not in (True, False):
        raise LinkRefused("malformed payload")
    if not isinstance(expires, int | float) or isinstance(expires, bool):
        raise LinkRefused("malformed expiry")
    if route is not None and route not in ROUTES:
        raise LinkRefused("malformed route")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise LinkRefused("malformed limit")
    if webapp not in (True, False):
        raise LinkRefused("malformed webapp")
    link = EditorLink(*fields[:4], payload["a"], float(expires), fields[4], route, limit, webapp)
    if link.platform not in ("discord", "telegram") or not valid_scope(
        link.platform, link.scope_id
    ):
        raise LinkRefused("bad scope")
    if not GENERATION_ID.match(link.generation_id) or not USER_ID.match(link.user_id):
        raise LinkRefused("bad generation or user")
    if not NONCE.match(link.nonce):
        raise LinkRefused("bad nonce")
    return link


def decode(signer: Signer, token: str, now: float | None = None) -> EditorLink:
    """The link in an untouched, unexpired editor token; LinkRefused for anything else."""
    try:
        payload = signer.verify(token)
    except BadSignature as exc:
        raise LinkRefused(str(exc)) from None
    if payload.get("k") != KIND:
        raise LinkRefused(f"a {payload.get('k')!r} token where an editor link was expected")
    try:
        link = _checked(payload)
    except KeyError:
        raise LinkRefused("malformed payload") from None
    if link.expired(now):
        raise LinkRefused("expired")
    return link


def as_start_param(token: str) -> str:
    """The token as a Mini App start parameter (`A-Za-z0-9_-`, no dot)."""
    body, _, mac = token.partition(".")
    assert len(mac) == MAC_CHARS, "a token of this module's signer"
    param = body + mac
    if not START_PARAM.match(param):
        raise ValueError("the token is too long for a start parameter")
    return param


def from_start_param(param: str) -> str | None:
    """The token back from a start parameter; None for anything not one."""
    if not START_PARAM.match(param):
        return None
    return f"{param[:-MAC_CHARS]}.{param[-MAC_CHARS:]}"


def valid_index(text: str | None, count: int) -> int | None:
    """Which picture of the request (1..count, count at most MAX_COUNT); None otherwise."""
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 1:
        return None
    index = int(text)
    return index if 1 <= index <= min(count, MAX_COUNT) else None
