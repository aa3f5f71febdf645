"""The gallery and the editor in the visitor's language, in Chromium: an Arabic browser gets a
right-to-left gallery in Arabic with a Latin prompt kept in its own direction; the language
links switch to German, and German sticks on the next pages; a Russian browser gets the
editor in Russian, its refusal too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from bot.web.edit_orders import EditorSetup
from tests.support.browser import chromium
from tests.support.web import RecordingDesk, running_site

pytestmark = pytest.mark.e2e

LATIN = "a lighthouse in a storm, 4k"


async def direction(page: Page, selector: str) -> str:
    return str(await page.eval_on_selector(selector, "e => getComputedStyle(e).direction"))


@pytest.mark.timeout(120)
async def test_an_arabic_visitor_reads_right_to_left_and_picks_german_which_sticks(
    tmp_path: Path,
) -> None:
    async with running_site(tmp_path) as site:
        gen_id = site.add(prompt=LATIN, created_at=1_760_000_000)
        async with chromium() as browser:
            context = await browser.new_context(
                locale="ar", viewport={"width": 1000, "height": 700}
            )
            page = await context.new_page()
            await page.goto(site.link("discord", "100"))
            assert await page.get_attribute("html", "lang") == "ar"
            assert await page.get_attribute("html", "dir") == "rtl"
            await expect(page.locator(".filters button[type=submit]")).to_have_text("بحث")
            assert await page.get_attribute("#q", "placeholder") == "البحث في الأوصاف (اضغط /)"
            # The Latin prompt keeps its own direction inside the right-to-left page.
            assert await direction(page, "body") == "rtl"
            assert await direction(page, ".caption .prompt") == "ltr"
            await expect(page.locator(".caption .prompt")).to_have_text(LATIN)
            # Mirrored: the gallery's name sits at the right end of the bar.
            home = await page.locator(".home").bounding_box()
            assert home is not None and home["x"] > 500
            await page.screenshot(path=str(tmp_path / "arabic.png"), full_page=True)

            await page.click("footer.languages a[hreflang=de]")
            await expect(page.locator("html")).to_have_attribute("lang", "de")
            await expect(page.locator(".filters button[type=submit]")).to_have_text("Suchen")
            await page.goto(f"{site.url}/g/discord/100/i/{gen_id}")  # no ?lang= any more
            await expect(page.locator("#copy-prompt")).to_have_text("Prompt kopieren")
            assert await page.get_attribute("html", "dir") == "ltr"
            assert (await page.inner_text("time")).startswith("09.10.2025")  # Babel, German
            await page.click("#copy-prompt")
            await expect(page.locator("#copy-prompt")).to_have_text(
                re.compile("Kopiert|Markiert: drück Strg\\+C")
            )
            await context.close()


@pytest.mark.timeout(120)
async def test_a_russian_visitor_gets_the_editor_and_its_refusal_in_russian(
    tmp_path: Path,
) -> None:
    desk = RecordingDesk()
    async with running_site(tmp_path, edits=EditorSetup({"discord": desk})) as site:
        gen_id = site.add(prompt="a red fox")
        link = site.editor_link(gen_id)
        async with chromium() as browser:
            context = await browser.new_context(locale="ru-RU")
            page = await context.new_page()
            await page.goto(link)
            assert await page.get_attribute("html", "lang") == "ru"
            await expect(page.locator("h1")).to_have_text("Вариация (область)")
            await expect(page.locator("[data-tool=brush]")).to_have_text("🖌 Кисть")
            await expect(page.locator("#go")).to_have_text("Изменить область")
            box = await page.locator("#mask").bounding_box()
            assert box is not None
            await page.mouse.move(box["x"] + 5, box["y"] + 5)
            await page.mouse.down()
            await page.mouse.move(box["x"] + 20, box["y"] + 20)
            await page.mouse.up()
            await page.click("#go")
            await expect(page.locator("main.sent")).to_have_count(1)
            await page.goto(link)  # the link's one use is spent: said in Russian
            await expect(page.locator("#message")).to_have_text(
                "Эта ссылка на редактор уже использована. "
                "Нажмите 🖌 под картинкой, чтобы получить новую."
            )
            await context.close()
    assert len(desk.orders) == 1
