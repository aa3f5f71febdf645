"""Make an image acceptable as a Telegram photo, or say it must go as a document."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from PIL import Image

PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_SIDES = 10_000  # width + height
PHOTO_MAX_RATIO = 20


def fit_for_telegram(data: bytes) -> tuple[bytes, bool]:
    """(bytes to send, send as document?). Unchanged when it already fits as a photo."""
    with Image.open(BytesIO(data)) as image:
        width, height = image.size
        if max(width, height) / max(1, min(width, height)) > PHOTO_MAX_RATIO:
            return data, True  # no photo can have this shape: keep every pixel, as a file
        if len(data) <= PHOTO_MAX_BYTES and width + height <= PHOTO_MAX_SIDES:
            return data, False
        scale = min(1.0, PHOTO_MAX_SIDES / (width + height))
        resized = image.convert("RGB").resize((int(width * scale), int(height * scale)))
    for quality in (90, 80, 65, 50):
        out = BytesIO()
        resized.save(out, format="JPEG", quality=quality)
        if out.tell() <= PHOTO_MAX_BYTES:
            return out.getvalue(), False
    return data, True


def read_existing(paths: list[str | None]) -> list[bytes | None]:
    """File contents, or None where the file is gone (run in a thread: it blocks)."""
    out: list[bytes | None] = []
    for path in paths:
        try:
            out.append(Path(path).read_bytes() if path else None)
        except OSError:
            out.append(None)
    return out
