"""Attacks on the gallery (issue 26.7, 26.10): a cursor past 64 bits, every error page with
the security headers, and people named who have nothing to show. A real server at 127.0.0.1
over a migrated database (the SQLite file, or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.web.queries import GalleryStore
from tests.support.web import browser_session, card_ids, enter, running_site, use_backend


@pytest.fixture(autouse=True, params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    use_backend(request.param)
    yield request.param
    use_backend("sqlite")


HEADERS = {
    "Content-Security-Policy": "default-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


def assert_protected(response: aiohttp.ClientResponse, status: int) -> None:
    assert response.status == status, response.status
    for name, value in HEADERS.items():
        assert value in response.headers.get(name, ""), (status, name)
    assert response.content_type == "text/html"


async def test_every_error_page_carries_the_security_headers(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site, browser_session() as client:
        site.add(prompt="a harbour")
        await enter(client, site.link("discord", "100"))
        base = site.url + "/g/discord/100/"
        pages: list[tuple[str, str, int]] = [
            ("GET", base + "?cursor=r9999999999999999999", 400),  # issue 26.7: was a bare 500
            ("GET", base + "?q=harbour&cursor=r9999999999999999999", 400),
            ("GET", base + "more?cursor=t1e999_00ff", 400),
            ("GET", base + "?cursor=t%C2%B2_00ff", 400),  # a superscript digit
            ("GET", base + "?cursor=" + "9" * 5000, 400),
            ("GET", base + "i/0123456789abcdef", 404),
            ("GET", site.url + "/g/discord/200/", 403),
            ("PUT", base, 403),  # nothing but the routes: no method probing either
        ]
        for method, url, status in pages:
            async with client.request(method, url) as response:
                assert_protected(response, status)

        # A defect in a handler: still a page, with every header, and no trace shown.
        gallery: Any = site.server.gallery
        store: GalleryStore = gallery.store

        async def broken(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError("a defect")

        original = store.page
        gallery.store.page = broken
        try:
            async with client.get(base) as response:
                assert_protected(response, 500)
                assert "a defect" not in await response.text()
        finally:
            gallery.store.page = original


async def test_a_listing_cursor_from_a_page_still_continues_it(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site, browser_session() as client:
        made = [site.add(prompt=f"picture {n}", created_at=1_700_000_000 + n) for n in range(70)]
        await enter(client, site.link("discord", "100"))
        async with client.get(site.url + "/g/discord/100/") as page:
            first = card_ids(await page.text())
        async with client.get(site.url + "/g/discord/100/more?cursor=t1700000010.0_0") as more:
            assert more.status == 200
            rest = card_ids(await more.text())
        assert len(first) == 60 and rest == list(reversed(made[:10]))


async def test_people_with_no_visible_picture_are_not_named(tmp_path: Path) -> None:
    """Issue 26.10: `?user=<id>` showed the name of someone whose every row was hidden or
    failed."""
    async with running_site(tmp_path) as site, browser_session() as member:
        site.add(user="u1", prompt="a visible one")
        hidden = site.add(user="u7", prompt="hidden")
        site.execute("UPDATE generations SET hidden = 1 WHERE id = ?", (hidden,))
        site.add(user="u8", prompt="failed", status="failed", with_file=False)
        await enter(member, site.link("discord", "100", user="u1"))
        for who in ("u7", "u8"):
            async with member.get(f"{site.url}/g/discord/100/?user={who}") as page:
                html = await page.text()
                assert page.status == 200 and f"name-{who}" not in html, who
                assert card_ids(html) == []
        async with member.get(f"{site.url}/g/discord/100/?user=u1") as page:
            assert "name-u1" in await page.text()
        async with browser_session() as admin:
            await enter(admin, site.link("discord", "100", user="a1", admin=True))
            async with admin.get(f"{site.url}/g/discord/100/?user=u7") as page:
                assert "name-u7" in await page.text()  # moderators see hidden pictures
            async with admin.get(f"{site.url}/g/discord/100/?user=u8") as page:
                assert "name-u8" not in await page.text()  # nobody sees a failed one
