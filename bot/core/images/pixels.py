"""Pictures in and out: header checks, input images made safe, grids, crops, PNG parameters.

Pillow reads only the header on `Image.open`; decoding happens later (resizing, re-encoding).
A small PNG can declare 20000 x 20000 pixels and inflate to gigabytes when decoded (a
decompression bomb), so the pixel count is checked from the header before anything decodes,
the pixel limit is set explicitly for the whole process, and Pillow's warning for images over
it is an error, not a line in the log.

Every function here is synchronous and pure (bytes in, bytes out) and may take tens of
milliseconds: callers on the event loop run them with `asyncio.to_thread`.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from bot.core.errors import BadInputImage, ProviderBadOutput, unopenable_text
from bot.core.language import Number, Text

DEFAULT_MAX_PIXELS = 40_000_000
FORMATS = ("PNG", "JPEG", "WEBP")
INPUT_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
DEFAULT_INPUT_PIXELS = 16_000_000  # a 4000 x 4000 photo; more is refused before decoding
# No provider makes a picture wider than 1536 px (gpt-image-1's 1536x1024; Stable Diffusion's
# sizes are smaller) and each shrinks what it is given to the size it makes, so more input
# pixels buy nothing. 1536 also lets a 2560x1920 phone photo decode at half scale (draft).
DEFAULT_INPUT_SIDE = 1536
DRAFT_SLACK = 0.7
# A photo is encoded again as JPEG at this quality (4:4:4, no visible loss); the rest as PNG.
INPUT_JPEG_QUALITY = 95
GRID_LAYOUTS = {1: (1, 1), 2: (2, 1), 3: (3, 1), 4: (2, 2)}  # count -> (columns, rows)


class BadImage(ValueError):
    """The bytes are not an image the bot will open; the message says why in plain words."""


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int


def limit_pixels(max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """Process-wide: Pillow refuses to open an image of more than `max_pixels` pixels."""
    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.simplefilter("error", Image.DecompressionBombWarning)


def inspect(data: bytes) -> ImageInfo:
    """Format and size from the header alone; raises BadImage for anything else."""
    limit = Image.MAX_IMAGE_PIXELS or DEFAULT_MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            width, height = image.size
            fmt = image.format or ""
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImage(f"the picture has more than {limit:,} pixels") from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise BadImage("the answer is not a PNG, JPEG or WebP picture") from None
    # Checked here too: without limit_pixels() Pillow only warns between 1x and 2x its limit.
    if width * height > limit:
        raise BadImage(f"the picture has {width}x{height} pixels, more than {limit:,}")
    return ImageInfo(fmt, width, height)


def check_provider_image(provider_id: str, data: bytes) -> ImageInfo:
    """`inspect` for a provider's answer: a refusal becomes the provider failure the queue
    reports (the next provider is tried; the reason reaches the history row)."""
    try:
        return inspect(data)
    except BadImage as exc:
        raise ProviderBadOutput(
            f"{provider_id}: {exc}", user_message=unopenable_text(str(exc))
        ) from None


# -- input images ----------------------------------------------------------------------


@dataclass(frozen=True)
class InputImage:
    """A user's picture made safe: decoded, first frame only, upright, metadata gone."""

    data: bytes  # JPEG or PNG
    width: int
    height: int
    source_format: str
    animated: bool  # the source had more frames; only the first was kept

    @property
    def format(self) -> str:
        return "JPEG" if self.data[:3] == b"\xff\xd8\xff" else "PNG"


