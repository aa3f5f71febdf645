"""The gallery's aiohttp application: security headers, sessions, error pages (routes in
bot/web/routes.py).

Every route lives under a scope's path `/g/<platform>/<scope>/`, and every gallery route needs
the session cookie for that scope (its Path is the scope's path, so a browser sends it nowhere
else); without it the answer is a plain 403 page. Rows of another scope are 404: queries name
the scope, so an id from elsewhere finds nothing. The brush editor's routes (`edit/...`,
bot/web/editor.py) take a signed editor link instead of the cookie, and `/tg/app` (a Telegram
Mini App's registered address) only forwards to them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from bot.core.language import Text
from bot.core.requests.styles import StyleCatalogue
from bot.web import grants, visitor
from bot.web.grants import Grant, InvalidGrant
from bot.web.queries import BadCursor, GalleryStore
from bot.web.signing import Signer
from bot.web.templating import Templates
from bot.web.thumbnails import Thumbnails

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
PAGE_SIZE = 60
CSP = (
    "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@dataclass
class Gallery:
    """What the handlers share: the store, the signer, the caches and the catalogue."""

    store: GalleryStore
    signer: Signer
    thumbnails: Thumbnails
    images_dir: Path
    styles: StyleCatalogue
    secure_cookies: bool = False
    templates: Templates = field(init=False)

    def __post_init__(self) -> None:
        self.templates = Templates(HERE / "templates")

    def render(
        self, request: web.Request, template: str, status: int = 200, **context: object
    ) -> web.Response:
        """`template` in the visitor's language (bot/web/visitor.py), with the links to the
        page in each other language."""
        html = self.templates.render(
            template,
            visitor.locale_of(request),
            languages=visitor.language_links(request),
            **context,
        )
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

    def translate(self, request: web.Request, message: str) -> str:
        return self.templates.translate(message, visitor.locale_of(request))

    def say(self, request: web.Request, text: Text) -> str:
        """A `Text` from the Python side (an editor's answer) in the visitor's language."""
        return self.templates.say(text, visitor.locale_of(request))


GALLERY = web.AppKey("gallery", Gallery)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Denied(Exception):
    """Answered with the plain 403 page; the reason goes to the log only."""


class Missing(Exception):
    """Answered with the plain 404 page."""


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def gallery_of(request: web.Request) -> Gallery:
    return request.app[GALLERY]


def scope_of(request: web.Request) -> tuple[str, str]:
    platform, scope_id = request.match_info["platform"], request.match_info["scope"]
    if not grants.valid_scope(platform, scope_id):
        raise Denied("not a scope")
    return platform, scope_id


async def session_of(request: web.Request) -> Grant:
    """The viewer's grant for the scope in the URL, or Denied."""
    gallery = gallery_of(request)
    platform, scope_id = scope_of(request)
    cookie = request.cookies.get(grants.cookie_name(gallery.signer, platform, scope_id))
    if not cookie:
        raise Denied("no session")
    try:
        grant = grants.decode(gallery.signer, cookie, grants.SESSION)
    except InvalidGrant as exc:
        raise Denied(f"session refused: {exc}") from None
    if (grant.platform, grant.scope_id) != (platform, scope_id):
        raise Denied("session of another scope")
    current = await gallery.store.gallery_generation(platform, scope_id)
    if current is None:
        raise Denied("gallery switched off")
    if grant.generation != current:
        raise Denied("session of an earlier generation (switched off since, or revoked)")
    return grant


@web.middleware
async def protect(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers on every answer; Denied and Missing become plain pages (worded by
    error.html from the status, in the visitor's language); a language picked with a link
    is remembered."""
    gallery = gallery_of(request)
    try:
        response = await handler(request)
    except Denied as exc:
        log.info("refused %s %s: %s", request.method, request.path, exc)
        response = gallery.render(request, "error.html", 403, code=403)
    except (Missing, web.HTTPNotFound):
        response = gallery.render(request, "error.html", 404, code=404)
    except web.HTTPMethodNotAllowed:
        response = gallery.render(request, "error.html", 405, code=405)
    except BadCursor:
        response = gallery.render(request, "error.html", 400, code=400)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = gallery.render(request, "error.html", exc.status, code=exc.status)
    except Exception:  # a defect: still a page with the headers, and the trace in the log
        log.exception("%s %s failed", request.method, request.path)
        response = gallery.render(request, "error.html", 500, code=500)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")
    visitor.remember(request, response, secure=gallery.secure_cookies)
    return response
