"""The brush editor over HTTP, in-process: a signed editor link opens the page and its picture,
the submit checks the mask and the person and hands the edit to the platform's desk, and the
link works once. The desk here records what it was handed (the real desks are driven through
the chat platforms in tests/web/test_editor_browser.py)."""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
from pathlib import Path

import aiohttp
from PIL import Image

from bot.web.edit_orders import USED, EditorSetup
from bot.web.editor_links import as_start_param, encode
from bot.web.webapp_data import sign
from tests.support.web import RecordingDesk, Site, running_site

TOKEN = "123:telegram-bot-token"


def mask_png(
    size: tuple[int, int] = (64, 48), box: tuple[int, int, int, int] = (8, 8, 30, 30)
) -> bytes:
    image = Image.new("1", size, 0)
    image.paste(1, box)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def form(
    mask: bytes | None, index: str = "1", prompt: str = "a blue hat", **extra: str
) -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field("index", index)
    data.add_field("prompt", prompt)
    for name, value in extra.items():
        data.add_field(name, value)
    if mask is not None:
        data.add_field("mask", mask, filename="mask.png", content_type="image/png")
    return data


def editor_url(site: Site, gen_id: str, scope: str = "100", **kw: object) -> str:
    links = site.editor_links()
    link = links.make("discord", scope, gen_id, user_id="u1", **kw)  # type: ignore[arg-type]
    return links.url(link)


async def post(url: str, data: aiohttp.FormData) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as client, client.post(url, data=data) as response:
        return response.status, json.loads(await response.text())


async def test_a_link_opens_the_editor_with_its_picture_and_an_edit_goes_to_the_desk_once(
    tmp_path: Path,
) -> None:
    desk = RecordingDesk()
    async with running_site(tmp_path, edits=EditorSetup({"discord": desk})) as site:
        gen_id = site.add(prompt="a red fox <b>")
        url = editor_url(site, gen_id)
        async with aiohttp.ClientSession() as client:
            async with client.get(url) as response:
                html = await response.text()
                assert response.status == 200
                csp = response.headers["Content-Security-Policy"]
                assert "script-src 'self';" in csp and "default-src 'none'" in csp
                assert "unsafe" not in csp and "frame-ancestors https://web.telegram.org" in csp
                assert response.headers["X-Content-Type-Options"] == "nosniff"
                assert "<script>" not in html and "a red fox &lt;b&gt;" in html
            picture = url.replace(f"/edit/{gen_id}?", f"/edit/{gen_id}/picture/1?")
            async with client.get(picture) as response:
                assert response.status == 200
                assert Image.open(io.BytesIO(await response.read())).size == (64, 48)
            async with client.get(picture.replace("/picture/1?", "/picture/2?")) as response:
                assert response.status == 404
        status, answer = await post(url, form(mask_png()))
        assert (status, answer["ok"]) == (200, True), answer
        (order,) = desk.orders
        assert (order.user_id, order.index, order.prompt) == ("u1", 1, "a blue hat")
        assert order.link.generation_id == gen_id and order.mask == mask_png()
        # Once: a second submit is refused, and the page says so when opened again.
        status, answer = await post(url, form(mask_png()))
        assert (status, answer) == (409, {"ok": False, "message": USED.message})
        async with aiohttp.ClientSession() as client, client.get(url) as response:
            assert response.status == 410 and "used already" in await response.text()
        used = site.query("SELECT user_id, generation_id FROM editor_link_uses")
        assert used == [{"user_id": "u1", "generation_id": gen_id}]
    assert len(desk.orders) == 1


