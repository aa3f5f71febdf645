"""The gallery's HTML: opening a link, the grid (and its "load more" pages), the detail view."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from aiohttp import web

from bot.core.language import Text
from bot.web import grants
from bot.web.app import PAGE_SIZE, Denied, Missing, gallery_of, scope_of, see_other, session_of
from bot.web.grants import Grant, InvalidGrant
from bot.web.queries import Filters, Page, StyleOption

MAX_TEXT = 200
HOW_TO = {
    "discord": Text(
        "Type /imagine in a channel of this server, with a prompt, to make the first one."
    ),
    "telegram": Text("Send /imagine followed by a prompt in this chat to make the first one."),
    "cli": Text('Run imaginebot imagine "a prompt" on the bot\'s machine to make the first one.'),
}


async def enter(request: web.Request) -> web.StreamResponse:
    """A signed link: check it, set the scope's session cookie, go to the gallery."""
    gallery = gallery_of(request)
    platform, scope_id = scope_of(request)
    try:
        link = grants.decode(gallery.signer, request.query.get("t", ""), grants.LINK)
    except InvalidGrant as exc:
        raise Denied(f"link refused: {exc}") from None
    if (link.platform, link.scope_id) != (platform, scope_id):
        raise Denied("link of another scope")
    current = await gallery.store.gallery_generation(platform, scope_id)
    if current is None:
        raise Denied("gallery switched off")
    if link.generation != current:
        raise Denied("link of an earlier generation (switched off since, or revoked)")
    session = grants.start_session(link)
    response = see_other(session.path)  # the token leaves the address bar
    response.set_cookie(
        grants.cookie_name(gallery.signer, platform, scope_id),
        grants.encode(gallery.signer, session, grants.SESSION),
        path=session.path,
        max_age=int(session.expires - time.time()),
        httponly=True,
        samesite="Lax",
        secure=gallery.secure_cookies,
    )
    return response


async def style_options(request: web.Request, grant: Grant) -> list[StyleOption]:
    """The built-in styles (named in the visitor's language) and the scope's own visible
    ones, for the filter."""
    gallery = gallery_of(request)
    builtin = [
        StyleOption(s.id, f"{s.emoji} {gallery.translate(request, s.name)}", builtin=True)
        for s in gallery.styles
    ]
    return builtin + await gallery.store.scope_styles(grant.platform, grant.scope_id)


def filters_of(request: web.Request, grant: Grant, styles: list[StyleOption]) -> Filters:
    query = request.query
    style = query.get("style") or None
    user = query.get("user") or None
    if user is not None and not grants.USER_ID.match(user):
        user = None
    return Filters(
        style=style if style in {s.id for s in styles} else None,
        user_id=user,
        text=(query.get("q") or "")[:MAX_TEXT] or None,
        include_hidden=grant.admin,
    )


def filter_query(filters: Filters, **extra: str) -> str:
    pairs = {"q": filters.text, "style": filters.style, "user": filters.user_id, **extra}
    return urlencode({k: v for k, v in pairs.items() if v})


async def _page(request: web.Request, grant: Grant, filters: Filters) -> Page:
    gallery = gallery_of(request)
    cursor = request.query.get("cursor") or None
    return await gallery.store.page(grant.platform, grant.scope_id, filters, cursor, PAGE_SIZE)


def _more_url(grant: Grant, filters: Filters, page: Page, endpoint: str) -> str | None:
    if page.next_cursor is None:
        return None
    return f"{grant.path}{endpoint}?{filter_query(filters, cursor=page.next_cursor)}"


async def index(request: web.Request) -> web.StreamResponse:
    grant = await session_of(request)
    gallery = gallery_of(request)
    styles = await style_options(request, grant)
    filters = filters_of(request, grant, styles)
    page = await _page(request, grant, filters)
    user_name = None
    if filters.user_id:
        user_name = await gallery.store.user_name(
            grant.platform, grant.scope_id, filters.user_id, include_hidden=grant.admin
        )
    return gallery.render(
        request,
        "gallery.html",
        grant=grant,
        base=grant.path,
        filters=filters,
        styles=styles,
        user_name=user_name,
        page=page,
        next_page=_more_url(grant, filters, page, ""),
        more_url=_more_url(grant, filters, page, "more"),
        how_to=gallery.say(request, HOW_TO[grant.platform]),
        clear_user=f"{grant.path}?{filter_query(filters, user='')}".rstrip("?"),
    )


async def more(request: web.Request) -> web.StreamResponse:
    """The next page's cards as an HTML fragment, for "load more" and infinite scroll."""
    grant = await session_of(request)
    filters = filters_of(request, grant, await style_options(request, grant))
    page = await _page(request, grant, filters)
    return gallery_of(request).render(
        request,
        "cards.html",
        base=grant.path,
        filters=filters,
        page=page,
        more_url=_more_url(grant, filters, page, "more"),
    )


async def detail(request: web.Request) -> web.StreamResponse:
    grant = await session_of(request)
    gallery = gallery_of(request)
    item = await gallery.store.item(
        grant.platform, grant.scope_id, request.match_info["id"], include_hidden=grant.admin
    )
    if item is None:
        raise Missing
    style = gallery.styles.find(item.style)
    return gallery.render(
        request,
        "detail.html",
        grant=grant,
        base=grant.path,
        item=item,
        originals=await gallery.store.originals(item.id),
        style_label=f"{style.emoji} {gallery.translate(request, style.name)}"
        if style
        else item.style,
        style_builtin=style is not None,
        csrf=grants.csrf_token(gallery.signer, grant),
        own=grant.user_id is not None and grant.user_id == item.user_id,
    )
