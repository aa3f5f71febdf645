"""Checks on image bytes before anything decodes them: size in pixels, format.

Pillow reads only the header on `Image.open`; decoding happens later (resizing for a chat,
re-encoding). A small PNG can declare 20000 x 20000 pixels and inflate to gigabytes when
decoded (a decompression bomb), so the pixel limit is set explicitly for the whole process
and Pillow's warning for images over it is an error, not a line in the log.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, UnidentifiedImageError

from bot.core.errors import ProviderBadOutput

DEFAULT_MAX_PIXELS = 40_000_000
FORMATS = ("PNG", "JPEG", "WEBP")


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
        with Image.open(BytesIO(data), formats=FORMATS) as image:
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
            f"{provider_id}: {exc}",
            user_message=f"The image service sent back a picture the bot will not open ({exc}).",
        ) from None
