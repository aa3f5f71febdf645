"""No word of the gallery or the editor escapes the catalogue (issue 29 item 7): Chromium opens
every kind of page in the pseudo-locale `en_XA`, picked once with the language link's
`?lang=` and kept by its cookie, and every text node and every attribute meant for people
must be pseudo-localised; user text (prompts, names, a server's own style) and data (seeds,
sizes, dates) aside, as the pages mark them."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page

from bot.web.edit_orders import EditorSetup
from tests.support.browser import chromium
from tests.support.pseudo import PAGE_TEXTS_JS, localised, unlocalised
from tests.support.web import RecordingDesk, running_site

pytestmark = pytest.mark.e2e


async def escaped(page: Page, url: str) -> list[str]:
    """What `url` shows people that is not from the catalogue."""
    await page.goto(url)
    await page.wait_for_load_state("load")
    assert await page.get_attribute("html", "lang") == "en-XA"
    return unlocalised(await page.evaluate(PAGE_TEXTS_JS))


def test_the_check_tells_a_catalogue_text_from_one_that_escaped() -> None:
    assert localised("⟦Gålléŕý⟧ · imaginebot") and localised("⟦Pîçtüŕéš bý ") and localised("⟧")
    assert localised("64 × 48 · 🖌") and localised("⟦Öñé⟧ ⟦Ţŵö⟧")
    assert not localised("Gallery") and not localised("⟦Šéåŕçĥ⟧ Search")
    assert not localised("Load more ⟦Ö⟧") and not localised("Галерея")


@pytest.mark.timeout(120)
async def test_every_page_in_the_pseudo_locale_shows_only_catalogue_words(
    tmp_path: Path,
) -> None:
    desk = RecordingDesk()
    async with running_site(tmp_path, edits=EditorSetup({"discord": desk})) as site:
        fox = site.add(prompt="a fox asleep in snow", created_at=1_760_000_000)
        site.add(prompt="a lighthouse", user="u2", created_at=1_760_000_100)
        site.execute("UPDATE generations SET hidden = 1 WHERE prompt = ?", ("a lighthouse",))
        base = f"{site.url}/g/discord/100/"
        found: dict[str, list[str]] = {}
        async with chromium() as browser:
            page = await (await browser.new_context()).new_page()
            await page.goto(site.link("discord", "100", admin=True) + "&lang=en_XA")
            found["gallery"] = await escaped(page, base)
            assert await page.locator(".grid img").count() == 2
            found["by one person"] = await escaped(page, f"{base}?user=u1")
            found["nothing matches"] = await escaped(page, f"{base}?q=zebra")
            found["detail"] = await escaped(page, f"{base}i/{fox}")
            assert await page.locator("form.danger button").count() == 1
            found["not found"] = await escaped(page, f"{base}i/0123456789abcdef")
            found["bad request"] = await escaped(page, f"{base}?cursor=nonsense")
            found["editor"] = await escaped(page, site.editor_link(fox))
            found["editor closed"] = await escaped(
                page, site.editor_link(fox, platform="telegram", scope="-100")
            )
            found["not allowed"] = await escaped(page, f"{site.url}/g/discord/200/")
            empty = f"{site.url}/g/telegram/-100/"
            await page.goto(site.link("telegram", "-100"))
            found["empty"] = await escaped(page, empty)
    assert {name: texts for name, texts in found.items() if texts} == {}
