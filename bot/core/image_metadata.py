"""Metadata out of JPEG and PNG files without touching the pixels (no re-encoding).

Decoding a phone photo and encoding it again costs hundreds of milliseconds of CPU and, for
JPEG, a generation of quality; dropping the segments that carry metadata costs a few
microseconds and leaves the compressed pixels byte for byte. So an upright picture within
the size limits keeps its pixel data, and loses: in JPEG the APP1-APP15 segments (EXIF with
the location, XMP, ICC profiles, maker notes, Photoshop IPTC), APP0 (JFIF, which may carry a
thumbnail of the uncropped picture) and comments, keeping APP14 (Adobe, which says how the
colours are stored); in PNG every ancillary
chunk but transparency and the colour space basics (`tRNS`, `gAMA`, `cHRM`, `sRGB`), so
text (`tEXt`, `zTXt`, `iTXt`), `eXIf`, `iCCP` and `tIME` go.

Hand-written because Pillow offers no lossless metadata removal, and the two container
formats are simple and fully specified (ITU T.81 markers; PNG chunks). The result is decoded
again by the caller, so a malformed file is refused there.
"""

from __future__ import annotations

import struct

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEEP = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB"}
JPEG_KEEP_APP = {0xEE}  # APP14 (Adobe colour transform)


class Malformed(ValueError):
    """The container structure is broken; the caller refuses the file."""


def strip_png(data: bytes) -> bytes:
    if not data.startswith(PNG_SIGNATURE):
        raise Malformed("not a PNG")
    out = [PNG_SIGNATURE]
    pos = len(PNG_SIGNATURE)
    while pos < len(data):
        if pos + 8 > len(data):
            raise Malformed("truncated chunk header")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise Malformed("truncated chunk")
        if kind in PNG_KEEP:
            out.append(data[pos:end])
        pos = end
        if kind == b"IEND":
            break
    return b"".join(out)


def strip_jpeg(data: bytes) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise Malformed("not a JPEG")
    out = [b"\xff\xd8"]
    pos = 2
    while pos < len(data):
        if data[pos] != 0xFF:
            raise Malformed("expected a marker")
        marker = data[pos + 1] if pos + 1 < len(data) else None
        if marker is None:
            raise Malformed("truncated marker")
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: the rest is entropy-coded data and EOI
            out.append(data[pos:])
            return b"".join(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            out.append(data[pos : pos + 2])
            pos += 2
            continue
        if pos + 4 > len(data):
            raise Malformed("truncated segment")
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise Malformed("truncated segment")
        metadata = (0xE0 <= marker <= 0xEF and marker not in JPEG_KEEP_APP) or marker == 0xFE
        if not metadata:
            out.append(data[pos:end])
        pos = end
    raise Malformed("no image data")
