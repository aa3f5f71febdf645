"""Edits of a picture in pixels: checked masks, padded canvases, and masks as each API wants.

One mask form is kept by the bot (and stored beside the input picture, `<id>-mask.png`):
a black-and-white PNG (one bit a pixel) of the picture's size, white where the provider may change the picture and
black where it must keep it (AUTOMATIC1111's convention). The providers' own forms are made
from it at the size they send the picture: OpenAI wants a PNG with alpha, transparent = change
(`for_alpha`); AUTOMATIC1111, the Horde and ComfyUI take it white = change (`for_white`).

Zoom out, Pan and Make square are outpainting: the picture on a larger canvas and a mask of
the new area. The canvas is cut to the nearest of the bot's five aspect ratios (a pan keeps
the new side whole and cuts the far side; zoom and square cut evenly), so the result is made
at one of them and needs no crop afterwards. The work is split where it is cheapest:

- the bot plans the canvas from the picture's header alone (`outpaint_canvas`): its size,
  the mask of the new area (one bit a pixel) and where the picture goes, written into the
  mask as PNG text (`imaginebot-placement`), so the stored mask alone says how to pad. The
  bot never decodes the picture for it (decoding a 2048 px PNG alone costs 40 ms);
- the worker pads (`padded`, on its picture threads, each attempt): the picture drawn at its
  place, the new area filled with its mean colour (which every backend's "fill" starts well
  from), encoded as a JPEG at quality 95 (a tenth of a PNG's encoding time at 2048 px; every
  backend decodes the picture anyway).

Everything here is synchronous and pure, bytes in and bytes out, up to tens of milliseconds
at 2048 px: callers on an event loop run it on the picture threads (`picture_threads`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from PIL.PngImagePlugin import PngInfo

from bot.core.errors import BadInputImage, english
from bot.core.generation.providers.sizing import RATIOS, nearest_aspect
from bot.core.images.pixels import DEFAULT_MAX_PIXELS, inspect
from bot.core.language import Text
from bot.core.models import AspectRatio, EditRequest

PLACEMENT = "imaginebot-placement"  # the mask's PNG text: "left,top,width,height"
CANVAS_SIDE = 2048  # the longest side of a padded canvas; every backend shrinks from here
CHANGE = 255  # in the kept mask: white = may change, black = keep
MIN_CHANGED = 0.001  # a mask marking less than this share of the picture marks nothing
MAX_CHANGED = 0.999  # ... more than this: the whole picture (that is Vary, not an edit)


@dataclass(frozen=True)
class Canvas:
    """A picture ready for an edit: the pixels to send and the mask of what may change."""

    image: bytes  # the picture (a region, words), or the one to pad to the mask (outpaint)
    mask: bytes  # black-and-white PNG, white = change, the canvas's size
    width: int
    height: int
    aspect: AspectRatio
    note: str  # what was done, for the Info


# -- masks people draw -----------------------------------------------------------------


def check_mask(data: bytes, size: tuple[int, int]) -> bytes:
    """A drawn mask as the bot keeps it, or a plain-words BadInputImage.

    A PNG of the picture's size. With an alpha channel that is not fully opaque, transparent
    pixels are the area to change (OpenAI's convention, and what a brush editor erasing the
    picture makes); otherwise light pixels are (white = change). Refused when it marks
    nothing or everything."""
    width, height = size
    if width * height > DEFAULT_MAX_PIXELS:
        raise BadInputImage(Text("That picture is too large to edit."))
    try:
        with Image.open(io.BytesIO(data), formats=("PNG",)) as drawn:
            if drawn.size != size:
                raise BadInputImage(
                    Text(
                        "The mask is {mask} pixels but the picture is {picture}: "
                        "draw the mask on the picture itself.",
                        mask="x".join(map(str, drawn.size)),
                        picture="x".join(map(str, size)),
                    )
                )
            drawn.load()
            mask = _changes(drawn)
    except BadInputImage:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,  # an error once `images.limit_pixels` has run
    ):
        raise BadInputImage(
            Text("The mask must be a PNG picture of {size} pixels.", size="x".join(map(str, size)))
        ) from None
    changed = mask.histogram()[CHANGE] / (width * height)
    if changed < MIN_CHANGED:
        raise BadInputImage(Text("The mask marks nothing to change."))
    if changed > MAX_CHANGED:
        raise BadInputImage(
            Text(
                "The mask covers the whole picture: use Vary or a new /imagine to change all of it."
            )
        )
    return _png(mask.convert("1", dither=Image.Dither.NONE))


_TRANSPARENT = [CHANGE if value < 128 else 0 for value in range(256)]
_LIGHT = [CHANGE if value >= 128 else 0 for value in range(256)]


def _changes(drawn: Image.Image) -> Image.Image:
    """White where the drawn mask says change, black elsewhere (mode L, two values)."""
    if drawn.mode in ("RGBA", "LA") or "transparency" in drawn.info:
        # The alpha band itself where the mode has one: no copy of a 16 MB RGBA picture.
        own = drawn if drawn.mode in ("RGBA", "LA") else drawn.convert("RGBA")
        alpha = own.getchannel("A")
        low, _high = alpha.getextrema()
        if isinstance(low, int) and low < 255:
            return alpha.point(_TRANSPARENT)
    grey = drawn if drawn.mode == "L" else drawn.convert("L")
    return grey.point(_LIGHT)


# -- masks as each API takes them ------------------------------------------------------


def _fitted(mask: bytes, size: tuple[int, int]) -> Image.Image:
    with Image.open(io.BytesIO(mask), formats=("PNG",)) as opened:
        opened.load()
        grey = opened.convert("L")
    if grey.size != size:
        # Bilinear, then back to two values: the edge stays where the picture's edge went.
        grey = grey.resize(size, Image.Resampling.BILINEAR)
        grey = grey.point(lambda value: CHANGE if value >= 128 else 0)
    return grey


def for_white(mask: bytes, size: tuple[int, int]) -> bytes:
    """White = change, at `size` (AUTOMATIC1111 `mask`, Horde `source_mask`, ComfyUI)."""
    return _png(_fitted(mask, size))


def for_white_beside(picture: bytes, mask: bytes) -> bytes:
    """`for_white` at the size of the picture it is sent with (AUTOMATIC1111, the Horde)."""
    info = inspect(picture)
    return for_white(mask, (info.width, info.height))


def for_alpha(mask: bytes, size: tuple[int, int]) -> bytes:
    """A PNG with alpha at `size`, fully transparent where the picture may change (OpenAI)."""
    grey = _fitted(mask, size)
    keep = grey.point(lambda value: 0 if value == CHANGE else 255)
    rgba = Image.new("RGBA", size, (0, 0, 0, 255))
    rgba.putalpha(keep)
    return _png(rgba)


# -- outpainting -----------------------------------------------------------------------


def _grown(width: int, height: int, edit: EditRequest) -> tuple[int, int, int, int]:
    """(canvas width, canvas height, left, top) of the picture on the grown canvas, in the
    picture's own pixels."""
    if edit.action == "zoom":
        factor = edit.factor or 2.0
        new_w, new_h = round(width * factor), round(height * factor)
        return new_w, new_h, (new_w - width) // 2, (new_h - height) // 2
    if edit.action == "pan":
        half_w, half_h = width // 2, height // 2
        return {
            "left": (width + half_w, height, half_w, 0),
            "right": (width + half_w, height, 0, 0),
            "up": (width, height + half_h, 0, half_h),
            "down": (width, height + half_h, 0, 0),
        }[edit.direction or "left"]
    side = max(width, height)
    return side, side, (side - width) // 2, (side - height) // 2


