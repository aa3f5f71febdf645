"""The gallery over HTTP: a real aiohttp server on 127.0.0.1, a real client, a real database."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.store import Store
from bot.web import grants
from bot.web.signing import Signer, load_key
from tests.support.store_rows import style_values
from tests.support.web import browser_session, card_ids, enter, running_site, use_backend


@pytest.fixture(autouse=True, params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test here runs on the SQLite file and on a PostgreSQL database."""
    use_backend(request.param)
    yield request.param
    use_backend("sqlite")


ROUTES = [
    ("GET", "/"),
    ("GET", "/g/discord/100/"),
    ("GET", "/g/discord/100/more"),
    ("GET", "/g/discord/100/enter"),
    ("GET", "/g/discord/100/i/{id}"),
    ("GET", "/g/discord/100/i/{id}/image"),
    ("GET", "/g/discord/100/i/{id}/image?download=1"),
    ("GET", "/g/discord/100/i/{id}/thumb.webp"),
    ("GET", "/g/discord/100/static/gallery.css"),
    ("GET", "/g/discord/100/static/gallery.js"),
    ("POST", "/g/discord/100/i/{id}/delete"),
    ("POST", "/g/discord/100/i/{id}/hide"),
    ("POST", "/g/discord/100/i/{id}/unhide"),
]


async def forget_user(path: Path | str, platform: str, user_id: str) -> None:
    """The bot's forget-me, through its own store on the gallery's file."""
    store = await Store.open(path)
    try:
        await store.forget_user(platform, user_id)
    finally:
        await store.close()


