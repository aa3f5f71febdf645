"""The gallery as people reach it: `imaginebot run` with WEB_PORT set, a picture or two made in
the fake Discord and the fake Telegram, the link the bot posted there opened in headless
Chromium. What is asserted is what the browser showed and what is left in SQLite."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from tests.fakes.discord_gateway import MEMBER, MODERATOR, SERVER_MANAGER, DiscordDriver
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.server import ServerThread
from tests.fakes.telegram_api import TelegramDriver
from tests.support import ROOT, free_port, process, rows, wait_for
from tests.support.browser import ARGS, CHROMIUM
from tests.support.web import HOST, bot_env, discord_link, log_of

pytestmark = pytest.mark.e2e

GROUP, OTHER_GROUP = -100200300, -100999888
ALICE, BOB, ADMIN = 11, 12, 13


@pytest.fixture
def openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    server = ServerThread(fake.app()).start()
    fake.base_url = server.url
    yield fake
    server.stop()


def wait_delivered(root: Path, count: int) -> list[dict[str, Any]]:
    db = root / "data" / "imaginebot.sqlite3"

    def done() -> list[dict[str, Any]] | None:
        found = rows(db, "SELECT * FROM generations WHERE status = 'delivered'")
        return found if len(found) >= count else None

    return wait_for(done, 60, message=lambda: f"{count} delivered pictures\n{log_of(root)}")  # type: ignore[no-any-return]


async def page_text(link: str, port: int, path: str) -> tuple[int, str]:
    """Open `link` with a plain HTTP client (the host name mapped by hand), then GET `path`."""
    local = link.replace(f"http://{HOST}:{port}", f"http://127.0.0.1:{port}")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        async with client.get(local) as response:
            if response.status != 200:
                return response.status, await response.text()
        async with client.get(f"http://127.0.0.1:{port}{path}") as response:
            return response.status, await response.text()


async def browser(playwright: Any) -> Browser:
    return await playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*ARGS, f"--host-resolver-rules=MAP {HOST} 127.0.0.1"]
    )


async def shown(page: Page) -> list[str]:
    await page.wait_for_function(
        "() => [...document.querySelectorAll('.grid img')].every(i => i.complete)"
    )
    return sorted(
        await page.eval_on_selector_all(
            ".grid img", "imgs => imgs.filter(i => i.naturalWidth > 0).map(i => i.alt)"
        )
    )


async def search_then_delete(page: Page, word: str, prompt: str, out: Path, name: str) -> None:
    await page.fill("#q", word)
    await page.keyboard.press("Enter")
    await expect(page.locator(".grid img")).to_have_count(1)
    assert await shown(page) == [prompt]
    await page.screenshot(path=str(out / f"{name}-search.png"), full_page=True)
    await page.click(".grid a.thumb")
    await expect(page.locator("#prompt")).to_have_text(prompt)
    await page.screenshot(path=str(out / f"{name}-detail.png"), full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("text=Delete my picture")
    await page.wait_for_url("**/")
    await page.screenshot(path=str(out / f"{name}-after-delete.png"), full_page=True)


@pytest.mark.timeout(240)
async def test_a_link_posted_in_discord_opens_that_servers_gallery(
    tmp_path: Path, openai: FakeOpenAI
) -> None:
    from playwright.async_api import async_playwright

    assert shutil.which(CHROMIUM), "Debian's chromium is not installed (.ci/run installs it)"
    d = DiscordDriver().start()
    other_guild, _ = d.fake.add_guild("Elsewhere")
    port = free_port()
    out = tmp_path / "screenshots"
    out.mkdir()
    try:
        with process(
            ["run"], bot_env(tmp_path, openai, port, **d.env()), ROOT, tmp_path / "bot.log"
        ):
            wait_for(d.connected, 30, message=lambda: f"gateway\n{log_of(tmp_path)}")
            d.slash("imagine", user="alice", prompt="a lighthouse in a storm")
            d.slash("imagine", user="alice", prompt="a fox asleep in snow")
            d.slash("imagine", user="bob", prompt="a neon city <b>at night</b>")
            d.slash("imagine", user="alice", guild=other_guild, prompt="a castle elsewhere")
            wait_delivered(tmp_path, 4)
            asked = d.slash("gallery", user="alice", permissions=MEMBER)
            answer = wait_for(lambda: next(iter(d.writes(asked)), None), 15, message="/gallery")
            data = answer.body
            assert data["flags"] & 64  # ephemeral: only alice sees her link
            (button,) = data["components"][0]["components"]
            assert button["style"] == 5 and button["label"] == "Open the gallery"
            link = button["url"]
            assert link.startswith(f"http://{HOST}:{port}/g/discord/{d.guild_id}/enter?t=")

            async with async_playwright() as playwright:
                chromium = await browser(playwright)
                page = await (
                    await chromium.new_context(viewport={"width": 1280, "height": 800})
                ).new_page()
                await page.goto(link)
                await expect(page.locator(".grid img")).to_have_count(3)
                assert await shown(page) == sorted(
                    [
                        "a lighthouse in a storm",
                        "a fox asleep in snow",
                        "a neon city <b>at night</b>",
                    ]
                )
                await page.screenshot(path=str(out / "discord-gallery.png"), full_page=True)
                await search_then_delete(
                    page, "lighthouse", "a lighthouse in a storm", out, "discord"
                )
                await expect(page.locator(".grid img")).to_have_count(2)
                await chromium.close()

            # /history offers the gallery too, below its menu.
            history = d.slash("history", user="alice", permissions=MEMBER)
            answer = wait_for(lambda: next(iter(d.writes(history)), None), 15, message="/history")
            buttons = [c for row in answer.body["components"] for c in row["components"]]
            assert [c["type"] for c in buttons] == [3, 2]  # the picture menu, the link button
            assert buttons[1]["url"].startswith(f"http://{HOST}:{port}/g/discord/{d.guild_id}/")

            # Moderators' links may hide pictures; members' may not.
            fox = rows(
                tmp_path / "data" / "imaginebot.sqlite3",
                "SELECT id FROM generations WHERE prompt = 'a fox asleep in snow'",
            )[0]["id"]
            detail = f"/g/discord/{d.guild_id}/i/{fox}"
            for who, permissions, can_hide in (("bob", MEMBER, False), ("mod", MODERATOR, True)):
                found = discord_link(d, who, permissions)
                assert found is not None
                status, html = await page_text(found, port, detail)
                assert status == 200 and ("Hide from members" in html) is can_hide
            # A member cannot switch the gallery off; a server manager can, and links stop opening.
            refused = d.slash("settings gallery", user="bob", permissions=MEMBER, enabled=False)
            wait_for(lambda: d.writes(refused), 15, message="refusal")
            assert "Only server admins" in d.writes(refused)[0].body["content"]
            switched = d.slash(
                "settings gallery", user="boss", permissions=SERVER_MANAGER, enabled=False
            )
            wait_for(lambda: d.writes(switched), 15, message="/settings gallery")
            assert "off here" in d.writes(switched)[0].body["content"]
            assert (await page_text(link, port, detail))[0] == 403
            assert discord_link(d, "alice", MEMBER) is None
    finally:
        d.stop()
    left = rows(tmp_path / "data" / "imaginebot.sqlite3", "SELECT prompt FROM generations")
    assert sorted(r["prompt"] for r in left) == sorted(
        ["a fox asleep in snow", "a neon city <b>at night</b>", "a castle elsewhere"]
    )
    assert len(list(out.glob("*.png"))) == 4
    assert link.split("t=")[1] not in (tmp_path / "bot.log").read_text()  # tokens are not logged


def url_button(message: dict[str, Any]) -> str:
    (row,) = message["reply_markup"]["inline_keyboard"]
    (button,) = row
    assert button["text"] == "Open the gallery"
    return str(button["url"])


@pytest.mark.timeout(240)
async def test_links_posted_in_telegram_open_the_group_and_the_private_gallery(
    tmp_path: Path, openai: FakeOpenAI
) -> None:
    from playwright.async_api import async_playwright

    t = TelegramDriver().start()
    for user_id, name in ((ALICE, "alice"), (BOB, "bob"), (ADMIN, "admin")):
        t.add_user(user_id, name)
    t.add_group(GROUP, {ALICE: "member", BOB: "member", ADMIN: "administrator"})
    t.add_group(OTHER_GROUP, {ALICE: "member"})
    port = free_port()
    out = tmp_path / "screenshots"
    out.mkdir()
    try:
        with process(
            ["run"], bot_env(tmp_path, openai, port, **t.env()), ROOT, tmp_path / "bot.log"
        ):
            wait_for(t.polling, 30, message=lambda: f"polling\n{log_of(tmp_path)}")
            t.send(GROUP, ALICE, "/imagine a lighthouse in a storm")
            t.send(GROUP, BOB, "/imagine a neon city at night")
            t.send(OTHER_GROUP, ALICE, "/imagine a castle elsewhere")
            t.send(ALICE, ALICE, "/imagine a quiet harbour at dawn")
            t.send(ALICE, ALICE, "/imagine an owl in a library")
            wait_delivered(tmp_path, 5)

            in_group = t.send(GROUP, ALICE, "/gallery")
            reply = wait_for(lambda: next(iter(t.replies_to(in_group)), None), 15, message="reply")
            group_link = url_button(reply)
            in_private = t.send(ALICE, ALICE, "/gallery")
            reply = wait_for(lambda: next(iter(t.replies_to(in_private)), None), 15, message="dm")
            private_link = url_button(reply)
            assert f"/g/telegram/{GROUP}/enter" in group_link
            assert f"/g/telegram/dm%3A{ALICE}/enter" in private_link
            # /history links the same galleries from its last caption (an album has no buttons).
            # Alice made one picture in the group (a photo) and two in private (an album).
            for chat, scope, pictures in ((GROUP, GROUP, 1), (ALICE, f"dm%3A{ALICE}", 2)):
                asked = t.send(chat, ALICE, "/history")
                album = wait_for(
                    lambda asked=asked, pictures=pictures: (
                        len(t.replies_to(asked)) >= pictures and t.replies_to(asked)
                    ),
                    15,
                    message="/history",
                )
                links = [e for m in t.replies_to(asked) for e in m.get("caption_entities", [])]
                assert [e["type"] for e in links] == ["text_link"], album
                assert f"/g/telegram/{scope}/enter" in links[0]["url"]
            # An admin's /gallery in the group: the same group link there, and a private one
            # that can hide pictures, sent to the admin's private chat.
            by_admin = t.send(GROUP, ADMIN, "/gallery")
            wait_for(lambda: t.replies_to(by_admin), 15, message="admin's group reply")
            private = wait_for(
                lambda: next(
                    (
                        m
                        for (cid, _), m in list(t.fake.messages.items())
                        if cid == ADMIN and m.get("reply_markup")
                    ),
                    None,
                ),
                15,
                message="the admin's private link",
            )
            neon = rows(
                tmp_path / "data" / "imaginebot.sqlite3",
                "SELECT id FROM generations WHERE prompt = 'a neon city at night'",
            )[0]["id"]
            detail = f"/g/telegram/{GROUP}/i/{neon}"
            assert "Hide from members" in (await page_text(url_button(private), port, detail))[1]
            assert "Hide from members" not in (await page_text(group_link, port, detail))[1]

            async with async_playwright() as playwright:
                chromium = await browser(playwright)
                page = await (
                    await chromium.new_context(viewport={"width": 1280, "height": 800})
                ).new_page()
                await page.goto(group_link)
                await expect(page.locator(".grid img")).to_have_count(2)
                assert await shown(page) == ["a lighthouse in a storm", "a neon city at night"]
                await page.screenshot(path=str(out / "telegram-group.png"), full_page=True)
                await page.fill("#q", "neon")
                await page.keyboard.press("Enter")
                await expect(page.locator(".grid img")).to_have_count(1)
                await page.click(".grid a.thumb")
                await expect(page.locator("#prompt")).to_have_text("a neon city at night")
                # The group's link is everyone's: it names no one, so it deletes nothing.
                assert await page.locator("text=Delete my picture").count() == 0

                mine = await (
                    await chromium.new_context(viewport={"width": 1280, "height": 800})
                ).new_page()
                await mine.goto(private_link)
                await expect(mine.locator(".grid img")).to_have_count(2)
                assert await shown(mine) == ["a quiet harbour at dawn", "an owl in a library"]
                await search_then_delete(
                    mine, "owl", "an owl in a library", out, "telegram-private"
                )
                await expect(mine.locator(".grid img")).to_have_count(1)

                refused = t.send(GROUP, BOB, "/gallery off")
                wait_for(lambda: t.replies_to(refused), 15, message="refusal")
                assert "Only this chat's admins" in t.replies_to(refused)[0]["text"]
                off = t.send(GROUP, ADMIN, "/gallery off")
                wait_for(lambda: t.replies_to(off), 15, message="/gallery off")
                await page.goto(page.url)
                assert "not valid here" in await page.inner_text("body")
                await chromium.close()
    finally:
        t.stop()
    left = rows(tmp_path / "data" / "imaginebot.sqlite3", "SELECT prompt FROM generations")
    assert "an owl in a library" not in {r["prompt"] for r in left} and len(left) == 4
