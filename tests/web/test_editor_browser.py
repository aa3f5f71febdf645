"""The brush editor as people use it: `imaginebot run` with WEB_PORT set, a picture made in the
fake Telegram or the fake Discord, its 🖌 button followed in headless Chromium, a stroke drawn
with the mouse and with touch events, the edit submitted, and the new picture found in the
fake chat as a reply to the old one, with its own buttons.

What is asserted is what the browser showed, what reached the fake chat and the fake OpenAI
images API (the mask, transparent where the stroke went), and the rows in SQLite. The bot's
PUBLIC_URL is HTTPS, as Mini Apps need; the browser reaches the bot's plain HTTP port as a
TLS-terminating proxy in front of it would (the host mapped to 127.0.0.1).
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import Browser, Page, expect

from tests.fakes.discord_gateway import MEMBER, DiscordDriver
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.server import ServerThread
from tests.fakes.telegram_api import TelegramDriver
from tests.support import ROOT, free_port, process, rows, wait_for
from tests.support.browser import ARGS, CHROMIUM
from tests.support.web import HOST, bot_env, log_of

pytestmark = pytest.mark.e2e

GROUP = -100200300
ALICE, BOB, ADMIN = 11, 12, 13
DOCS_SCREENSHOT = ROOT / "docs" / "images" / "brush-editor.png"


@pytest.fixture
def openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    server = ServerThread(fake.app()).start()
    fake.base_url = server.url
    yield fake
    server.stop()


def editor_env(root: Path, openai: FakeOpenAI, port: int, **extra: str) -> dict[str, str]:
    env = bot_env(root, openai, port, **extra)
    env["PUBLIC_URL"] = f"https://{HOST}:{port}"
    return env


def reachable(url: str, port: int) -> str:
    """The HTTPS address the bot made, as the proxy in front of its HTTP port serves it."""
    return url.replace(f"https://{HOST}:{port}", f"http://{HOST}:{port}")


async def browser(playwright: Any) -> Browser:
    return await playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*ARGS, f"--host-resolver-rules=MAP {HOST} 127.0.0.1"]
    )


def db(root: Path) -> Path:
    return root / "data" / "imaginebot.sqlite3"


def delivered(root: Path, kind: str, count: int) -> list[dict[str, Any]]:
    def found() -> list[dict[str, Any]] | None:
        got = rows(
            db(root), "SELECT * FROM generations WHERE status = 'delivered' AND kind = ?", (kind,)
        )
        return got if len(got) >= count else None

    return wait_for(found, 90, message=lambda: f"{count} delivered {kind}\n{log_of(root)}")  # type: ignore[no-any-return]


async def picture_shown(page: Page) -> None:
    """The picture drawn on its canvas (its centre is no longer blank)."""
    await page.wait_for_function(
        """() => { const c = document.getElementById('picture');
                   const d = c.getContext('2d').getImageData(c.width / 2, c.height / 2, 1, 1).data;
                   return c.width > 0 && d[3] > 0; }"""
    )


async def mouse_stroke(page: Page) -> tuple[float, float]:
    """A stroke across the middle; where it went, as fractions of the picture."""
    box = await page.locator("#mask").bounding_box()
    assert box is not None
    y = box["y"] + box["height"] * 0.5
    await page.mouse.move(box["x"] + box["width"] * 0.3, y)
    await page.mouse.down()
    for step in range(1, 11):
        await page.mouse.move(box["x"] + box["width"] * (0.3 + 0.04 * step), y)
    await page.mouse.up()
    return 0.5, 0.5


async def touch_stroke(page: Page) -> tuple[float, float]:
    """A finger dragged down the left side, through Chrome's touch input (CDP)."""
    box = await page.locator("#mask").bounding_box()
    assert box is not None
    cdp = await page.context.new_cdp_session(page)
    x = box["x"] + box["width"] * 0.25

    async def touch(kind: str, fraction: float | None) -> None:
        points = [] if fraction is None else [{"x": x, "y": box["y"] + box["height"] * fraction}]
        await cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    await touch("touchStart", 0.3)
    for step in range(1, 11):
        await touch("touchMove", 0.3 + 0.04 * step)
    await touch("touchEnd", None)
    return 0.25, 0.5