def _cut(
    grown_w: int, grown_h: int, edit: EditRequest
) -> tuple[AspectRatio, tuple[int, int, int, int]]:
    """The nearest of the five ratios and the part of the grown canvas that has it: a pan
    keeps its new side, everything else is cut evenly."""
    aspect = nearest_aspect((grown_w, grown_h), RATIOS)
    rw, rh = RATIOS[aspect]
    if grown_w * rh > grown_h * rw:
        cut_w, cut_h = grown_h * rw // rh, grown_h
    else:
        cut_w, cut_h = grown_w, grown_w * rh // rw
    left, top = (grown_w - cut_w) // 2, (grown_h - cut_h) // 2
    if edit.action == "pan":
        left = {"left": 0, "right": grown_w - cut_w}.get(edit.direction or "", left)
        top = {"up": 0, "down": grown_h - cut_h}.get(edit.direction or "", top)
    return aspect, (left, top, left + cut_w, top + cut_h)


def outpaint_canvas(picture: bytes, edit: EditRequest, max_side: int = CANVAS_SIDE) -> Canvas:
    """The canvas `edit` asks for (zoom out, pan, make square), planned from the picture's
    header: cut to the nearest of the five ratios, at most `max_side` pixels long, with the
    mask of the new area and the picture's place on it (in the mask). `Canvas.image` is the
    picture itself, which the worker pads (`padded`). The input is one of the bot's own
    stored pictures."""
    info = inspect(picture)
    grown_w, grown_h, left, top = _grown(info.width, info.height, edit)
    aspect, (cut_l, cut_t, cut_r, cut_b) = _cut(grown_w, grown_h, edit)
    scale = min(1.0, max_side / max(cut_r - cut_l, cut_b - cut_t))
    width, height = round((cut_r - cut_l) * scale), round((cut_b - cut_t) * scale)
    # Where the picture lands on the final canvas, and the size it is drawn at.
    place_l, place_t = round((left - cut_l) * scale), round((top - cut_t) * scale)
    place_w, place_h = round(info.width * scale), round(info.height * scale)
    mask = Image.new("1", (width, height), 1)  # one bit a pixel: a fifth of the work of "L"
    mask.paste(0, (place_l, place_t, place_l + place_w, place_t + place_h))
    text = PngInfo()
    text.add_text(PLACEMENT, f"{place_l},{place_t},{place_w},{place_h}")
    note = english(canvas_note(edit.text, f"{width}x{height}", aspect))
    return Canvas(picture, _png(mask, text), width, height, aspect, note)


