"""What a file may be on Telegram, for each way it is sent: the one place that decides.

| way | limit |
|---|---|
| photo (`sendPhoto`, `editMessageMedia`, an album item) | 10 MB, width + height <= 10000, sides at most 20:1 |
| document (`sendDocument`) | 50 MB |
| one request, all its files (an album) | 50 MB: past it the Bot API's front end answers HTTP 413 with an HTML page |

A file over its limit is re-encoded (JPEG), then downscaled, by the core's `fit_upload`; the
caption then says the full size is in the gallery. A picture whose shape no photo can have
goes as a document, every pixel kept (made smaller only past the document limit).
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from PIL import Image

from bot.core.images.pixels import Fitted, fit_upload

PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_SIDES = 10_000  # width + height
PHOTO_MAX_RATIO = 20
DOCUMENT_MAX_BYTES = 50 * 1024 * 1024
REQUEST_MAX_BYTES = 50 * 1024 * 1024
REQUEST_OVERHEAD = 256 * 1024  # multipart headers, caption, keyboard: kept free in a request
ALBUM_MAX_ITEMS = 10


@dataclass(frozen=True)
class Upload:
    """A result as it goes to Telegram: the bytes, as a photo or as a document, and whether
    they are less than the stored original (then the caption points to the gallery)."""

    data: bytes
    as_document: bool
    reduced: bool = False
    extension: str = "png"


def _shape(data: bytes) -> tuple[int, int]:
    with Image.open(BytesIO(data)) as image:
        return image.size


def photo_shape_ok(width: int, height: int) -> bool:
    return max(width, height) / max(1, min(width, height)) <= PHOTO_MAX_RATIO


def as_photo(data: bytes, max_bytes: int = PHOTO_MAX_BYTES) -> Fitted | None:
    """The picture fitted to be a photo; None when its shape cannot be one."""
    if not photo_shape_ok(*_shape(data)):
        return None
    return fit_upload(data, max_bytes=max_bytes, max_side_sum=PHOTO_MAX_SIDES)


def as_document(data: bytes) -> Fitted:
    return fit_upload(data, max_bytes=DOCUMENT_MAX_BYTES - REQUEST_OVERHEAD)


def _upload(fitted: Fitted, document: bool) -> Upload:
    extension = {"JPEG": "jpg", "WEBP": "webp"}.get(fitted.format, "png")
    return Upload(fitted.data, document, fitted.changed, extension)


def for_result(data: bytes, *, full_size: bool) -> Upload:
    """A result: a photo when it can be one; an upscale (`full_size`), unless it is a photo
    unchanged, as a document that keeps every pixel it can."""
    photo = as_photo(data)
    if photo is not None and not (full_size and photo.changed):
        return _upload(photo, False)
    return _upload(as_document(data), True)


def for_file(data: bytes) -> Upload:
    """A file the user asked for as it is (the original of a U button): a document."""
    return _upload(as_document(data), True)


def for_album(files: list[bytes]) -> list[Upload | None]:
    """Album items, in order: each a photo, all of them together within one request's limit;
    None for a picture whose shape no photo can have (an album cannot mix in documents)."""
    shown = files[:ALBUM_MAX_ITEMS]
    share = (REQUEST_MAX_BYTES - REQUEST_OVERHEAD) // max(1, len(shown))
    out: list[Upload | None] = []
    for data in shown:
        photo = as_photo(data, min(PHOTO_MAX_BYTES, share))
        out.append(_upload(photo, False) if photo is not None else None)
    return out


def read_existing(paths: list[str | None]) -> list[bytes | None]:
    """File contents, or None where the file is gone (run in a thread: it blocks)."""
    out: list[bytes | None] = []
    for path in paths:
        try:
            out.append(Path(path).read_bytes() if path else None)
        except OSError:
            out.append(None)
    return out