def load_input(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_INPUT_PIXELS,
    max_bytes: int | None = None,
    max_side: int = DEFAULT_INPUT_SIDE,
) -> InputImage:
    """Check a user's picture by decoding it, never by its name, and return it clean.

    Refused with a plain-words `BadInputImage`: more than `max_bytes`; not a PNG, JPEG, WebP
    or GIF; more than `max_pixels` pixels (read from the header, before decoding); a file
    that breaks while decoding.

    The file itself never goes on: it is decoded, turned upright, stripped of everything
    that is not a pixel, shrunk to `max_side` and encoded anew (a JPEG photo as JPEG at
    quality 95, everything else as PNG). Editing the container segment by segment missed
    what hides past the first scan (an Exif segment between the scans of a progressive JPEG,
    a second JPEG appended after the end of the image as MPF and gain-map photos carry, a
    ZIP or HTML polyglot); a new encoding holds only what the decoder saw as the picture."""
    if max_bytes is not None and len(data) > max_bytes:
        raise _too_heavy(len(data), max_bytes)
    try:
        with Image.open(io.BytesIO(data), formats=INPUT_FORMATS) as image:
            width, height = image.size
            if width * height > max_pixels or width <= 0 or height <= 0:
                raise _too_many_pixels(max_pixels, "x".join(map(str, image.size)))
            fmt = image.format or ""
            animated = bool(getattr(image, "is_animated", False))
            upright = image.getexif().get(0x0112, 1) in (0, 1)
            if fmt == "JPEG":
                # Decode at a reduced scale (1/2, 1/4, 1/8) when that leaves at least 70 % of
                # max_side: a 4000x3000 photo becomes 2000x1500 at a fraction of the cost.
                scale = min(1.0, max_side / max(width, height)) * DRAFT_SLACK
                image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
            image.seek(0)  # the first frame of a GIF (or animated WebP / PNG) only
            image.load()
            clean = _pixels_only(image if upright else ImageOps.exif_transpose(image))
            # Encoded inside `with`: closing the file releases the pixels of `image`, which
            # `clean` may be (no copy: one decoded photo in memory, not two).
            return _encoded(clean, fmt, animated, max_side)
    except BadInputImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(max_pixels) from None
    except (UnidentifiedImageError, OSError, ValueError, EOFError, SyntaxError):
        raise _unreadable() from None


def _too_heavy(size: int, max_bytes: int) -> BadInputImage:
    return BadInputImage(
        Text(
            "That picture is {size} MB; the most this bot takes is {most} MB.",
            size=Number(round(size / 1_000_000, 1)),
            most=Number(round(max_bytes / 1_000_000)),
        )
    )


def _too_many_pixels(max_pixels: int, size: str | None = None) -> BadInputImage:
    if size is None:
        return BadInputImage(
            Text(
                "That picture has more than the {most} pixels this bot takes. "
                "Please send a smaller one.",
                most=Number(max_pixels),
            )
        )
    return BadInputImage(
        Text(
            "That picture has more than the {most} pixels this bot takes "
            "({size}). Please send a smaller one.",
            most=Number(max_pixels),
            size=size,
        )
    )


def _unreadable() -> BadInputImage:
    return BadInputImage(
        Text("That file is not a picture the bot can read: send a PNG, JPEG, WebP or GIF.")
    )


def _encoded(clean: Image.Image, fmt: str, animated: bool, max_side: int) -> InputImage:
    if max(clean.size) > max_side:
        clean.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    out = io.BytesIO()
    if fmt == "JPEG" and clean.mode == "RGB":
        clean.save(out, format="JPEG", quality=INPUT_JPEG_QUALITY, subsampling=0)
    else:
        clean.save(out, format="PNG", compress_level=1)
    return InputImage(out.getvalue(), clean.width, clean.height, fmt, animated)


def _pixels_only(image: Image.Image) -> Image.Image:
    """The pixels only: no EXIF, ICC profile, comment or text, which the encoders would
    otherwise take from `info`. A picture already in the mode is itself cleared, not copied
    (the caller decoded it for this alone)."""
    mode = "RGBA" if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info else "RGB"
    clean = image.convert(mode) if image.mode != mode else image
    clean.info = {}
    return clean


def _png(image: Image.Image, compress_level: int = 6) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=compress_level)
    return out.getvalue()