async def test_bad_masks_are_refused_in_plain_words_and_leave_the_link_unused(
    tmp_path: Path,
) -> None:
    desk = RecordingDesk()
    async with running_site(tmp_path, edits=EditorSetup({"discord": desk})) as site:
        url = editor_url(site, site.add())
        jpeg = io.BytesIO()
        Image.new("RGB", (64, 48)).save(jpeg, "JPEG")
        for mask, words in (
            (None, "must be a PNG"),
            (jpeg.getvalue(), "must be a PNG"),
            (b"\x89PNG\r\n\x1a\n" + b"\0" * 50, "must be a PNG"),
            (mask_png((128, 96)), "128x96, the picture 64x48"),
        ):
            status, answer = await post(url, form(mask))
            assert status == 400 and words in str(answer["message"]), answer
        status, answer = await post(url, form(mask_png(), index="3"))
        assert status == 400 and "no such picture" in str(answer["message"])
        async with aiohttp.ClientSession() as client:
            huge = form(b"\x89PNG\r\n\x1a\n" + b"\0" * (1024 * 1024 + 1))
            async with client.post(url, data=huge) as response:
                assert response.status == 413
        assert desk.orders == [] and site.query("SELECT * FROM editor_link_uses") == []
        status, _ = await post(url, form(mask_png()))
        assert status == 200


async def test_links_of_another_picture_scope_or_time_open_nothing(tmp_path: Path) -> None:
    async with running_site(tmp_path, edits=EditorSetup({"discord": RecordingDesk()})) as site:
        mine, other = site.add(), site.add(scope="200")
        url = editor_url(site, mine)
        token = url.split("?t=")[1]
        async with aiohttp.ClientSession() as client:
            for wrong in (
                url.replace(f"/edit/{mine}", f"/edit/{other}"),
                url.replace("/g/discord/100/", "/g/discord/200/"),
                url.replace("/g/discord/", "/g/telegram/"),
                url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB"),
                url.split("?")[0],
            ):
                async with client.get(wrong) as response:
                    assert response.status == 403, wrong
            gallery = site.link("discord", "100")
            as_editor = url.split("?")[0] + "?t=" + gallery.split("t=")[1]
            async with client.get(as_editor) as response:
                assert response.status == 403
            expired = site.editor_links()
            expired.hours = 1 / 3600 / 10  # a tenth of a second
            old = expired.url(expired.make("discord", "100", mine, user_id="u1"))
            time.sleep(0.2)
            async with client.get(old) as response:  # genuine but late: said in plain words
                assert response.status == 410 and "has expired" in await response.text()
            status, answer = await post(old, form(mask_png()))
            assert status == 410 and "has expired" in str(answer["message"])
            # A gallery session is not needed and opens no editor on its own.
            async with client.get(url) as response:
                assert response.status == 200
        assert token not in (tmp_path / "data").as_posix()