async def edit_in_browser(
    chromium: Browser, url: str, *, touch: bool, prompt: str, screenshot: Path | None = None
) -> tuple[float, float]:
    context = await chromium.new_context(
        viewport={"width": 390, "height": 844} if touch else {"width": 1100, "height": 900},
        has_touch=touch,
        is_mobile=touch,
    )
    page = await context.new_page()
    await page.goto(url)
    await picture_shown(page)
    go = page.locator("#go")
    await expect(go).to_be_disabled()  # nothing painted yet
    where = await (touch_stroke(page) if touch else mouse_stroke(page))
    await expect(go).to_be_enabled()
    await page.fill("#prompt", prompt)
    if screenshot is not None:
        await page.evaluate("window.scrollTo(0, 0)")
        await page.screenshot(path=str(screenshot), full_page=True)
    await go.click()
    await expect(page.locator("#status")).to_contain_text("Queued")
    await context.close()
    return where


def changed_at(mask: bytes, where: tuple[float, float]) -> tuple[bool, bool]:
    """Whether the mask OpenAI received marks the stroke's point, and a far corner, as the
    area to change (OpenAI: transparent = change)."""
    with Image.open(io.BytesIO(mask)) as image:
        alpha = image.convert("RGBA").getchannel("A")
        w, h = alpha.size
        stroke = alpha.getpixel((int(w * where[0]), int(h * where[1])))
        corner = alpha.getpixel((w - 3, h - 3))
    return stroke == 0, corner == 0


def check_edit_reached_openai(openai: FakeOpenAI, count: int, where: tuple[float, float]) -> None:
    assert len(openai.edit_masks) == count
    assert changed_at(openai.edit_masks[-1], where) == (True, False)


