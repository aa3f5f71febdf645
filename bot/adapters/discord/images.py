"""Make an image file fit Discord's per-file upload limit for the channel it goes to."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

DEFAULT_LIMIT = 10 * 1024 * 1024  # Discord's default attachment limit, used when none is known
JPEG_QUALITIES = (90, 80, 70, 60)


def fit(path: Path, limit: int) -> tuple[bytes, str]:
    """The file's bytes and extension, re-encoded (JPEG, then smaller) only when over `limit`."""
    data = path.read_bytes()
    extension = path.suffix.lstrip(".") or "png"
    if len(data) <= limit:
        return data, extension
    with Image.open(io.BytesIO(data)) as original:
        image = original.convert("RGB")
    scale = 1.0
    while True:
        size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
        candidate = image if scale == 1.0 else image.resize(size, Image.Resampling.LANCZOS)
        for quality in JPEG_QUALITIES:
            buffer = io.BytesIO()
            candidate.save(buffer, format="JPEG", quality=quality, optimize=True)
            if buffer.tell() <= limit:
                return buffer.getvalue(), "jpg"
        if size == (1, 1):
            raise ValueError("the image cannot be made small enough to upload")
        scale *= 0.75
