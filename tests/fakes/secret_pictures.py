"""Pictures users send that carry more than pixels, as real cameras and crafted files do.

Each holds the marker `SECRET` (a place name, standing for a GPS block) somewhere a
segment-by-segment clean-up can miss: between the scans of a progressive JPEG, in a second
JPEG after the end of the first (MPF, gain maps, camera previews), in a ZIP appended to a
JPEG (a polyglot), in PNG text and eXIf chunks, in WebP EXIF and XMP. A clean copy contains
the marker nowhere.
"""

from __future__ import annotations

import io
import struct
import zipfile

from PIL import Image, PngImagePlugin

SECRET = b"GPS-48.8566N-2.3522E-SECRET"


def _photo(width: int = 64, height: int = 48) -> Image.Image:
    picture = Image.new("RGB", (width, height))
    for x in range(width):
        for y in range(height):
            picture.putpixel((x, y), (x * 4 % 256, y * 5 % 256, (x + y) * 3 % 256))
    return picture


def _exif_with_secret() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = SECRET.decode()  # Make
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0)}  # GPSInfo
    return exif.tobytes()


def _app1(payload: bytes) -> bytes:
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def progressive_with_exif_between_scans() -> bytes:
    out = io.BytesIO()
    _photo().save(out, format="JPEG", quality=90, progressive=True)
    data = out.getvalue()
    first = data.index(b"\xff\xda")
    second = data.index(b"\xff\xda", first + 2)
    segment = _app1(b"Exif\x00\x00" + _exif_with_secret()[6:] + SECRET)
    return data[:second] + segment + data[second:]


def jpeg_with_appended_jpeg() -> bytes:
    """The layout of MPF / gain-map photos: a second full JPEG after the first's EOI."""
    first, second = io.BytesIO(), io.BytesIO()
    _photo().save(first, format="JPEG", quality=90)
    _photo(32, 24).save(second, format="JPEG", quality=90, exif=_exif_with_secret())
    return first.getvalue() + second.getvalue()


def jpeg_zip_polyglot() -> bytes:
    picture, archive = io.BytesIO(), io.BytesIO()
    _photo().save(picture, format="JPEG", quality=90)
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("index.html", b"<script>alert(1)</script>" + SECRET)
    return picture.getvalue() + archive.getvalue()


def png_with_every_text_chunk() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SECRET.decode())  # tEXt
    info.add_text("Location", SECRET.decode(), zip=True)  # zTXt
    info.add_itxt("Description", SECRET.decode(), lang="en", tkey="Description")  # iTXt
    out = io.BytesIO()
    _photo().save(out, format="PNG", pnginfo=info, exif=_exif_with_secret())  # eXIf
    return out.getvalue()


def webp_with_exif_and_xmp() -> bytes:
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>' + SECRET + b"</rdf:RDF></x:xmpmeta>"
    out = io.BytesIO()
    _photo().save(out, format="WEBP", quality=90, exif=_exif_with_secret(), xmp=xmp)
    return out.getvalue()


ALL = {
    "progressive JPEG, Exif between scans": progressive_with_exif_between_scans,
    "JPEG with an appended JPEG (MPF)": jpeg_with_appended_jpeg,
    "JPEG + ZIP polyglot": jpeg_zip_polyglot,
    "PNG with tEXt, zTXt, iTXt, eXIf": png_with_every_text_chunk,
    "WebP with EXIF and XMP": webp_with_exif_and_xmp,
}
