"""Who may see which gallery: a grant names one scope, the viewer, and whether they administer it.

A grant travels twice: in the signed link the bot posts (kind "link", valid GALLERY_LINK_HOURS),
and, once that link is opened, in the session cookie (kind "session", valid SESSION_DAYS, with a
random session id the CSRF token is derived from). A token of one kind is never accepted as the
other, and a grant for one scope never opens another.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from bot.web.signing import BadSignature, Signer

PLATFORMS = ("discord", "telegram", "cli")
SCOPE_ID = re.compile(r"^(dm:)?-?[0-9]{1,24}$")
# `imaginebot imagine` and its follow-ups: one scope, this machine's terminal.
LOCAL_SCOPE = "local"
USER_ID = re.compile(r"^[A-Za-z0-9:_-]{1,64}$")
SESSION_DAYS = 7
LINK = "link"
SESSION = "session"


class InvalidGrant(Exception):
    """A link or cookie that opens nothing; the message is for the log, never for the page."""


@dataclass(frozen=True)
class Grant:
    platform: str
    scope_id: str
    user_id: str | None
    admin: bool
    expires: float
    session_id: str = ""
    # The scope's link generation when the link was made: an earlier one opens nothing
    # (the gallery was switched off since, or its admins revoked every link).
    generation: int = 0

    @property
    def path(self) -> str:
        """The URL path of this scope's gallery (and the session cookie's Path)."""
        return scope_path(self.platform, self.scope_id)

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires


def scope_path(platform: str, scope_id: str) -> str:
    return f"/g/{platform}/{quote(scope_id, safe='')}/"


def valid_scope(platform: str, scope_id: str) -> bool:
    if platform == "cli":
        return scope_id == LOCAL_SCOPE
    return platform in PLATFORMS and bool(SCOPE_ID.match(scope_id))


def make_grant(
    platform: str,
    scope_id: str,
    *,
    user_id: str | None,
    admin: bool,
    hours: float,
    generation: int = 0,
) -> Grant:
    if not valid_scope(platform, scope_id):
        raise ValueError(
            f"{platform}:{scope_id} is not a server, group or direct chat id"
            + (f" (the command line's scope is {LOCAL_SCOPE})" if platform == "cli" else "")
        )
    if user_id is not None and not USER_ID.match(user_id):
        raise ValueError(f"{user_id!r} is not a user id")
    if hours <= 0:
        raise ValueError("a link must be valid for more than 0 hours")
    return Grant(
        platform, scope_id, user_id, admin, time.time() + hours * 3600, generation=generation
    )


def encode(signer: Signer, grant: Grant, kind: str) -> str:
    payload: dict[str, Any] = {
        "k": kind,
        "p": grant.platform,
        "s": grant.scope_id,
        "u": grant.user_id,
        "a": grant.admin,
        "e": round(grant.expires, 3),
        "g": grant.generation,
    }
    if kind == SESSION:
        payload["i"] = grant.session_id
    return signer.sign(payload)


def decode(signer: Signer, token: str, kind: str, now: float | None = None) -> Grant:
    """The grant in an untouched, unexpired token of `kind`; InvalidGrant otherwise."""
    try:
        payload = signer.verify(token)
    except BadSignature as exc:
        raise InvalidGrant(str(exc)) from None
    try:
        grant = Grant(
            platform=str(payload["p"]),
            scope_id=str(payload["s"]),
            user_id=None if payload["u"] is None else str(payload["u"]),
            admin=payload["a"] is True,
            expires=float(payload["e"]),
            session_id=str(payload.get("i", "")),
            generation=payload.get("g", 0),
        )
        token_kind = payload["k"]
    except (KeyError, TypeError, ValueError):
        raise InvalidGrant("malformed payload") from None
    if not isinstance(grant.generation, int) or isinstance(grant.generation, bool):
        raise InvalidGrant("malformed generation")
    if token_kind != kind:
        raise InvalidGrant(f"a {token_kind} token where a {kind} was expected")
    if not valid_scope(grant.platform, grant.scope_id):
        raise InvalidGrant("bad scope")
    if grant.expired(now):
        raise InvalidGrant("expired")
    return grant


def start_session(grant: Grant) -> Grant:
    """The session a link opens: same scope and viewer, a fresh id, SESSION_DAYS long."""
    return replace(
        grant, expires=time.time() + SESSION_DAYS * 86400, session_id=secrets.token_hex(16)
    )


def cookie_name(signer: Signer, platform: str, scope_id: str) -> str:
    """One cookie per scope, its name not revealing the scope."""
    return "g_" + signer.digest("cookie", f"{platform}:{scope_id}")[:16]


def csrf_token(signer: Signer, grant: Grant) -> str:
    return signer.digest("csrf", grant.session_id)
