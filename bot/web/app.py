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
from datetime import UTC, datetime
from pathlib import Path

import jinja2
from aiohttp import web

from bot.core.requests.styles import StyleCatalogue
from bot.web import grants
from bot.web.grants import Grant, InvalidGrant
from bot.web.queries import BadCursor, GalleryStore
from bot.web.signing import Signer
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
    templates: jinja2.Environment = field(init=False)

    def __post_init__(self) -> None:
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,  # every template, whatever its name: user text is never markup
            undefined=jinja2.StrictUndefined,
        )
        self.templates.filters["when"] = lambda ts: datetime.fromtimestamp(ts, UTC).strftime(
            "%Y-%m-%d %H:%M UTC"
        )

    def render(self, template: str, status: int = 200, **context: object) -> web.Response:
        html = self.templates.get_template(template).render(**context)
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


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
    """Security headers on every answer; Denied and Missing become plain pages."""
    gallery = gallery_of(request)
    try:
        response = await handler(request)
    except Denied as exc:
        log.info("refused %s %s: %s", request.method, request.path, exc)
        response = gallery.render("error.html", 403, title="Not allowed", code=403)
    except (Missing, web.HTTPNotFound):
        response = gallery.render("error.html", 404, title="Not found", code=404)
    except web.HTTPMethodNotAllowed:
        response = gallery.render("error.html", 405, title="Not allowed", code=405)
    except BadCursor:
        response = gallery.render("error.html", 400, title="Bad request", code=400)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = gallery.render("error.html", exc.status, title=exc.reason, code=exc.status)
    except Exception:  # a defect: still a page with the headers, and the trace in the log
        log.exception("%s %s failed", request.method, request.path)
        response = gallery.render("error.html", 500, title="Something went wrong", code=500)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")
    return response
