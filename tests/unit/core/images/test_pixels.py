"""Input pictures made safe, grids, crops and PNG parameters (bot.core.images.pixels), on real bytes."""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterator

import pytest
from PIL import Image, PngImagePlugin

from bot.core.errors import BadInputImage
from bot.core.images.parameters import generation_parameters
from bot.core.images.pixels import (
    compose_grid,
    crop_to_aspect,
    fit,
    limit_pixels,
    load_input,
)
from tests.fakes import secret_pictures
from tests.fakes.openai_images import bomb_png, make_png


@pytest.fixture(autouse=True)
def pillow_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)
    with warnings.catch_warnings():
        limit_pixels(40_000_000)
        yield


def _jpeg_with_gps(width: int, height: int) -> tuple[bytes, Image.Image]:
    picture = Image.new("RGB", (width, height))
    for x in range(width):
        for y in range(height):
            picture.putpixel((x, y), (x * 7 % 256, y * 5 % 256, (x + y) % 256))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 51.0, 24.0)  # GPSLatitudeRef, GPSLatitude
    gps[3], gps[4] = "E", (2.0, 21.0, 3.0)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=100, subsampling=0, exif=exif.tobytes())
    with Image.open(io.BytesIO(out.getvalue())) as decoded:
        return out.getvalue(), decoded.convert("RGB")


def test_exif_with_gps_is_stripped_and_the_pixels_survive_the_new_encoding() -> None:
    data, decoded = _jpeg_with_gps(40, 30)
    with Image.open(io.BytesIO(data)) as original:
        assert original.getexif().get_ifd(0x8825)  # the location is really in the upload
    clean = load_input(data)
    assert b"PhoneMaker" in data and b"PhoneMaker" not in clean.data
    with Image.open(io.BytesIO(clean.data)) as result:
        assert result.format == "JPEG" and clean.format == "JPEG"
        assert not result.getexif() and "exif" not in result.info
        assert not any(k in result.info for k in ("icc_profile", "comment", "xmp"))
        # Encoded anew at high quality: the pixels barely move.
        before, after = decoded.tobytes(), result.convert("RGB").tobytes()
        assert max(abs(a - b) for a, b in zip(before, after, strict=True)) <= 16
    assert (clean.width, clean.height, clean.source_format) == (40, 30, "JPEG")


def test_png_text_exif_and_icc_chunks_are_dropped_and_the_pixels_kept() -> None:
    picture = Image.new("RGBA", (20, 10), (10, 200, 30, 128))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "someone@example.org")
    info.add_text("parameters", "a secret prompt")
    exif = Image.Exif()
    exif[0x8825] = {2: (1.0, 2.0, 3.0)}
    out = io.BytesIO()
    picture.save(out, format="PNG", pnginfo=info, exif=exif.tobytes(), icc_profile=b"\0" * 200)
    clean = load_input(out.getvalue())
    assert b"someone@example.org" not in clean.data and b"eXIf" not in clean.data
    assert b"iCCP" not in clean.data and b"tEXt" not in clean.data
    with Image.open(io.BytesIO(clean.data)) as result:
        assert result.format == "PNG" and result.mode == "RGBA"
        assert result.tobytes() == picture.tobytes()


def test_a_large_photo_is_shrunk_to_the_side_limit_on_input() -> None:
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), (90, 120, 150)).save(out, format="JPEG", quality=90)
    clean = load_input(out.getvalue())
    assert (clean.width, clean.height) == (1536, 1152)  # decoded at half scale, then shrunk
    wide = io.BytesIO()
    Image.new("RGB", (3000, 2000), (90, 120, 150)).save(wide, format="JPEG", quality=90)
    half = load_input(wide.getvalue())
    assert (half.width, half.height) == (1500, 1000)  # 1500 is over 70 % of 1536: no resize
    small = load_input(out.getvalue(), max_side=1000)
    with Image.open(io.BytesIO(small.data)) as result:
        assert result.size == (1000, 750) and (small.width, small.height) == (1000, 750)


