"""The gallery's two changes: a user deletes their own picture, an admin hides (or shows) one.

Each is a POST form carrying the CSRF token derived from the session; the cookie alone (which
the browser attaches by itself) never suffices.
"""

from __future__ import annotations

import hmac
import logging
from contextlib import suppress

from aiohttp import web

from bot.core.images.files import ImageFiles
from bot.web import grants
from bot.web.app import Denied, Gallery, Missing, gallery_of, see_other, session_of
from bot.web.grants import Grant

log = logging.getLogger(__name__)


async def _checked(request: web.Request) -> tuple[Gallery, Grant, str]:
    grant = await session_of(request)
    gallery = gallery_of(request)
    form = await request.post()
    sent = form.get("csrf")
    expected = grants.csrf_token(gallery.signer, grant)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise Denied("missing or wrong CSRF token")
    return gallery, grant, request.match_info["id"]


async def delete(request: web.Request) -> web.StreamResponse:
    gallery, grant, generation_id = await _checked(request)
    if grant.user_id is None:
        raise Denied("an anonymous session deletes nothing")
    item = await gallery.store.delete_own(
        grant.platform, grant.scope_id, generation_id, grant.user_id
    )
    if item is None:
        # Not here, or not theirs: the same answer, so ids of others' pictures are not probed.
        raise Missing
    gallery.thumbnails.remove(item.id)
    # The picture and every other file of its request (each image of a grid, the input).
    with suppress(FileNotFoundError, ValueError):
        ImageFiles(gallery.images_dir).remove(str(gallery.images_dir / item.image_name))
    log.info("gallery: %s:%s deleted %s", grant.platform, grant.user_id, item.id)
    return see_other(grant.path)


async def _set_hidden(request: web.Request, hidden: bool) -> web.StreamResponse:
    gallery, grant, generation_id = await _checked(request)
    if not grant.admin:
        raise Denied("only admins hide pictures")
    if not await gallery.store.set_hidden(grant.platform, grant.scope_id, generation_id, hidden):
        raise Missing
    log.info("gallery: admin %s set %s hidden=%s", grant.user_id, generation_id, hidden)
    return see_other(f"{grant.path}i/{generation_id}")


async def hide(request: web.Request) -> web.StreamResponse:
    return await _set_hidden(request, True)


async def unhide(request: web.Request) -> web.StreamResponse:
    return await _set_hidden(request, False)