@pytest.mark.timeout(300)
async def test_telegram_mini_app_and_group_link_edit_a_region_with_mouse_and_touch(
    tmp_path: Path, openai: FakeOpenAI
) -> None:
    from playwright.async_api import async_playwright

    assert shutil.which(CHROMIUM), "Debian's chromium is not installed (.ci/run installs it)"
    t = TelegramDriver().start()
    t.add_user(ALICE, "alice")
    t.add_user(BOB, "bob")
    t.add_group(GROUP, {ALICE: "member", BOB: "member"})
    port = free_port()
    env = editor_env(tmp_path, openai, port, **t.env())
    try:
        with process(["run"], env, ROOT, tmp_path / "bot.log"):
            wait_for(t.polling, 30, message=lambda: f"polling\n{log_of(tmp_path)}")
            t.send(ALICE, ALICE, "/imagine a lighthouse in a storm")
            t.send(GROUP, ALICE, "/imagine a fox asleep in snow")
            first = delivered(tmp_path, "imagine", 2)
            by_prompt = {r["prompt"]: r for r in first}

            def result(chat: int) -> dict[str, Any]:
                return next(
                    m
                    for (cid, _), m in list(t.fake.messages.items())
                    if cid == chat and "photo" in m and m.get("reply_markup")
                )

            def brush(message: dict[str, Any]) -> dict[str, Any]:
                buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
                (found,) = [b for b in buttons if b["text"] == "🖌 Vary (Region)"]
                return found

            private, group = result(ALICE), result(GROUP)
            # A Mini App in the private chat; a plain link in the group (no app registered).
            app_button, group_button = brush(private), brush(group)
            assert set(app_button) == {"text", "web_app"}
            assert app_button["web_app"]["url"].startswith(f"https://{HOST}:{port}/g/telegram/")
            assert set(group_button) == {"text", "url"}

            async with async_playwright() as playwright:
                chromium = await browser(playwright)
                # Telegram opens the Mini App with initData it signed, in the fragment.
                opened = t.fake.web_app_address(ALICE, app_button["web_app"]["url"])
                shot = tmp_path / "editor.png"
                where = await edit_in_browser(
                    chromium,
                    reachable(opened, port),
                    touch=False,
                    prompt="a red lighthouse",
                    screenshot=shot,
                )
                edited = delivered(tmp_path, "edit", 1)
                check_edit_reached_openai(openai, 1, where)
                # The same link works once: opened again, it says so.
                page = await chromium.new_page()
                await page.goto(reachable(opened, port))
                await expect(page.locator("#message")).to_contain_text("used already")
                # 🪄 Edit, then ↩️ Back, gives the picture its buttons back with a fresh 🖌.
                gid = by_prompt["a lighthouse in a storm"]["id"]
                t.press(ALICE, private, f"ib:e:{gid}")
                wait_for(
                    lambda: (
                        not any(
                            b["text"] == "🖌 Vary (Region)"
                            for r in t.fake.messages[(ALICE, private["message_id"])][
                                "reply_markup"
                            ]["inline_keyboard"]
                            for b in r
                        )
                    ),
                    15,
                    message="the Edit menu",
                )
                t.press(ALICE, private, f"ib:b:{gid}")
                fresh = wait_for(
                    lambda: next(
                        (
                            b
                            for r in t.fake.messages[(ALICE, private["message_id"])][
                                "reply_markup"
                            ]["inline_keyboard"]
                            for b in r
                            if b["text"] == "🖌 Vary (Region)"
                        ),
                        None,
                    ),
                    15,
                    message="the result's buttons back",
                )
                assert fresh["web_app"]["url"] != app_button["web_app"]["url"]
                await page.goto(
                    reachable(t.fake.web_app_address(ALICE, fresh["web_app"]["url"]), port)
                )
                await picture_shown(page)

                where = await edit_in_browser(
                    chromium, reachable(group_button["url"], port), touch=True, prompt="a fox"
                )
                edited = delivered(tmp_path, "edit", 2)
                check_edit_reached_openai(openai, 2, where)
                await chromium.close()
            if os.environ.get("IMAGINEBOT_DOCS_SCREENSHOTS"):
                DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
                shutil.copyfile(shot, DOCS_SCREENSHOT)

            for original in (private, group):
                replies = [m for m in t.replies_to(original) if "photo" in m]
                assert len(replies) == 1, replies  # the new picture, under the old one, once
                assert replies[0]["reply_markup"]["inline_keyboard"], "its own buttons"
            parents = {r["parent_id"] for r in edited}
            assert parents == {by_prompt[p]["id"] for p in by_prompt}
            assert {r["prompt"] for r in edited} == {"a red lighthouse", "a fox"}
            assert all(r["user_id"] == str(ALICE) for r in edited)
            # Web app buttons were never sent where Telegram refuses them.
            refused = [c for c in t.fake.calls if c.error and "BUTTON_TYPE_INVALID" in c.error]
            assert refused == []
    finally:
        t.stop()
    log = (tmp_path / "bot.log").read_text()
    assert group_button["url"].split("t=")[1] not in log  # tokens are not logged