def file_type(data: bytes) -> tuple[str, str]:
    """(extension, MIME type) of a checked picture, from its first bytes."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpg", "image/jpeg"
    if data[8:12] == b"WEBP":
        return "webp", "image/webp"
    return "png", "image/png"


def fit(
    data: bytes,
    *,
    max_side: int,
    multiple: int = 1,
    format: str = "PNG",
    square: bool = False,
    webp_method: int = 4,
    keep: tuple[str, ...] = (),
) -> bytes:
    """The picture as a provider accepts it: the longer side at most `max_side` (never
    enlarged), both sides multiples of `multiple`, optionally centre-cropped square. When
    nothing needs changing and the picture is already in a format of `keep`, the bytes are
    returned as they are; otherwise encoded as `format` (PNG, or lossless WebP). Input must
    already be a checked image (`load_input`)."""
    with Image.open(io.BytesIO(data), formats=INPUT_FORMATS) as image:
        width, height = image.size
        scale = min(1.0, max_side / max(width, height))
        unchanged = (
            image.format in keep
            and scale == 1.0
            and width % multiple == 0
            and height % multiple == 0
            and (not square or width == height)
        )
        if unchanged:
            return data
        image.load()
        picture = image.convert("RGBA" if image.mode == "RGBA" else "RGB")
    if square:
        side = min(picture.size)
        picture = ImageOps.fit(picture, (side, side))
    scale = min(1.0, max_side / max(picture.size))
    width = max(multiple, int(picture.width * scale) // multiple * multiple)
    height = max(multiple, int(picture.height * scale) // multiple * multiple)
    if (width, height) != picture.size:
        picture = ImageOps.fit(picture, (width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if format == "WEBP":
        picture.save(out, format="WEBP", lossless=True, method=webp_method)
    else:
        picture.save(out, format="PNG")
    return out.getvalue()


@dataclass(frozen=True)
class Fitted:
    """A picture as it may be uploaded: its bytes, their format (PNG, JPEG, WEBP), and whether
    it is no longer the original file (re-encoded, and `smaller` when pixels were lost)."""

    data: bytes
    format: str
    changed: bool = False
    smaller: bool = False


UPLOAD_QUALITIES = (90, 80, 70, 60)


def fit_upload(
    data: bytes,
    *,
    max_bytes: int,
    max_side: int | None = None,
    max_side_sum: int | None = None,
    encode_as: str = "JPEG",
) -> Fitted:
    """What may be uploaded where a platform takes at most `max_bytes` (and optionally a
    longest side, or width + height): the original when it fits; else re-encoded as
    `encode_as` (JPEG or lossy WebP), then downscaled by quarters until it fits. The platform
    limits live with each adapter; this is the one way a file is made to meet them."""
    with Image.open(io.BytesIO(data), formats=INPUT_FORMATS) as image:
        width, height = image.size
        original_format = image.format or "PNG"
        scale = min(
            1.0,
            max_side / max(width, height) if max_side else 1.0,
            max_side_sum / (width + height) if max_side_sum else 1.0,
        )
        if scale == 1.0 and len(data) <= max_bytes:
            return Fitted(data, original_format)
        image.load()
        picture = image.convert("RGB")
    while True:
        size = (max(1, int(width * scale)), max(1, int(height * scale)))
        candidate = (
            picture if size == picture.size else picture.resize(size, Image.Resampling.LANCZOS)
        )
        for quality in UPLOAD_QUALITIES:
            out = io.BytesIO()
            candidate.save(out, format=encode_as, quality=quality)
            if out.tell() <= max_bytes:
                return Fitted(out.getvalue(), encode_as, True, size != (width, height))
        if max(size) <= 16:
            raise BadImage("the picture cannot be made small enough to upload")
        scale *= 0.75


def crop_to_aspect(data: bytes, ratio: tuple[int, int]) -> bytes:
    """Centre-crop to exactly `ratio` (width:height), as far as whole pixels allow; PNG."""
    with Image.open(io.BytesIO(data), formats=FORMATS) as image:
        image.load()
        picture = image.copy()
    rw, rh = ratio
    width, height = picture.size
    if width * rh > height * rw:  # too wide: cut the sides
        new_w, new_h = height * rw // rh, height
    else:  # too tall: cut top and bottom
        new_w, new_h = width, width * rh // rw
    left, top = (width - new_w) // 2, (height - new_h) // 2
    return _png(picture.crop((left, top, left + new_w, top + new_h)))


# -- grids -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    number: int  # 1-based, as on the U1-U4 / V1-V4 buttons
    left: int
    top: int
    width: int
    height: int


@dataclass(frozen=True)
class Grid:
    data: bytes  # JPEG: a rendering for the chat, never a stored original
    width: int
    height: int
    tiles: tuple[Tile, ...] = field(default_factory=tuple)


def compose_grid(
    pictures: Sequence[bytes],
    *,
    tile_side: int = 512,
    gap: int = 4,
    quality: int = 88,
    labels: Sequence[str] = (),
) -> Grid:
    """Two to four pictures side by side (1x2, 1x3) or 2x2, each scaled to fit `tile_side`,
    with a small tile number in its top-left corner and, for a compare or permutations grid,
    its label (the style, the choices) on a dark band along its bottom edge. JPEG keeps this
    well within 150 ms of CPU for four 1024x1024 pictures; the originals are stored on their
    own."""
    if len(pictures) not in GRID_LAYOUTS:
        raise ValueError(f"a grid takes 1 to 4 pictures, not {len(pictures)}")
    columns, rows = GRID_LAYOUTS[len(pictures)]
    tiles_img: list[Image.Image] = []
    for data in pictures:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            image.draft("RGB", (tile_side, tile_side))  # JPEG decodes at a reduced size
            image.load()
            picture = image if image.mode == "RGB" else image.convert("RGB")
        # An integer reduce (box average) is a fraction of a resample's cost: 1024 -> 512.
        factor = max(picture.size) // tile_side
        if factor >= 2:
            picture = picture.reduce(factor)
        picture.thumbnail((tile_side, tile_side), Image.Resampling.BILINEAR)
        tiles_img.append(picture)
    cell_w = max(p.width for p in tiles_img)
    cell_h = max(p.height for p in tiles_img)
    width = columns * cell_w + (columns - 1) * gap
    height = rows * cell_h + (rows - 1) * gap
    canvas = Image.new("RGB", (width, height), (24, 24, 24))
    draw = ImageDraw.Draw(canvas)
    tiles: list[Tile] = []
    for index, picture in enumerate(tiles_img):
        column, row = index % columns, index // columns
        left = column * (cell_w + gap) + (cell_w - picture.width) // 2
        top = row * (cell_h + gap) + (cell_h - picture.height) // 2
        canvas.paste(picture, (left, top))
        _number(draw, index + 1, left, top, cell_w)
        if index < len(labels) and labels[index]:
            _label(draw, labels[index], (left, top, picture.width, picture.height))
        tiles.append(Tile(index + 1, left, top, picture.width, picture.height))
    out = io.BytesIO()
    canvas.save(out, format="JPEG", quality=quality)
    return Grid(out.getvalue(), width, height, tuple(tiles))


def _number(draw: ImageDraw.ImageDraw, number: int, left: int, top: int, cell: int) -> None:
    """A small white number on a dark square, about 1/16 of the tile."""
    size = max(14, cell // 16)
    x, y = left + size // 3, top + size // 3
    draw.rectangle((x, y, x + size, y + size), fill=(0, 0, 0))
    draw.text(
        (x + size / 2, y + size / 2),
        str(number),
        fill=(255, 255, 255),
        anchor="mm",
        font_size=int(size * 0.8),
    )


def labelled_grid(pictures: Sequence[bytes], labels: Sequence[str], *, quality: int = 88) -> bytes:
    """A grid (`compose_grid`) with each tile's label on a dark band along its bottom: a
    style's preview, one sample prompt per tile. Labels are the bot's own words."""
    return compose_grid(pictures, quality=quality, labels=labels).data


def _label(draw: ImageDraw.ImageDraw, text: str, box: tuple[int, int, int, int]) -> None:
    """A tile's label: white text on a dark band across the tile's bottom, cut with an
    ellipsis to the tile's width. Pillow's default font: pixels, so no text the user wrote
    can change how anything renders."""
    left, top, width, height = box
    size = max(14, width // 20)
    font = ImageFont.load_default(size)
    band = size + size // 2
    words = " ".join(text.split())[:120]  # longer never fits a tile
    room = width - size
    if draw.textlength(words, font=font) > room:
        while words and draw.textlength(words + "…", font=font) > room:
            words = words[:-1]
        words = words.rstrip() + "…"
    bottom = top + height
    draw.rectangle((left, bottom - band, left + width - 1, bottom - 1), fill=(0, 0, 0))
    draw.text(
        (left + width / 2, bottom - band / 2), words, fill=(255, 255, 255), font=font, anchor="mm"
    )
