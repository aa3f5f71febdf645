"""Pictures, thumbnails and the two static files, each only with a session for its scope."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from bot.web.app import HERE, Missing, gallery_of, session_of
from bot.web.queries import GalleryItem

_IMAGE_NAME = re.compile(r"^[0-9a-f]{1,64}\.(png|jpg|webp)$")
_ORIGINAL_NAME = re.compile(r"^[0-9a-f]{1,64}-[1-4]\.(png|jpg|webp)$")
_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
STATIC = {
    "gallery.css": "text/css",
    "gallery.js": "text/javascript",
    "icon.svg": "image/svg+xml",
}
# Pictures may change (hidden, deleted): the browser asks again each time, and gets a 304
# from the ETag while the file is unchanged and the session still allows it.
REVALIDATE = "private, no-cache"


async def _item(request: web.Request) -> tuple[GalleryItem, Path]:
    grant = await session_of(request)
    gallery = gallery_of(request)
    item = await gallery.store.item(
        grant.platform, grant.scope_id, request.match_info["id"], include_hidden=grant.admin
    )
    if item is None or not _IMAGE_NAME.match(item.image_name):
        raise Missing
    # By name under this process's IMAGES directory: the web process may run on another
    # machine, with the images on a shared volume mounted elsewhere.
    path = gallery.images_dir / item.image_name
    if not path.is_file():
        raise Missing
    return item, path


async def image(request: web.Request) -> web.StreamResponse:
    item, path = await _item(request)
    extension = path.suffix.lstrip(".")
    headers = {"Content-Type": _TYPES[extension], "Cache-Control": REVALIDATE}
    if request.query.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="imaginebot-{item.id}.{extension}"'
    return web.FileResponse(path, headers=headers)


async def original(request: web.Request) -> web.StreamResponse:
    """Picture K of a request that made several, as stored (the item's own image is the grid);
    only where its item may be seen."""
    item, _grid = await _item(request)
    gallery = gallery_of(request)
    wanted = request.match_info["index"]
    found = [o for o in await gallery.store.originals(item.id) if str(o.index) == wanted]
    if not found or not _ORIGINAL_NAME.match(found[0].image_name):
        raise Missing
    path = gallery.images_dir / found[0].image_name
    if not path.is_file():
        raise Missing
    extension = path.suffix.lstrip(".")
    headers = {"Content-Type": _TYPES[extension], "Cache-Control": REVALIDATE}
    if request.query.get("download"):
        name = f"imaginebot-{item.id}-{wanted}.{extension}"
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return web.FileResponse(path, headers=headers)


async def thumbnail(request: web.Request) -> web.StreamResponse:
    item, path = await _item(request)
    try:
        thumb = await gallery_of(request).thumbnails.get(item.id, path)
    except OSError:
        raise Missing from None
    return web.FileResponse(
        thumb, headers={"Content-Type": "image/webp", "Cache-Control": REVALIDATE}
    )


_PREVIEW_NAME = re.compile(r"^[0-9a-f]{16}\.jpg$")


async def style_preview(request: web.Request) -> web.StreamResponse:
    """The preview grid of one of the scope's own visible styles."""
    grant = await session_of(request)
    gallery = gallery_of(request)
    wanted = request.match_info["style"]
    found = [
        s
        for s in await gallery.store.scope_styles(grant.platform, grant.scope_id)
        if s.id == wanted
    ]
    name = found[0].preview if found else None
    if name is None or not _PREVIEW_NAME.match(name):
        raise Missing
    path = gallery.images_dir / name
    if not path.is_file():
        raise Missing
    return web.FileResponse(
        path, headers={"Content-Type": "image/jpeg", "Cache-Control": REVALIDATE}
    )


async def static(request: web.Request) -> web.StreamResponse:
    await session_of(request)
    name = request.match_info["name"]
    if name not in STATIC:
        raise Missing
    return web.FileResponse(
        HERE / "static" / name,
        headers={"Content-Type": STATIC[name], "Cache-Control": "private, max-age=3600"},
    )
