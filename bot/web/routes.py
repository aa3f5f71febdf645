"""The gallery's routes: every page, picture and action under a scope's path, nothing else."""

from __future__ import annotations

from aiohttp import web

from bot.web import actions, media, pages
from bot.web.app import GALLERY, Denied, Gallery, protect


async def anything_else(_request: web.Request) -> web.StreamResponse:
    """Outside a scope's path nothing is served: no index of scopes, no probing."""
    raise Denied("no such route")


def build_app(gallery: Gallery) -> web.Application:
    app = web.Application(middlewares=[protect], client_max_size=64 * 1024)
    app[GALLERY] = gallery
    base = "/g/{platform}/{scope}/"
    app.router.add_get(base + "enter", pages.enter)
    app.router.add_get(base, pages.index)
    app.router.add_get(base + "more", pages.more)
    app.router.add_get(base + "i/{id}", pages.detail)
    app.router.add_get(base + "i/{id}/image", media.image)
    app.router.add_get(base + "i/{id}/original/{index:[1-4]}", media.original)
    app.router.add_get(base + "i/{id}/thumb.webp", media.thumbnail)
    app.router.add_get(base + "style/{style:[a-z0-9-]{1,32}}/preview.jpg", media.style_preview)
    app.router.add_get(base + "static/{name}", media.static)
    app.router.add_post(base + "i/{id}/delete", actions.delete)
    app.router.add_post(base + "i/{id}/hide", actions.hide)
    app.router.add_post(base + "i/{id}/unhide", actions.unhide)
    app.router.add_route("*", "/{tail:.*}", anything_else)
    return app
