"""The brush editor's pages: open a signed editor link, fetch its picture, submit a mask.

Every route takes the editor link's token (`?t=`) and checks it names this scope and this
picture (bot/web/editor_links.py); no gallery session is needed, and a switched-off gallery
does not close the editor. The page is plain HTML with one script of our own
(static/editor.js) under the gallery's strict CSP, except that Telegram Web may frame it
(a Mini App runs in an iframe there). The submit is a multipart POST (the mask, a PNG of the
picture's size; the prompt; which picture of a grid; a Mini App's initData) answered in JSON:
the mask is checked here for what costs nothing (size in bytes, PNG, dimensions) and by the
core for the rest (not empty, not full), the person by the link or by initData, then the
platform's desk (bot/web/edit_orders.py) queues the edit and stores the link's one use.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import BodyPartReader, MultipartReader, web
from PIL import Image, UnidentifiedImageError

from bot.core.errors import UserFacingError
from bot.core.language import Text
from bot.web import editor_links, visitor
from bot.web.app import HERE, Denied, Missing, gallery_of, scope_of, see_other
from bot.web.edit_orders import USED, EditOrder, EditorSetup, EditRefused
from bot.web.editor_links import EditorLink, LinkRefused
from bot.web.queries import GalleryItem
from bot.web.webapp_data import InitDataRefused, validate

log = logging.getLogger(__name__)

EDITOR = web.AppKey("editor", EditorSetup)
MAX_MASK_BYTES = 1024 * 1024  # a one-bit 2048x2048 mask is a few KB; RGBA ones stay far below
MAX_FIELD_BYTES = 16 * 1024  # the prompt, the index, a Mini App's initData
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EDITOR_CSP = (
    "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors https://web.telegram.org"
)
STATIC = {"editor.js": "text/javascript", "editor.css": "text/css"}
NOT_PNG = Text("The mask must be a PNG.")
CLOSED = Text("The editor is not available here: it runs where the bot serves the gallery itself.")
EXPIRED = Text(
    "This editor link has expired. Each link opens for a limited time after it was made "
    "(on Discord, press 🖌 again for a new one)."
)
NOT_CONFIRMED = Text("Telegram could not confirm who you are: open the editor again.")
NO_SUCH_PICTURE = Text("There is no such picture in this request.")


class Expired(Denied):
    """A genuine editor link whose time is up: said so in plain words."""


@dataclass(frozen=True)
class Picture:
    index: int
    name: str
    width: int
    height: int


def _setup(request: web.Request) -> EditorSetup | None:
    return request.app.get(EDITOR)


def _link(request: web.Request) -> EditorLink:
    platform, scope_id = scope_of(request)
    try:
        link = editor_links.decode(gallery_of(request).signer, request.query.get("t", ""))
    except LinkRefused as exc:
        if str(exc) == "expired":
            raise Expired("editor link expired") from None
        raise Denied(f"editor link refused: {exc}") from None
    if (link.platform, link.scope_id, link.generation_id) != (
        platform,
        scope_id,
        request.match_info["id"],
    ):
        raise Denied("editor link of another picture")
    return link


async def _pictures(request: web.Request, link: EditorLink) -> tuple[GalleryItem, list[Picture]]:
    store = gallery_of(request).store
    item = await store.item(link.platform, link.scope_id, link.generation_id, include_hidden=True)
    if item is None or not item.width or not item.height:
        raise Missing
    originals = await store.originals(item.id)
    if originals:
        return item, [Picture(o.index, o.image_name, o.width, o.height) for o in originals]
    return item, [Picture(1, item.image_name, item.width, item.height)]


def _answer(request: web.Request, ok: bool, message: object, status: int = 200) -> web.Response:
    """The editor's JSON answer, its sentence in the visitor's language (a desk may still
    word its own in English: a `str` is shown as it is)."""
    words = gallery_of(request).say(request, message) if isinstance(message, Text) else message
    return web.json_response({"ok": ok, "message": str(words)}, status=status)


def _page(
    request: web.Request, template: str, status: int = 200, **context: object
) -> web.Response:
    response = gallery_of(request).render(request, template, status, **context)
    response.headers["Content-Security-Policy"] = EDITOR_CSP
    return response


async def page(request: web.Request) -> web.StreamResponse:
    say = gallery_of(request).say
    try:
        link = _link(request)
    except Expired:
        return _page(request, "editor_closed.html", 410, message=say(request, EXPIRED))
    setup = _setup(request)
    if setup is None or link.platform not in setup.desks:
        return _page(request, "editor_closed.html", 503, message=say(request, CLOSED))
    if await gallery_of(request).store.editor_link_used(link.nonce):
        return _page(request, "editor_closed.html", 410, message=say(request, USED))
    item, pictures = await _pictures(request, link)
    token = request.query["t"]
    return _page(
        request,
        "editor.html",
        item=item,
        pictures=[
            {
                "index": p.index,
                "url": f"{link.path}/picture/{p.index}?t={token}",
                "width": p.width,
                "height": p.height,
            }
            for p in pictures
        ],
        submit=f"{link.path}?{_submit_query(request, token)}",
        static=f"{link.scope_path}edit/static/",
        webapp=link.webapp,
    )


def _submit_query(request: web.Request, token: str) -> str:
    """The submit's query: the token, and a language picked with the page's links, which a
    Mini App framed by Telegram Web has no cookie for (SameSite=Lax is not sent to a frame)."""
    picked = visitor.named(request.query.get(visitor.QUERY))
    return urlencode({"t": token, **({visitor.QUERY: picked} if picked else {})})


async def picture(request: web.Request) -> web.StreamResponse:
    link = _link(request)
    _item, pictures = await _pictures(request, link)
    wanted = request.match_info["index"]
    found = [p for p in pictures if str(p.index) == wanted]
    if not found:
        raise Missing
    path = gallery_of(request).images_dir / found[0].name
    if path.suffix not in (".png", ".jpg", ".webp") or not path.is_file():
        raise Missing
    return web.FileResponse(path, headers={"Cache-Control": "private, no-store"})


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in STATIC:
        raise Missing
    return web.FileResponse(
        HERE / "static" / name,
        headers={"Content-Type": STATIC[name], "Cache-Control": "public, max-age=3600"},
    )


async def start_app(request: web.Request) -> web.StreamResponse:
    """A Mini App opened by a `t.me/<bot>/<app>?startapp=` link: Telegram opens the app's
    registered URL (PUBLIC_URL/tg/app) with the parameter; on to the editor it names. The
    fragment (`#tgWebAppData=...`) survives the redirect, so the page still has initData."""
    token = editor_links.from_start_param(request.query.get("tgWebAppStartParam", ""))
    if token is None:
        raise Denied("no start parameter")
    try:
        link = editor_links.decode(gallery_of(request).signer, token)
    except LinkRefused as exc:
        raise Denied(f"start parameter refused: {exc}") from None
    return see_other(f"{link.path}?t={token}")


async def _read_parts(reader: MultipartReader) -> tuple[dict[str, str], bytes | None]:
    fields: dict[str, str] = {}
    mask: bytes | None = None
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise web.HTTPBadRequest()
        cap = MAX_MASK_BYTES if part.name == "mask" else MAX_FIELD_BYTES
        data = bytearray()
        while chunk := await part.read_chunk(64 * 1024):
            data.extend(chunk)
            if len(data) > cap:
                raise web.HTTPRequestEntityTooLarge(max_size=cap, actual_size=len(data))
        if part.name == "mask":
            mask = bytes(data)
        elif part.name in ("index", "prompt", "init_data"):
            fields[part.name] = data.decode("utf-8", errors="replace")
    return fields, mask


async def _form(request: web.Request) -> tuple[dict[str, str], bytes | None]:
    """The multipart fields, each within its cap (anything larger is refused before it is
    read whole); a body of another type has no mask, and is answered so."""
    if request.content_type != "multipart/form-data":
        return {}, None
    try:
        return await _read_parts(await request.multipart())
    except (ValueError, AssertionError):
        raise web.HTTPBadRequest() from None


def mask_problem(mask: bytes | None, picture: Picture) -> Text | None:
    """What is wrong with the mask at a glance (the core checks the pixels), or None."""
    if not mask or not mask.startswith(PNG_SIGNATURE):
        return NOT_PNG
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(mask), formats=("PNG",)) as image:
                size = image.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return NOT_PNG  # a header claiming billions of pixels is no mask either
    if size != (picture.width, picture.height):
        return Text(
            "The mask is {mask_width}x{mask_height}, the picture {width}x{height}: "
            "they must be the same size.",
            mask_width=size[0],  # pixel sizes as they are: never "2,048"
            mask_height=size[1],
            width=picture.width,
            height=picture.height,
        )
    return None


def _person(setup: EditorSetup, link: EditorLink, init_data: str) -> tuple[str, str]:
    """Who is editing: the Mini App's user, as Telegram signed it, or the link's person."""
    if not link.webapp:
        return link.user_id, ""
    if setup.telegram_token is None:
        raise Denied("a Mini App link, but no Telegram token to check it with")
    try:
        user = validate(init_data, setup.telegram_token, max_age=setup.webapp_auth_seconds)
    except InitDataRefused as exc:
        raise Denied(f"initData refused: {exc}") from None
    return user.user_id, user.name


async def submit(request: web.Request) -> web.StreamResponse:
    try:
        link = _link(request)
    except Expired:
        return _answer(request, False, EXPIRED, 410)
    setup = _setup(request)
    if setup is None or link.platform not in setup.desks:
        return _answer(request, False, CLOSED, 503)
    fields, mask = await _form(request)
    try:
        who, name = _person(setup, link, fields.get("init_data", ""))
    except Denied as exc:
        log.info("editor: %s", exc)
        return _answer(request, False, NOT_CONFIRMED, 403)
    if mask is None:
        return _answer(request, False, NOT_PNG, 400)
    _item, pictures = await _pictures(request, link)
    index = editor_links.valid_index(fields.get("index"), len(pictures))
    chosen = next((p for p in pictures if p.index == index), None)
    if index is None or chosen is None:
        return _answer(request, False, NO_SUCH_PICTURE, 400)
    if problem := mask_problem(mask, chosen):
        return _answer(request, False, problem, 400)
    gallery = gallery_of(request)

    async def claim() -> bool:
        return await gallery.store.claim_editor_link(
            link.nonce, link.platform, who, link.generation_id, link.expires
        )

    prompt = (fields.get("prompt") or "").strip() or None
    order = EditOrder(link, who, name, index, mask, prompt)
    try:
        message = await setup.desks[link.platform].submit(order, claim)
    except EditRefused as exc:
        return _answer(request, False, exc.args[0] if exc.args else "", 409)
    except UserFacingError as exc:
        return _answer(request, False, exc.message, 400)
    log.info("editor: %s:%s queued an edit of %s", link.platform, who, link.generation_id)
    return _answer(request, True, message)