def padded(picture: bytes, mask: bytes) -> bytes:
    """The picture at its place on the canvas an outpaint mask describes (the mask's size),
    the new area filled with the picture's mean colour; a JPEG. For the worker."""
    with Image.open(io.BytesIO(mask), formats=("PNG",)) as opened:
        size = opened.size
        left, top, width, height = _placement(opened.info.get(PLACEMENT), size)
    with Image.open(io.BytesIO(picture), formats=("PNG", "JPEG", "WEBP")) as opened:
        if opened.format == "JPEG":
            opened.draft("RGB", (width, height))  # decode at 1/2, 1/4 where that is enough
        opened.load()
        source = opened.convert("RGB") if opened.mode != "RGB" else opened
        drawn = _scaled(source, (width, height))
    mean = drawn.reduce(max(1, min(drawn.size) // 8)).resize((1, 1), Image.Resampling.BOX)
    canvas = Image.new("RGB", size, mean.getpixel((0, 0)))
    canvas.paste(drawn, (left, top))
    return _jpeg(canvas)


def _placement(text: object, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """ "left,top,width,height" from an outpaint mask; a mask without it (or with nonsense)
    is not one the bot made for outpainting."""
    try:
        left, top, width, height = (int(part) for part in str(text).split(","))
    except ValueError:
        raise ValueError("the mask does not say where the picture goes") from None
    if not (0 < width <= 4 * size[0] and 0 < height <= 4 * size[1]):
        raise ValueError("the mask's placement does not fit its canvas")
    return left, top, width, height


def _scaled(picture: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The picture at `size`: an integer box reduce first (a fraction of a resample's cost)."""
    if picture.size == size:
        return picture
    factor = min(picture.width // size[0], picture.height // size[1])
    if factor >= 2:
        picture = picture.reduce(factor)
    if picture.size != size:
        picture = picture.resize(size, Image.Resampling.BILINEAR)
    return picture


def _png(image: Image.Image, text: PngInfo | None = None) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1, pnginfo=text)
    return out.getvalue()


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95)
    return out.getvalue()


def canvas_note(edit: Text, size: str, aspect: str) -> Text:
    """The Info's note of a picture grown onto a canvas (zoom, pan, square)."""
    return Text(
        "{edit}: the picture on a {size} canvas ({aspect}), the new area filled",
        edit=edit,
        size=size,
        aspect=aspect,
    )
