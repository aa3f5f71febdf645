"""Padded canvases and masks in pixels: where the picture lands, which ratio the canvas is cut
to, which pixels the mask marks, and how drawn masks are read and refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.core.errors import BadInputImage
from bot.core.generation.canvases import check_mask, for_alpha, for_white, outpaint_canvas, padded
from bot.core.models import EditRequest
from tests.fakes.openai_images import bomb_png


def picture(width: int, height: int, colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.copy()


def white(mask: bytes, xy: tuple[int, int]) -> bool:
    return bool(opened(mask).convert("L").getpixel(xy) == 255)


@pytest.mark.parametrize(
    ("size", "edit", "canvas", "aspect"),
    [
        ((1024, 1024), EditRequest(action="zoom", factor=2), (2048, 2048), "1:1"),
        ((1024, 1024), EditRequest(action="zoom", factor=1.5), (1536, 1536), "1:1"),
        ((1024, 1024), EditRequest(action="pan", direction="left"), (1536, 1024), "3:2"),
        ((1024, 1024), EditRequest(action="pan", direction="down"), (1024, 1536), "2:3"),
        ((1024, 576), EditRequest(action="square"), (1024, 1024), "1:1"),
        ((1536, 1024), EditRequest(action="zoom", factor=2), (2048, 1365), "3:2"),
        # 1536x1024 panned right is 2304x1024 (2.25): cut to 16:9, the new right side kept.
        ((1536, 1024), EditRequest(action="pan", direction="right"), (1820, 1024), "16:9"),
    ],
)
def test_the_canvas_is_grown_then_cut_to_one_of_the_five_ratios(
    size: tuple[int, int], edit: EditRequest, canvas: tuple[int, int], aspect: str
) -> None:
    source = picture(*size)
    made = outpaint_canvas(source, edit)
    assert (made.width, made.height) == canvas and made.aspect == aspect
    assert made.image == source  # the bot plans; the worker pads
    assert opened(padded(made.image, made.mask)).size == opened(made.mask).size == canvas


def test_a_pan_keeps_the_new_side_whole_and_cuts_the_far_one() -> None:
    made = outpaint_canvas(picture(1536, 1024), EditRequest(action="pan", direction="right"))
    # 1820 px wide: 1052 px of the picture on the left (its own left third is cut off), then
    # the new 768 px on the right, all of it to fill.
    assert not white(made.mask, (10, 500)) and not white(made.mask, (1040, 500))
    assert white(made.mask, (1060, 500)) and white(made.mask, (1815, 500))
    share = opened(made.mask).convert("L").histogram()[255] / (1820 * 1024)
    assert share == pytest.approx(768 / 1820, abs=0.01)


def test_the_picture_is_drawn_in_the_middle_and_the_new_area_filled_with_its_colour() -> None:
    made = outpaint_canvas(picture(512, 512, (10, 120, 240)), EditRequest(action="zoom", factor=2))
    encoded = padded(made.image, made.mask)
    canvas = opened(encoded)
    assert encoded[:3] == b"\xff\xd8\xff"  # a JPEG
    assert canvas.size == (1024, 1024)
    assert white(made.mask, (5, 5)) and not white(made.mask, (512, 512))
    red, green, blue = canvas.getpixel((512, 512))  # type: ignore[misc]
    assert abs(red - 10) < 8 and abs(green - 120) < 8 and abs(blue - 240) < 8
    corner = canvas.getpixel((5, 5))
    assert corner == pytest.approx(canvas.getpixel((512, 512)), abs=8)  # mean colour
    assert (
        made.note == "zoomed out 2x: the picture on a 1024x1024 canvas (1:1), the new area filled"
    )


def test_a_large_canvas_is_scaled_down_to_2048_px() -> None:
    made = outpaint_canvas(picture(2048, 2048), EditRequest(action="zoom", factor=2))
    assert (made.width, made.height) == (2048, 2048)
    assert not white(made.mask, (1024, 1024)) and white(made.mask, (400, 1024))
    assert white(made.mask, (1600, 1024)) and not white(made.mask, (1530, 1024))


def mask_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_a_drawn_mask_is_read_by_alpha_when_it_has_transparency_else_by_lightness() -> None:
    erased = Image.new("RGBA", (100, 100), (255, 255, 255, 255))
    erased.paste((255, 255, 255, 0), (0, 0, 50, 100))  # white but transparent: change
    kept = opened(check_mask(mask_png(erased), (100, 100)))
    assert kept.mode == "1" and kept.getpixel((10, 10)) == 255 and kept.getpixel((90, 10)) == 0
    painted = Image.new("L", (100, 100), 0)
    painted.paste(255, (50, 0, 100, 100))
    kept = opened(check_mask(mask_png(painted), (100, 100)))
    assert kept.getpixel((10, 10)) == 0 and kept.getpixel((90, 10)) == 255


@pytest.mark.parametrize(
    ("mask", "said"),
    [
        (mask_png(Image.new("L", (64, 64), 255)), "is 64x64 pixels but the picture is 100x100"),
        (mask_png(Image.new("L", (100, 100), 0)), "marks nothing"),
        (mask_png(Image.new("RGBA", (100, 100), (0, 0, 0, 0))), "covers the whole picture"),
        (b"GIF89a not a png", "must be a PNG picture of 100x100 pixels"),
        (bomb_png(30000, 30000), "must be a PNG picture of 100x100 pixels"),
        (mask_png(Image.effect_noise((100, 100), 80))[:2000], "must be a PNG picture"),
    ],
)
def test_a_mask_that_cannot_be_used_is_refused_in_plain_words(mask: bytes, said: str) -> None:
    with pytest.raises(BadInputImage, match=said):
        check_mask(mask, (100, 100))


def test_masks_for_each_api_at_the_size_the_picture_is_sent() -> None:
    drawn = Image.new("L", (200, 100), 0)
    drawn.paste(255, (0, 0, 100, 100))
    kept = check_mask(mask_png(drawn), (200, 100))
    alpha = opened(for_alpha(kept, (100, 50)))
    assert alpha.mode == "RGBA" and alpha.size == (100, 50)
    assert alpha.getpixel((10, 10))[3] == 0 and alpha.getpixel((90, 10))[3] == 255  # type: ignore[index]
    grey = opened(for_white(kept, (100, 50)))
    assert grey.mode == "L" and grey.getpixel((10, 10)) == 255 and grey.getpixel((90, 10)) == 0
    assert sum(grey.histogram()[1:255]) == 0  # still two values after scaling


def test_a_pan_cut_short_pads_the_picture_at_its_size_not_squeezed() -> None:
    source = Image.new("RGB", (1536, 1024), (0, 0, 0))
    source.paste((250, 250, 250), (1436, 0, 1536, 1024))  # a white stripe on the right edge
    out = io.BytesIO()
    source.save(out, format="PNG")
    made = outpaint_canvas(out.getvalue(), EditRequest(action="pan", direction="right"))
    canvas = opened(padded(made.image, made.mask))
    # The picture starts 484 px left of the canvas: its right edge (the stripe) ends at 1052.
    assert canvas.getpixel((1000, 500))[0] > 200  # type: ignore[index]
    assert canvas.getpixel((900, 500))[0] < 50  # type: ignore[index]


def test_padding_needs_a_mask_the_bot_planned() -> None:
    plain = mask_png(Image.new("1", (64, 64), 1))
    with pytest.raises(ValueError, match="does not say where the picture goes"):
        padded(picture(32, 32), plain)
