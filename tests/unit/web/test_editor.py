"""The editor's first look at an uploaded mask is total: any bytes give a plain sentence or
None (a PNG of the picture's size), never an exception; a header claiming billions of pixels
is refused without decoding anything."""

from __future__ import annotations

import io
import struct
import zlib

from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from bot.core.language import CATALOGUES, Text
from bot.web.editor import NOT_PNG, PNG_SIGNATURE, Picture, mask_problem

PICTURE = Picture(1, "x.png", 64, 48)


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def header_only(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return PNG_SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def png(size: tuple[int, int], mode: str = "1") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


def test_a_png_of_the_pictures_size_passes_and_others_say_why() -> None:
    assert mask_problem(png((64, 48)), PICTURE) is None
    assert mask_problem(png((64, 48), "RGBA"), PICTURE) is None
    problem = mask_problem(png((65, 48)), PICTURE)
    assert problem is not None
    assert "65x48, the picture 64x48" in CATALOGUES.render(problem, "en")
    assert mask_problem(header_only(100_000, 100_000), PICTURE) == NOT_PNG
    gif = io.BytesIO()
    Image.new("L", (64, 48)).save(gif, "GIF")
    assert mask_problem(gif.getvalue(), PICTURE) == NOT_PNG
    assert mask_problem(None, PICTURE) == NOT_PNG


@given(st.binary(max_size=300))
def test_any_bytes_get_an_answer_never_an_exception(data: bytes) -> None:
    for candidate in (data, PNG_SIGNATURE + data):
        problem = mask_problem(candidate, PICTURE)
        assert problem is None or isinstance(problem, Text)


@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_any_claimed_size_gets_an_answer(width: int, height: int) -> None:
    problem = mask_problem(header_only(width, height), PICTURE)
    assert problem is None or isinstance(problem, Text)