async def purge_before(path: Path | str, created_before: float) -> None:
    """The bot's retention purge, through its own store on the gallery's file."""
    store = await Store.open(path)
    try:
        await store.purge_before(created_before)
    finally:
        await store.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def test_every_route_without_a_session_is_403(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site, browser_session() as client:
        gen_id = site.add()
        for method, route in ROUTES:
            async with client.request(method, site.url + route.format(id=gen_id)) as response:
                body = await response.text()
                assert response.status == 403, (method, route, response.status)
                assert "gallery link is not valid" in body
                assert response.headers["X-Content-Type-Options"] == "nosniff"
                assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert site.row(gen_id) is not None  # the POSTs changed nothing


async def test_a_link_opens_its_scope_with_a_strict_cookie_and_security_headers(
    tmp_path: Path,
) -> None:
    async with running_site(tmp_path, "https://gallery.test") as site, browser_session() as c:
        gen_id = site.add(prompt="a lighthouse at dusk")
        response = await enter(c, site.link("discord", "100"))
        assert response.status == 303
        assert response.headers["Location"] == "/g/discord/100/"
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
        assert "Path=/g/discord/100/" in cookie
        # Secure cookies travel over https only; this test talks http, so it sends it by hand.
        name, value = cookie.split(";")[0].split("=", 1)
        async with c.get(site.url + "/g/discord/100/", cookies={name: value}) as page:
            html = await page.text()
            assert page.status == 200
            csp = page.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp
            assert page.headers["Cache-Control"] == "no-store"
        assert card_ids(html) == [gen_id]
        assert "<script>" not in html and 'src="/g/discord/100/static/gallery.js"' in html
        assert 'alt="a lighthouse at dusk"' in html


async def test_a_session_for_one_server_finds_nothing_of_another(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site, browser_session() as client:
        mine = site.add(scope="100", prompt="ours")
        theirs = site.add(scope="200", prompt="theirs")
        dm = site.add(scope="dm:100", prompt="a direct message picture")
        telegram = site.add(platform="telegram", scope="100", prompt="same id, other platform")
        await enter(client, site.link("discord", "100"))
        async with client.get(site.url + "/g/discord/100/") as page:
            assert card_ids(await page.text()) == [mine]
        for other in (theirs, dm, telegram):
            for tail in ("", "/image", "/thumb.webp"):
                async with client.get(f"{site.url}/g/discord/100/i/{other}{tail}") as response:
                    assert response.status == 404, (other, tail)
        # The other scope's own pages: this session does not open them.
        for path in ("/g/discord/200/", f"/g/discord/200/i/{theirs}/thumb.webp"):
            cookies = {c.key: c.value for c in client.cookie_jar}
            async with client.get(site.url + path, cookies=cookies) as response:
                assert response.status == 403
        assert not list(site.config.thumbnails_dir.glob(f"{theirs}*"))


async def test_tampered_expired_and_misused_links_are_refused(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site, browser_session() as client:
        site.add()
        good = site.link("discord", "100")
        body, mac = good.split("t=", 1)[1].split(".")
        flipped = ("A" if body[5] != "A" else "B").join((body[:5], body[6:]))
        other_key = Signer(b"k" * 32)
        expired = site.link("discord", "100", hours=0.0002)
        await asyncio.sleep(1.0)
        session_kind = grants.encode(
            Signer(load_key(None, site.config.data_dir)),
            grants.start_session(
                grants.make_grant("discord", "100", user_id="u1", admin=True, hours=1)
            ),
            grants.SESSION,
        )
        bad = [
            good.replace(mac, mac[:-2] + ("AA" if not mac.endswith("AA") else "BB")),
            good.replace(body, flipped),
            good.split("t=")[0]
            + "t="
            + grants.encode(
                other_key,
                grants.make_grant("discord", "100", user_id="u1", admin=True, hours=1),
                grants.LINK,
            ),
            expired,
            site.link("discord", "200").replace("/g/discord/200/", "/g/discord/100/"),
            good.split("t=")[0] + "t=" + session_kind,
            good.split("t=")[0] + "t=",
        ]
        for link in bad:
            response = await enter(client, link)
            assert response.status == 403, link
            assert "Set-Cookie" not in response.headers
        async with client.get(site.url + "/g/discord/100/") as page:
            assert page.status == 403
        assert (await enter(client, good)).status == 303


async def test_an_expired_session_cookie_is_refused(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site, browser_session() as client:
        signer = Signer(load_key(None, site.config.data_dir))
        grant = grants.start_session(
            grants.make_grant("discord", "100", user_id="u1", admin=False, hours=1)
        )
        stale = grants.encode(
            signer, grant.__class__(**{**grant.__dict__, "expires": 1.0}), grants.SESSION
        )
        name = grants.cookie_name(signer, "discord", "100")
        async with client.get(site.url + "/g/discord/100/", cookies={name: stale}) as page:
            assert page.status == 403
        fresh = grants.encode(signer, grant, grants.SESSION)
        async with client.get(site.url + "/g/discord/100/", cookies={name: fresh}) as page:
            assert page.status == 200


@pytest.mark.e2e  # the gallery's thumbnail worker is a process
async def test_delete_needs_the_csrf_token_and_ownership(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site, browser_session() as client:
        own = site.add(user="u1")
        others = site.add(user="u2")
        await enter(client, site.link("discord", "100", user="u1"))
        async with client.get(f"{site.url}/g/discord/100/i/{own}/thumb.webp") as thumb:
            assert thumb.status == 200
        async with client.get(f"{site.url}/g/discord/100/i/{own}") as page:
            html = await page.text()
            assert "Delete my picture" in html
            token = csrf_of(html)
        async with client.get(f"{site.url}/g/discord/100/i/{others}") as page:
            assert "Delete my picture" not in await page.text()
        delete = f"{site.url}/g/discord/100/i/{{}}/delete"
        async with client.post(delete.format(own), data={}) as response:
            assert response.status == 403
        async with client.post(delete.format(own), data={"csrf": "0" * 32}) as response:
            assert response.status == 403
        async with client.post(delete.format(others), data={"csrf": token}) as response:
            assert response.status == 404
        assert site.row(own) is not None and site.row(others) is not None
        async with client.post(
            delete.format(own), data={"csrf": token}, allow_redirects=False
        ) as r:
            assert r.status == 303
        assert site.row(own) is None and site.row(others) is not None
        assert not (site.config.images_dir / f"{own}.png").exists()
        assert not (site.config.thumbnails_dir / f"{own}.webp").exists()
        async with client.get(f"{site.url}/g/discord/100/") as page:
            assert card_ids(await page.text()) == [others]


async def test_a_link_without_a_user_deletes_nothing(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site, browser_session() as client:
        gen_id = site.add(user="u1")
        await enter(client, site.link("discord", "100", user=None))
        async with client.get(f"{site.url}/g/discord/100/i/{gen_id}") as page:
            html = await page.text()
            assert "Delete my picture" not in html and 'name="csrf"' not in html
        signer = Signer(load_key(None, site.config.data_dir))
        cookie = next(c for c in client.cookie_jar).value
        token = grants.csrf_token(signer, grants.decode(signer, cookie, grants.SESSION))
        async with client.post(
            f"{site.url}/g/discord/100/i/{gen_id}/delete", data={"csrf": token}
        ) as r:
            assert r.status == 403
        assert site.row(gen_id) is not None


@pytest.mark.e2e  # the gallery's thumbnail worker is a process
async def test_hidden_pictures_leave_the_members_view_and_stay_in_the_admins(
    tmp_path: Path,
) -> None:
    async with (
        running_site(tmp_path) as site,
        browser_session() as admin,
        browser_session() as member,
    ):
        kept = site.add(user="u2", prompt="kept")
        hidden = site.add(user="u2", prompt="hidden one")
        await enter(admin, site.link("discord", "100", user="u9", admin=True))
        await enter(member, site.link("discord", "100", user="u1"))
        async with member.get(f"{site.url}/g/discord/100/i/{hidden}") as page:
            assert "Hide from members" not in await page.text()
        async with admin.get(f"{site.url}/g/discord/100/i/{hidden}") as page:
            token = csrf_of(await page.text())
        hide = f"{site.url}/g/discord/100/i/{hidden}/hide"
        async with member.post(hide, data={"csrf": token}) as response:
            assert response.status == 403  # another session's token, and not an admin
        async with admin.post(hide, data={}) as response:
            assert response.status == 403
        async with admin.post(hide, data={"csrf": token}, allow_redirects=False) as response:
            assert response.status == 303
        assert site.row(hidden)["hidden"] == 1
        async with member.get(f"{site.url}/g/discord/100/") as page:
            assert card_ids(await page.text()) == [kept]
        for tail in ("", "/image", "/thumb.webp"):
            async with member.get(f"{site.url}/g/discord/100/i/{hidden}{tail}") as response:
                assert response.status == 404
        async with member.get(f"{site.url}/g/discord/100/?q=hidden") as page:
            assert card_ids(await page.text()) == []
        async with admin.get(f"{site.url}/g/discord/100/") as page:
            html = await page.text()
            assert card_ids(html) == [hidden, kept] and ">hidden</span>" in html
        async with admin.get(f"{site.url}/g/discord/100/i/{hidden}/thumb.webp") as response:
            assert response.status == 200
        unhide = f"{site.url}/g/discord/100/i/{hidden}/unhide"
        async with admin.post(unhide, data={"csrf": token}) as response:
            assert response.status == 200  # followed to the detail page
        async with member.get(f"{site.url}/g/discord/100/") as page:
            assert card_ids(await page.text()) == [hidden, kept]


async def test_markup_in_prompts_and_names_is_shown_as_text(tmp_path: Path) -> None:
    nasty = '<script>alert(1)</script><img src=x onerror="alert(2)"> & "quotes"'
    async with running_site(tmp_path) as site, browser_session() as client:
        gen_id = site.add(prompt=nasty, user="u1")
        site.execute("UPDATE generations SET user_name = ? WHERE id = ?", ("<b>bold</b>", gen_id))
        await enter(client, site.link("discord", "100"))
        for path in ("/g/discord/100/", f"/g/discord/100/i/{gen_id}", "/g/discord/100/?q=alert"):
            async with client.get(site.url + path) as page:
                html = await page.text()
            assert (
                "<script>alert" not in html and "<img src=x" not in html and "<b>bold" not in html
            )
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
            assert "&lt;b&gt;bold&lt;/b&gt;" in html
            assert (
                'alt="&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&#34;alert(2)&#34;&gt; &amp; &#34;quotes&#34;"'
                in html
            )


async def test_search_and_filters_by_style_and_user(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site, browser_session() as client:
        castle = site.add(prompt="a castle on a hill", style="anime", user="u1")
        fox = site.add(prompt="a fox in the snow", style="photo", user="u2")
        castles = site.add(prompt="sand castles at the beach", style="photo", user="u2")
        site.add(scope="200", prompt="a castle elsewhere")
        await enter(client, site.link("discord", "100"))

        async def ids(query: str) -> list[str]:
            async with client.get(f"{site.url}/g/discord/100/?{query}") as page:
                assert page.status == 200
                return card_ids(await page.text())

        assert await ids("q=castle") == [castles, castle]  # "castle" also finds "castles"
        assert await ids("q=CASTLE+hill") == [castle]
        # User text is words, never FTS5 syntax: quotes and brackets are dropped, OR is a word.
        assert await ids('q=fox")*') == [fox]
        assert await ids("q=fox+OR+castle") == []
        assert await ids("q=***") == [castles, fox, castle]
        assert await ids("style=photo") == [castles, fox]
        assert await ids("user=u2") == [castles, fox]
        assert await ids("user=u2&style=photo&q=fox") == [fox]
        assert await ids("style=not-a-style") == [castles, fox, castle]


@pytest.mark.e2e  # the gallery's thumbnail worker is a process
async def test_thumbnails_are_webp_made_once_and_swept_when_the_picture_goes(
    tmp_path: Path,
) -> None:
    async with running_site(tmp_path) as site, browser_session() as client:
        gen_id = site.add()
        await enter(client, site.link("discord", "100"))
        url = f"{site.url}/g/discord/100/i/{gen_id}/thumb.webp"
        async with client.get(url) as response:
            data = await response.read()
            assert response.headers["Content-Type"] == "image/webp"
        assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
        cached = site.config.thumbnails_dir / f"{gen_id}.webp"
        first = cached.stat().st_mtime_ns
        results = await asyncio.gather(*(client.get(url) for _ in range(5)))
        assert all(r.status == 200 for r in results)
        for r in results:
            r.release()
        assert cached.stat().st_mtime_ns == first
        # Forget-me deletes the row: the gallery stops serving it at once, the sweep takes the file.
        await forget_user(site.store_target, "discord", "u1")
        async with client.get(url) as response:
            assert response.status == 404
        async with client.get(f"{site.url}/g/discord/100/") as page:
            assert card_ids(await page.text()) == []
        assert await site.server.sweep_once() == 1
        assert not cached.exists()


@pytest.mark.e2e  # the gallery's thumbnail worker is a process
async def test_retention_purge_takes_pictures_out_at_once(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site, browser_session() as client:
        old = site.add(created_at=1000.0, prompt="old picture")
        new = site.add(prompt="new picture")
        await enter(client, site.link("discord", "100"))
        async with client.get(f"{site.url}/g/discord/100/i/{old}/thumb.webp") as response:
            assert response.status == 200
        await purge_before(site.store_target, 2000.0)
        async with client.get(f"{site.url}/g/discord/100/?q=picture") as page:
            assert card_ids(await page.text()) == [new]
        async with client.get(f"{site.url}/g/discord/100/i/{old}/thumb.webp") as response:
            assert response.status == 404
        assert await site.server.sweep_once() == 1


async def test_a_switched_off_gallery_opens_for_nobody(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site, browser_session() as client:
        site.add()
        await enter(client, site.link("discord", "100"))
        assert site.server.gallery is not None
        await site.server.gallery.store.set_gallery_enabled("discord", "100", False)
        async with client.get(f"{site.url}/g/discord/100/") as page:
            assert page.status == 403
        assert (await enter(client, site.link("discord", "100", admin=True))).status == 403
        await site.server.gallery.store.set_gallery_enabled("discord", "100", True)
        # Switched on again, the session from before stays closed (issue 26.9); a new link
        # opens it.
        async with client.get(f"{site.url}/g/discord/100/") as page:
            assert page.status == 403
        assert (await enter(client, site.link("discord", "100"))).status == 303
        async with client.get(f"{site.url}/g/discord/100/") as page:
            assert page.status == 200


async def test_the_empty_state_says_how_to_make_the_first_picture(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site, browser_session() as client:
        await enter(client, site.link("telegram", "-1001234"))
        async with client.get(f"{site.url}/g/telegram/-1001234/") as page:
            html = await page.text()
        assert "No pictures yet" in html and "/imagine" in html


async def test_download_names_the_file_by_generation_id(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site, browser_session() as client:
        gen_id = site.add()
        await enter(client, site.link("discord", "100"))
        async with client.get(f"{site.url}/g/discord/100/i/{gen_id}/image?download=1") as r:
            assert (
                r.headers["Content-Disposition"]
                == f'attachment; filename="imaginebot-{gen_id}.png"'
            )
            assert await r.read() == (site.config.images_dir / f"{gen_id}.png").read_bytes()


@pytest.mark.timeout(300)
async def test_pagination_over_10000_rows_returns_each_once_in_order(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site, browser_session() as client:
        rows = []
        for n in range(10_000):
            gen_id = f"{n:016x}"
            # Many rows share a timestamp: the id breaks the tie, so none is skipped or repeated.
            created = 1_700_000_000.0 + (n // 7) * 0.5
            prompt = "tower castle" if n % 3 == 0 else "meadow"
            rows.append(
                (
                    gen_id,
                    "discord",
                    "100",
                    "100",
                    f"u{n % 5}",
                    "n",
                    prompt,
                    "photo",
                    "1:1",
                    n,
                    "delivered",
                    f"/x/{gen_id}.png",
                    created,
                )
            )
        site.execute(
            "INSERT INTO generations (id, platform, scope_id, chat_id, user_id, user_name, "
            "prompt, style, aspect, seed, status, image_path, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            *rows,
        )
        await enter(client, site.link("discord", "100"))
        expected = [r[0] for r in sorted(rows, key=lambda r: (r[12], r[0]), reverse=True)]

        async def walk(query: str) -> list[str]:
            seen: list[str] = []
            async with client.get(f"{site.url}/g/discord/100/?{query}") as page:
                html = await page.text()
            while True:
                seen += card_ids(html)
                more = re.search(r'data-more="([^"]+)"', html)
                if not more:
                    return seen
                async with client.get(site.url + more.group(1).replace("&amp;", "&")) as page:
                    assert page.status == 200
                    html = await page.text()

        assert await walk("") == expected
        castles = [gen_id for gen_id in expected if int(gen_id, 16) % 3 == 0]
        assert await walk("q=castle") == castles


async def test_the_style_filter_offers_the_servers_own_styles(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site, browser_session() as client:
        store = await Store.open(site.store_target)
        try:
            for style_id, name, hidden, scope in (
                ("neon-noir", "Neon <b>Noir</b>", False, "100"),
                ("secret", "Secret", True, "100"),
                ("theirs", "Theirs", False, "200"),
            ):
                await store.save_community_style(
                    style_values(
                        platform="discord",
                        scope_id=scope,
                        style_id=style_id,
                        name=name,
                        hidden=hidden,
                    )
                )
        finally:
            await store.close()
        noir = site.add(prompt="a cat", style="neon-noir", user="u1")
        site.add(prompt="a dog", style="photo", user="u1")
        await enter(client, site.link("discord", "100"))
        async with client.get(f"{site.url}/g/discord/100/") as page:
            html = await page.text()
        # A server's own style is named by a person: isolated, and not for translation.
        own = '<option value="neon-noir" dir="auto" translate="no">🎨 Neon &lt;b&gt;Noir&lt;/b&gt;'
        assert own + "</option>" in html
        assert 'value="secret"' not in html and 'value="theirs"' not in html
        assert 'value="anime"' in html
        async with client.get(f"{site.url}/g/discord/100/?style=neon-noir") as page:
            assert card_ids(await page.text()) == [noir]


async def test_a_styles_preview_is_shown_with_its_filter(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site, browser_session() as client:
        grid = site.config.images_dir / "0123456789abcdef.jpg"
        grid.parent.mkdir(parents=True, exist_ok=True)
        grid.write_bytes(b"\xff\xd8\xff a preview grid")
        store = await Store.open(site.store_target)
        try:
            for scope, style_id, hidden in (("100", "neon-noir", False), ("100", "secret", True)):
                await store.save_community_style(
                    style_values(
                        platform="discord",
                        scope_id=scope,
                        style_id=style_id,
                        hidden=hidden,
                        preview_path=str(grid),
                    )
                )
        finally:
            await store.close()
        await enter(client, site.link("discord", "100"))
        async with client.get(f"{site.url}/g/discord/100/?style=neon-noir") as page:
            assert 'src="/g/discord/100/style/neon-noir/preview.jpg"' in await page.text()
        async with client.get(f"{site.url}/g/discord/100/style/neon-noir/preview.jpg") as image:
            assert image.status == 200 and await image.read() == grid.read_bytes()
        for elsewhere in (
            "/g/discord/100/style/secret/preview.jpg",
            "/g/discord/200/style/neon-noir/preview.jpg",
        ):
            async with client.get(site.url + elsewhere) as refused:
                assert refused.status in (403, 404)
