"""The editor's tools in headless Chromium, each checked in the mask it uploads: a one-bit PNG of
the picture's size, white where the area to change is. The gallery runs in this process with
a desk that records what the editor sent (the chats' desks are in test_editor_browser.py)."""

from __future__ import annotations

import io
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import Browser, Page, expect

from bot.web.edit_orders import EditorSetup
from tests.support.browser import CHROMIUM, chromium
from tests.support.web import RecordingDesk, Site, running_site

pytestmark = pytest.mark.e2e

Point = tuple[float, float]  # fractions of the picture


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    assert shutil.which(CHROMIUM), "Debian's chromium is not installed (.ci/run installs it)"
    async with chromium() as opened:
        yield opened


def picture_row(site: Site) -> str:
    gen_id = site.add(prompt="a quiet harbour")
    image = Image.new("RGB", (400, 300), (40, 90, 160))
    image.save(site.config.images_dir / f"{gen_id}.png")
    site.execute(
        "UPDATE generations SET image_width = 400, image_height = 300 WHERE id = ?", (gen_id,)
    )
    return gen_id


async def drag(page: Page, tool: str, points: list[Point]) -> None:
    await page.click(f"[data-tool={tool}]")
    box = await page.locator("#mask").bounding_box()
    assert box is not None

    def at(p: Point) -> tuple[float, float]:
        return box["x"] + box["width"] * p[0], box["y"] + box["height"] * p[1]

    await page.mouse.move(*at(points[0]))
    await page.mouse.down()
    for point in points[1:]:
        await page.mouse.move(*at(point), steps=4)
    await page.mouse.up()


async def sent_mask(
    browser: Browser, site: Site, desk: RecordingDesk, gen_id: str, steps: list[str | tuple]
) -> Image.Image:
    links = site.editor_links()
    page = await browser.new_page(viewport={"width": 900, "height": 800})
    await page.goto(links.url(links.make("discord", "100", gen_id, user_id="u1")))
    await page.wait_for_function("document.getElementById('picture').width === 400")
    for step in steps:
        if isinstance(step, str):
            await page.click(step)
        else:
            await drag(page, step[0], list(step[1:]))
    await page.click("#go")
    await expect(page.locator("#status")).to_contain_text("Queued")
    await page.close()
    mask = Image.open(io.BytesIO(desk.orders[-1].mask))
    assert (mask.format, mask.mode, mask.size) == ("PNG", "1", (400, 300))
    return mask


def marked(mask: Image.Image, *points: Point) -> list[bool]:
    w, h = mask.size
    return [mask.getpixel((int(w * x), int(h * y))) != 0 for x, y in points]


async def test_each_tool_marks_what_it_drew_in_a_one_bit_mask(
    tmp_path: Path, browser: Browser
) -> None:
    desk = RecordingDesk()
    async with running_site(tmp_path, edits=EditorSetup({"discord": desk})) as site:
        ids = [picture_row(site) for _ in range(4)]
        rectangle = await sent_mask(
            browser, site, desk, ids[0], [("rect", (0.1, 0.1), (0.25, 0.3), (0.4, 0.5))]
        )
        assert marked(rectangle, (0.2, 0.2), (0.38, 0.48), (0.6, 0.6), (0.9, 0.9)) == [
            True,
            True,
            False,
            False,
        ]

        stroke = ("brush", (0.2, 0.5), (0.5, 0.5), (0.8, 0.5))
        rubbed = ("eraser", (0.5, 0.3), (0.5, 0.5), (0.5, 0.7))
        erased = await sent_mask(browser, site, desk, ids[1], [stroke, rubbed])
        assert marked(erased, (0.3, 0.5), (0.5, 0.5), (0.7, 0.5), (0.3, 0.1)) == [
            True,
            False,
            True,
            False,
        ]
        undone = await sent_mask(browser, site, desk, ids[2], [stroke, rubbed, "#undo"])
        assert marked(undone, (0.3, 0.5), (0.5, 0.5), (0.7, 0.5)) == [True, True, True]

        ring = [(0.4, 0.4), (0.6, 0.4), (0.6, 0.6), (0.4, 0.6)]
        inverted = await sent_mask(browser, site, desk, ids[3], [("lasso", *ring), "#invert"])
        assert marked(inverted, (0.5, 0.5), (0.1, 0.1), (0.9, 0.9)) == [False, True, True]
    assert [o.link.generation_id for o in desk.orders] == ids
