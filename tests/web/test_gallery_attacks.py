"""Attacks on the gallery (issue 26.7, 26.10): a cursor past 64 bits, every error page with
the security headers, and people named who have nothing to show. A real server at 127.0.0.1
over a migrated SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from bot.web.queries import GalleryStore
from tests.web.support import browser_session, card_ids, enter, running_site

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