@pytest.mark.timeout(300)
async def test_a_registered_mini_app_opens_the_group_editor_for_its_admins_not_other_members(
    tmp_path: Path, openai: FakeOpenAI
) -> None:
    from playwright.async_api import async_playwright

    t = TelegramDriver().start()
    for user_id, name in ((ALICE, "alice"), (BOB, "bob"), (ADMIN, "admin")):
        t.add_user(user_id, name)
    t.add_group(GROUP, {ALICE: "member", BOB: "member", ADMIN: "administrator"})
    port = free_port()
    env = editor_env(tmp_path, openai, port, TELEGRAM_WEBAPP_NAME="editor", **t.env())
    try:
        with process(["run"], env, ROOT, tmp_path / "bot.log"):
            wait_for(t.polling, 30, message=lambda: f"polling\n{log_of(tmp_path)}")
            t.send(GROUP, ALICE, "/imagine a fox asleep in snow")
            (row,) = delivered(tmp_path, "imagine", 1)
            picture = next(
                m
                for (cid, _), m in list(t.fake.messages.items())
                if cid == GROUP and "photo" in m and m.get("reply_markup")
            )
            buttons = [b for r in picture["reply_markup"]["inline_keyboard"] for b in r]
            (brush,) = [b for b in buttons if b["text"] == "🖌 Vary (Region)"]
            prefix = f"https://t.me/{t.fake.bot_username}/editor?startapp="
            assert brush["url"].startswith(prefix)
            param = brush["url"].removeprefix(prefix)
            app_url = f"https://{HOST}:{port}/tg/app"

            async with async_playwright() as playwright:
                chromium = await browser(playwright)
                # Bob is a member, not the requester nor an admin: the editor opens (the
                # link is the group's), but his edit is refused in plain words.
                bobs = await chromium.new_page()
                await bobs.goto(reachable(t.fake.web_app_address(BOB, app_url, param), port))
                await picture_shown(bobs)
                await mouse_stroke(bobs)
                await bobs.click("#go")
                await expect(bobs.locator("#status")).to_contain_text("Only the person who asked")
                # The group's admin may, through the same Mini App link.
                opened = reachable(t.fake.web_app_address(ADMIN, app_url, param), port)
                where = await edit_in_browser(chromium, opened, touch=True, prompt="a red fox")
                await chromium.close()
            (edit,) = delivered(tmp_path, "edit", 1)
            check_edit_reached_openai(openai, 1, where)
            assert (edit["user_id"], edit["parent_id"]) == (str(ADMIN), row["id"])
            replies = [m for m in t.replies_to(picture) if "photo" in m]
            assert len(replies) == 1
    finally:
        t.stop()


@pytest.mark.timeout(300)
async def test_discord_brush_answers_a_private_link_and_the_edit_is_posted_in_the_channel(
    tmp_path: Path, openai: FakeOpenAI
) -> None:
    from playwright.async_api import async_playwright

    d = DiscordDriver().start()
    port = free_port()
    try:
        with process(
            ["run"], editor_env(tmp_path, openai, port, **d.env()), ROOT, tmp_path / "bot.log"
        ):
            wait_for(d.connected, 30, message=lambda: f"gateway\n{log_of(tmp_path)}")
            command = d.slash("imagine", user="alice", prompt="a lighthouse at dusk")
            (row,) = delivered(tmp_path, "imagine", 1)
            original = d.server.run_sync(d.fake.original, command.id)
            assert original is not None
            custom_ids = [c.get("custom_id") for r in original.components for c in r["components"]]
            brush = f"ib:brush:{row['id']}"
            assert brush in custom_ids

            # Bob did not ask for it: refused, and no link.
            bobs = d.click(original, brush, user="bob", permissions=MEMBER)
            answer = wait_for(lambda: next(iter(d.writes(bobs)), None), 15, message="refusal")
            assert answer.body["flags"] & 64 and not answer.body.get("components")

            async with async_playwright() as playwright:
                chromium = await browser(playwright)
                for n, touch in ((1, False), (2, True)):
                    press = d.click(original, brush, user="alice", permissions=MEMBER)
                    answer = wait_for(
                        lambda p=press: next(iter(d.writes(p)), None), 15, message="link"
                    )
                    assert answer.body["flags"] & 64  # ephemeral: the presser's own link
                    (button,) = answer.body["components"][0]["components"]
                    assert button["style"] == 5 and len(button["url"]) <= 512
                    where = await edit_in_browser(
                        chromium, reachable(button["url"], port), touch=touch, prompt=f"edit {n}"
                    )
                    delivered(tmp_path, "edit", n)
                    check_edit_reached_openai(openai, n, where)
                await chromium.close()

            def posted() -> list[Any]:
                found = [
                    m
                    for m in d.server.run_sync(lambda: list(d.fake.messages.values()))
                    if m.reference_id == original.id and m.attachments
                ]
                return found if len(found) >= 2 else []

            replies = wait_for(posted, 30, message=lambda: f"edits posted\n{log_of(tmp_path)}")
            assert len(replies) == 2  # each edit once, replying to the picture, with buttons
            assert all(m.components and "<@" in m.content for m in replies)
    finally:
        d.stop()