def test_the_exif_orientation_is_applied_before_it_is_dropped() -> None:
    picture = Image.new("RGB", (40, 20), (200, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees: the camera was held upright
    out = io.BytesIO()
    picture.save(out, format="JPEG", exif=exif.tobytes())
    clean = load_input(out.getvalue())
    assert (clean.width, clean.height) == (20, 40)
    with Image.open(io.BytesIO(clean.data)) as result:
        assert result.size == (20, 40) and not result.getexif()


def test_a_text_file_named_png_is_refused_in_plain_words() -> None:
    with pytest.raises(BadInputImage, match="not a picture the bot can read"):
        load_input(b"hello, I am a text file pretending to be cat.png\n" * 20)


def test_a_truncated_picture_is_refused() -> None:
    data = make_png(300, 300, "x")
    with pytest.raises(BadInputImage, match="not a picture"):
        load_input(data[: len(data) // 2])


def test_a_huge_png_of_a_few_kilobytes_is_refused_before_decoding() -> None:
    bomb = bomb_png(20000, 20000)
    assert len(bomb) < 100_000  # a few KB on the wire, 400 M pixels once decoded
    with pytest.raises(BadInputImage, match="more than the 16,000,000 pixels this bot takes"):
        load_input(bomb)


def test_the_pixel_cap_is_the_callers() -> None:
    with pytest.raises(BadInputImage, match="more than the 10,000 pixels"):
        load_input(make_png(200, 100, "x"), max_pixels=10_000)


def test_the_byte_cap_is_checked_first() -> None:
    with pytest.raises(BadInputImage, match="the most this bot takes is 1 MB"):
        load_input(b"\x00" * 1_200_000, max_bytes=1_000_000)


def test_an_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (32, 16), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    clean = load_input(out.getvalue())
    assert clean.animated and clean.source_format == "GIF"
    with Image.open(io.BytesIO(clean.data)) as result:
        assert not getattr(result, "is_animated", False)
        assert result.convert("RGB").getpixel((5, 5)) == (255, 0, 0)


def test_fit_passes_an_acceptable_picture_through_untouched() -> None:
    data = load_input(make_png(300, 200, "x")).data
    assert fit(data, max_side=1024, keep=("PNG", "JPEG")) is data
    assert fit(data, max_side=1024, multiple=64, keep=("PNG",)) != data  # 300 is no multiple


def test_fit_shrinks_to_the_provider_limit_in_multiples() -> None:
    data = load_input(make_png(1500, 1000, "x")).data
    resized = fit(data, max_side=1024, multiple=64, format="WEBP")
    with Image.open(io.BytesIO(resized)) as result:
        assert result.format == "WEBP"
        assert result.size == (1024, 640)  # 1024 x 682 rounded down to multiples of 64
    small = fit(make_png(100, 60, "y"), max_side=1024)
    with Image.open(io.BytesIO(small)) as result:
        assert result.size == (100, 60)  # never enlarged


def test_crop_to_aspect_is_exact_and_centred() -> None:
    picture = Image.new("RGB", (1536, 1024), (0, 0, 0))
    picture.paste((255, 255, 255), (0, 0, 100, 1024))  # a white band on the left edge
    out = io.BytesIO()
    picture.save(out, format="PNG")
    cropped = crop_to_aspect(out.getvalue(), (16, 9))
    with Image.open(io.BytesIO(cropped)) as result:
        assert result.size == (1536, 864)
        assert result.getpixel((0, 0)) == (255, 255, 255)  # wide enough: top and bottom cut
    tall = crop_to_aspect(out.getvalue(), (1, 1))
    with Image.open(io.BytesIO(tall)) as result:
        assert result.size == (1024, 1024)
        assert result.getpixel((0, 0)) == (0, 0, 0)  # the band was on a side that was cut


@pytest.mark.parametrize(
    ("count", "size", "origins"),
    [
        (4, (1028, 1028), [(0, 0), (516, 0), (0, 516), (516, 516)]),
        (2, (1028, 512), [(0, 0), (516, 0)]),
        (3, (1544, 512), [(0, 0), (516, 0), (1032, 0)]),
    ],
)
def test_grid_layouts_put_each_tile_in_its_place(
    count: int, size: tuple[int, int], origins: list[tuple[int, int]]
) -> None:
    colours = [(250, 0, 0), (0, 250, 0), (0, 0, 250), (250, 250, 0)][:count]
    pictures = []
    for colour in colours:
        out = io.BytesIO()
        Image.new("RGB", (1024, 1024), colour).save(out, format="PNG")
        pictures.append(out.getvalue())
    grid = compose_grid(pictures)
    assert (grid.width, grid.height) == size
    assert [(t.left, t.top) for t in grid.tiles] == origins
    assert [t.number for t in grid.tiles] == list(range(1, count + 1))
    with Image.open(io.BytesIO(grid.data)) as image:
        assert image.size == size
        for tile, colour in zip(grid.tiles, colours, strict=True):
            centre = image.getpixel((tile.left + 256, tile.top + 256))
            assert all(abs(a - b) < 12 for a, b in zip(centre, colour, strict=True))
            # the tile number: a dark square with a light digit near the tile's corner
            corner = image.crop((tile.left, tile.top, tile.left + 60, tile.top + 60))
            darkest, lightest = corner.convert("L").getextrema()
            assert darkest < 40 and lightest > 200


def test_a_grid_takes_one_to_four() -> None:
    with pytest.raises(ValueError, match="1 to 4"):
        compose_grid([make_png(8, 8, str(i)) for i in range(5)])


def _png_with_text(**chunks: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def test_automatic1111_parameters_are_read() -> None:
    text = (
        "a red fox in the snow, (masterpiece:1.2)\n"
        "Negative prompt: blurry, lowres\n"
        "Steps: 20, Sampler: DPM++ 2M, CFG scale: 7, Seed: 1234, Size: 512x512, Model: sdxl"
    )
    found = generation_parameters(_png_with_text(parameters=text))
    assert found is not None and found.source == "automatic1111"
    assert found.prompt == "a red fox in the snow, (masterpiece:1.2)"
    assert found.negative_prompt == "blurry, lowres"
    assert found.settings["Seed"] == "1234" and found.settings["Sampler"] == "DPM++ 2M"


def test_comfyui_prompt_chunk_is_read() -> None:
    workflow = {
        "3": {
            "class_type": "KSampler",
            "inputs": {"seed": 5, "steps": 20, "positive": ["6", 0], "negative": ["7", 0]},
        },
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a lighthouse at dusk"}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "text, watermark"}},
    }
    found = generation_parameters(_png_with_text(prompt=json.dumps(workflow), workflow="{}"))
    assert found is not None and found.source == "comfyui"
    assert (found.prompt, found.negative_prompt) == ("a lighthouse at dusk", "text, watermark")
    assert found.settings["seed"] == "5"


def test_pictures_without_parameters_have_none() -> None:
    assert generation_parameters(make_png(8, 8, "x")) is None
    assert generation_parameters(b"not a png") is None
    assert generation_parameters(_png_with_text(prompt="not json")) is None


@pytest.mark.parametrize("cut", [3, 30, 200])
def test_a_broken_jpeg_container_is_refused(cut: int) -> None:
    data, _ = _jpeg_with_gps(40, 30)
    with pytest.raises(BadInputImage, match="not a picture the bot can read"):
        load_input(data[:cut])


@pytest.mark.parametrize("kind", sorted(secret_pictures.ALL))
def test_whatever_hides_around_the_pixels_is_gone_after_the_new_encoding(kind: str) -> None:
    data = secret_pictures.ALL[kind]()
    assert secret_pictures.SECRET in data  # really in the upload
    clean = load_input(data)
    assert secret_pictures.SECRET not in clean.data
    for marker in (b"Exif", b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"XMP", b"xmpmeta", b"PK\x03\x04"):
        assert marker not in clean.data, marker
    if clean.format == "JPEG":
        # One image, cut at its end: one start-of-image marker, nothing after the end.
        assert clean.data.count(b"\xff\xd8\xff") == 1 and clean.data.endswith(b"\xff\xd9")
    else:
        assert clean.data.endswith(b"IEND\xaeB`\x82")
    with Image.open(io.BytesIO(clean.data)) as result:
        assert result.size == (64, 48) and not result.getexif()


@pytest.mark.e2e  # starts the benchmark's process
def test_the_grid_benchmark_prints_its_figures() -> None:
    import subprocess
    import sys

    from tests.support import ROOT

    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "grid_compose.py"), "--grids", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    figures = json.loads(run.stdout)
    assert figures["scenario"] == "grid_compose" and figures["grid_bytes"] > 0
    assert {"cpu_ms_p50", "cpu_ms_p95", "loop_lag_ms_max", "targets_met"} <= set(figures)


def png_of(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1024, 1024), colour).save(out, format="PNG")
    return out.getvalue()


def test_labels_are_drawn_on_a_dark_band_along_each_tiles_bottom() -> None:
    pictures = [png_of((250, 250, 250)), png_of((250, 250, 250))]
    plain = compose_grid(pictures)
    labelled = compose_grid(pictures, labels=["Anime", "a very long label " * 20])
    with (
        Image.open(io.BytesIO(plain.data)) as before,
        Image.open(io.BytesIO(labelled.data)) as after,
    ):
        for tile in labelled.tiles:
            box = (
                tile.left,
                tile.top + tile.height - 30,
                tile.left + tile.width,
                tile.top + tile.height - 4,
            )
            band = after.crop(box).convert("L").histogram()
            assert sum(band[:50]) / sum(band) > 0.6 and any(band[201:])  # dark, with text
            untouched = before.crop(box).convert("L").histogram()
            assert sum(untouched[:50]) == 0  # the same place without a label is the picture
