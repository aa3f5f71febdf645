"""The gallery's routes: every page, picture and action under a scope's path (the brush
editor's too), and the one address a Telegram Mini App is registered at; nothing else."""

from __future__ import annotations

from aiohttp import web

from bot.web import actions, editor, media, pages
from bot.web.app import GALLERY, Denied, Gallery, protect
from bot.web.edit_orders import EditorSetup


async def anything_else(_request: web.Request) -> web.StreamResponse:
    """Outside a scope's path nothing is served: no index of scopes, no probing."""
    raise Denied("no such route")


def build_app(gallery: Gallery, edits: EditorSetup | None = None) -> web.Application:
    """The gallery; with `edits` (the bot process's chat desks), the brush editor can queue."""
    app = web.Application(middlewares=[protect], client_max_size=64 * 1024)
    app[GALLERY] = gallery
    if edits is not None:
        app[editor.EDITOR] = edits
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
    picture = base + "edit/{id:[0-9a-f]{1,32}}"
    app.router.add_get(base + "edit/static/{name}", editor.static)
    app.router.add_get(picture, editor.page)
    app.router.add_post(picture, editor.submit)
    app.router.add_get(picture + "/picture/{index:[1-4]}", editor.picture)
    app.router.add_get("/tg/app", editor.start_app)
    app.router.add_route("*", "/{tail:.*}", anything_else)
    return app
