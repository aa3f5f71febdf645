"""The gallery in a real browser: headless Chromium opens a signed link, sees exactly that
chat's thumbnails, searches, opens a picture, copies its prompt, deletes it; a screenshot of
each page is saved in the test's output folder."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.support import ROOT
from tests.support.browser import chromium
from tests.support.web import Site, running_site

pytestmark = pytest.mark.e2e


async def thumbnails_shown(page: Page) -> list[str]:
    """The alt text of every thumbnail the browser actually decoded."""
    await page.wait_for_function(
        "() => [...document.querySelectorAll('.grid img')].every(i => i.complete)"
    )
    return await page.eval_on_selector_all(
        ".grid img", "imgs => imgs.filter(i => i.naturalWidth > 0).map(i => i.alt)"
    )


async def walk_through(site: Site, link: str, platform: str, scope: str, out: Path) -> None:
    """The whole visit; `link` is what the bot (or the operator's command) handed out."""
    errors: list[str] = []
    async with chromium() as browser:
        context = await browser.new_context(
            viewport={"width": 1280, "height": 860}, color_scheme="dark"
        )
        await context.grant_permissions(["clipboard-read", "clipboard-write"])
        page = await context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(link)
        assert page.url.endswith(f"/g/{platform}/{scope}/")  # the token left the address bar
        await expect(page.locator(".grid img")).to_have_count(3)
        assert sorted(await thumbnails_shown(page)) == sorted(
            ["a lighthouse in a storm", "a fox asleep in snow", "a neon city <b>at night</b>"]
        )
        await page.screenshot(path=str(out / f"{platform}-gallery.png"), full_page=True)
        await page.set_viewport_size({"width": 390, "height": 844})  # a phone: no sideways scroll
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        await page.screenshot(path=str(out / f"{platform}-phone.png"), full_page=True)
        await page.set_viewport_size({"width": 1280, "height": 860})

        await page.keyboard.press("/")  # the search box takes the focus
        await page.keyboard.type("lighthouse")
        await page.keyboard.press("Enter")
        await expect(page.locator(".grid img")).to_have_count(1)
        assert await thumbnails_shown(page) == ["a lighthouse in a storm"]
        await page.screenshot(path=str(out / f"{platform}-search.png"), full_page=True)

        await page.locator(".grid a.thumb").first.focus()
        await page.keyboard.press("Enter")
        await expect(page.locator("#prompt")).to_have_text("a lighthouse in a storm")
        facts = await page.inner_text("dl")
        assert "Seed\n42" in facts.replace("\t", "\n") and "openai" in facts
        await page.click("#copy-prompt")
        await expect(page.locator("#copy-prompt")).to_have_text("Copied")
        assert await page.evaluate("navigator.clipboard.readText()") == "a lighthouse in a storm"
        assert await page.eval_on_selector("img.full", "i => i.naturalWidth") == 64
        await page.screenshot(path=str(out / f"{platform}-detail.png"), full_page=True)
        await page.keyboard.press("Escape")  # back to the grid, then to the picture again
        await page.wait_for_url(f"**/g/{platform}/{scope}/")
        await page.go_back()
        await expect(page.locator("#prompt")).to_have_text("a lighthouse in a storm")

        page.once("dialog", lambda dialog: dialog.accept())
        await page.click("text=Delete my picture")
        await page.wait_for_url(f"**/g/{platform}/{scope}/")
        await expect(page.locator(".grid img")).to_have_count(2)
        assert "a lighthouse in a storm" not in await thumbnails_shown(page)
        await page.screenshot(path=str(out / f"{platform}-after-delete.png"), full_page=True)
        await context.close()
    with sqlite3.connect(site.config.database_path) as db:
        prompts = {
            r[0] for r in db.execute("SELECT prompt FROM generations WHERE scope_id = ?", (scope,))
        }
    assert "a lighthouse in a storm" not in prompts and len(prompts) == 2
    assert errors == []  # no CSP violation, no script error


def seed_pictures(site: Site, platform: str, scope: str) -> None:
    site.add(platform, scope, "u1", "a fox asleep in snow", created_at=1_760_000_000)
    site.add(platform, scope, "u2", "a neon city <b>at night</b>", created_at=1_760_000_100)
    site.add(platform, scope, "u1", "a lighthouse in a storm", created_at=1_760_000_200)
    site.add(platform, "999", "u1", "a lighthouse elsewhere", created_at=1_760_000_300)


def cli_link(site: Site, platform: str, scope: str, user: str) -> str:
    """`imaginebot gallery link`, run as the operator would, with the site's DATA_DIR."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DATA_DIR": str(site.config.data_dir),
        "PUBLIC_URL": site.url,
        "HOME": str(site.config.data_dir),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "gallery",
            "link",
            "--platform",
            platform,
            "--scope",
            scope,
            "--user",
            user,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("platform", "scope"), [("discord", "100"), ("telegram", "-1001234")])
async def test_a_link_from_imaginebot_gallery_link_in_chromium(
    tmp_path: Path, platform: str, scope: str
) -> None:
    async with running_site(tmp_path) as site:
        seed_pictures(site, platform, scope)
        link = cli_link(site, platform, scope, "u1")
        out = tmp_path / "screenshots"
        out.mkdir()
        await walk_through(site, link, platform, scope, out)
        assert len(list(out.glob("*.png"))) == 5