async def test_without_the_bot_process_the_editor_says_it_is_not_here(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site:
        url = editor_url(site, site.add())
        async with aiohttp.ClientSession() as client, client.get(url) as response:
            assert response.status == 503 and "not available here" in await response.text()
        status, answer = await post(url, form(mask_png()))
        assert status == 503 and answer["ok"] is False


async def test_a_mini_app_link_needs_telegrams_init_data_and_takes_its_user(
    tmp_path: Path,
) -> None:
    desk = RecordingDesk()
    setup = EditorSetup({"telegram": desk}, telegram_token=TOKEN, webapp_auth_seconds=600)
    async with running_site(tmp_path, edits=setup) as site:
        gen_id = site.add(platform="telegram", scope="-100500", user="42")
        links = site.editor_links(webapp_name="editor")
        link = links.make("telegram", "-100500", gen_id, user_id="42", webapp=True)
        url = links.url(link)
        status, answer = await post(url, form(mask_png()))
        assert status == 403 and "confirm who you are" in str(answer["message"])
        user = json.dumps({"id": 77, "first_name": "Admin"})
        stale = sign({"user": user, "auth_date": str(int(time.time()) - 700)}, TOKEN)
        forged = sign({"user": user, "auth_date": str(int(time.time()))}, "999:another-bot")
        for bad in (stale, forged):
            status, _ = await post(url, form(mask_png(), init_data=bad))
            assert status == 403
        fresh = sign({"user": user, "auth_date": str(int(time.time()))}, TOKEN)
        status, answer = await post(url, form(mask_png(), init_data=fresh))
        assert status == 200, answer
        assert [(o.user_id, o.name) for o in desk.orders] == [("77", "Admin")]

        # The direct link's start parameter leads to the same editor.
        start = links.start_app_url("imagine_bot", link)
        assert start is not None and start.startswith("https://t.me/imagine_bot/editor?startapp=")
        param = as_start_param(encode(site.config.signer(), link))
        async with aiohttp.ClientSession() as client:
            async with client.get(
                f"{site.url}/tg/app?tgWebAppStartParam={param}", allow_redirects=False
            ) as response:
                assert response.status == 303
                assert response.headers["Location"] == url.replace(site.url, "")
            async with client.get(f"{site.url}/tg/app?tgWebAppStartParam=nope") as response:
                assert response.status == 403


async def test_a_grid_offers_each_of_its_pictures_and_takes_the_one_chosen(tmp_path: Path) -> None:
    desk = RecordingDesk()
    async with running_site(tmp_path, edits=EditorSetup({"discord": desk})) as site:
        gen_id = site.add()
        tiles = []
        for k, size in ((1, (64, 48)), (2, (32, 24))):
            path = site.config.images_dir / f"{gen_id}-{k}.png"
            Image.new("RGB", size).save(path)
            tiles.append((gen_id, k, str(path), size[0], size[1], k))
        site.execute(
            "INSERT INTO generation_images (generation_id, idx, path, width, height, seed) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            *tiles,
        )
        url = editor_url(site, gen_id)
        async with aiohttp.ClientSession() as client:
            async with client.get(url) as response:
                html = await response.text()
            assert html.count('name="which"') == 2
            second = url.replace(f"/edit/{gen_id}?", f"/edit/{gen_id}/picture/2?")
            async with client.get(second) as response:
                assert Image.open(io.BytesIO(await response.read())).size == (32, 24)
        # The mask must be the chosen picture's size: picture 1's mask does not fit picture 2.
        status, answer = await post(url, form(mask_png(), index="2"))
        assert status == 400 and "the picture 32x24" in str(answer["message"])
        status, _ = await post(url, form(mask_png((32, 24), (2, 2, 10, 10)), index="2"))
        assert status == 200 and [o.index for o in desk.orders] == [2]


async def test_two_submits_at_once_queue_one_edit(tmp_path: Path) -> None:
    desk = RecordingDesk()
    async with running_site(tmp_path, edits=EditorSetup({"discord": desk})) as site:
        url = editor_url(site, site.add())
        answers = await asyncio.gather(*(post(url, form(mask_png())) for _ in range(4)))
    assert sorted(status for status, _ in answers) == [200, 409, 409, 409]
    assert len(desk.orders) == 1


async def test_a_language_picked_on_the_page_reaches_the_submits_answer_without_a_cookie(
    tmp_path: Path,
) -> None:
    """A Mini App framed by Telegram Web gets no SameSite=Lax cookie, so the page hands its
    picked language to the submit in the address."""
    async with running_site(tmp_path, edits=EditorSetup({"discord": RecordingDesk()})) as site:
        url = editor_url(site, site.add()) + "&lang=ar"
        async with aiohttp.ClientSession() as client, client.get(url) as response:
            html = await response.text()
        assert '<html lang="ar" dir="rtl">' in html
        submit = re.search(r'data-submit="([^"]+)"', html)
        assert submit is not None and submit.group(1).endswith("&amp;lang=ar")
        target = site.url + submit.group(1).replace("&amp;", "&")
        status, answer = await post(target, form(b"not a png"))
        assert (status, answer) == (400, {"ok": False, "message": "يجب أن يكون القناع صورة PNG."})
