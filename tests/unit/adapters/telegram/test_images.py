"""What a file may be on Telegram for each way it is sent (bot/adapters/telegram/images.py),
over the core's `fit_upload`."""

from __future__ import annotations

import io
import os

from PIL import Image

from bot.adapters.telegram.images import (
    DOCUMENT_MAX_BYTES,
    PHOTO_MAX_BYTES,
    for_album,
    for_file,
    for_result,
)
from bot.core.images.pixels import fit_upload


def png(width: int, height: int, *, noise: bool = False) -> bytes:
    out = io.BytesIO()
    if noise:
        image = Image.frombytes("RGBA", (width, height), os.urandom(width * height * 4))
    else:
        image = Image.new("RGB", (width, height), (40, 90, 160))
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def test_a_picture_that_fits_goes_unchanged_as_a_photo() -> None:
    data = png(1024, 1024)
    upload = for_result(data, full_size=False)
    assert upload.data is data and not upload.as_document and not upload.reduced


def test_a_huge_upscale_is_a_photo_under_10_mb_or_a_document_under_50_mb() -> None:
    data = png(4096, 4096, noise=True)
    assert len(data) > DOCUMENT_MAX_BYTES
    photo = for_result(data, full_size=False)
    assert not photo.as_document and photo.reduced and len(photo.data) <= PHOTO_MAX_BYTES
    document = for_result(data, full_size=True)
    assert document.as_document and document.reduced and len(document.data) < DOCUMENT_MAX_BYTES
    assert for_file(data).data == document.data


def test_sides_over_10000_together_are_scaled_and_a_strip_goes_as_a_document() -> None:
    wide = png(9000, 2000)
    upload = for_result(wide, full_size=False)
    width, height = size_of(upload.data)
    assert not upload.as_document and width + height <= 10_000 and upload.reduced
    strip = png(4200, 200)  # 21:1: no photo may have this shape
    assert for_result(strip, full_size=False).as_document
    assert for_album([strip, png(64, 64)])[0] is None


def test_fit_upload_keeps_a_file_within_its_limit_or_says_it_changed() -> None:
    data = png(1024, 1024, noise=True)
    fitted = fit_upload(data, max_bytes=500_000, encode_as="WEBP")
    assert fitted.format == "WEBP" and fitted.changed and len(fitted.data) <= 500_000
    same = fit_upload(data, max_bytes=len(data))
    assert same.data is data and not same.changed
