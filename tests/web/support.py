"""A gallery on a real server at 127.0.0.1 over a real, migrated SQLite database."""

from __future__ import annotations

import re
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import aiohttp
from PIL import Image

from bot.core.store import Store
from bot.web.config import WebConfig
from bot.web.server import GalleryServer

CARD_ID = re.compile(r'<a href="/g/[^"]+/i/([0-9a-f]+)" class="thumb">')


def png(color: tuple[int, int, int] = (200, 60, 60), size: tuple[int, int] = (64, 48)) -> bytes:
    out = BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


@dataclass
class Site:
    server: GalleryServer
    config: WebConfig

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def link(
        self,
        platform: str,
        scope: str,
        user: str | None = "u1",
        *,
        admin: bool = False,
        **kw: float,
    ) -> str:
        link = self.config.links().make(platform, scope, user_id=user, admin=admin, **kw)
        return link.replace(self.config.public_url, self.url)

    def add(
        self,
        platform: str = "discord",
        scope: str = "100",
        user: str = "u1",
        prompt: str = "a red fox",
        *,
        style: str = "photo",
        created_at: float | None = None,
        status: str = "delivered",
        with_file: bool = True,
    ) -> str:
        gen_id = secrets.token_hex(8)
        image = self.config.images_dir / f"{gen_id}.png"
        if with_file:
            image.write_bytes(png())
        with sqlite3.connect(self.config.database_path) as db:
            db.execute(
                "INSERT INTO generations (id, platform, scope_id, chat_id, user_id, user_name, "
                "prompt, style, aspect, seed, provider, model, status, image_path, image_width, "
                "image_height, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '1:1', 42, 'openai', "
                "'gpt-image-1', ?, ?, 64, 48, ?)",
                (
                    gen_id,
                    platform,
                    scope,
                    scope,
                    user,
                    f"name-{user}",
                    prompt,
                    style,
                    status,
                    str(image),
                    time.time() if created_at is None else created_at,
                ),
            )
        return gen_id

    def row(self, gen_id: str) -> sqlite3.Row | None:
        with sqlite3.connect(self.config.database_path) as db:
            db.row_factory = sqlite3.Row
            return db.execute("SELECT * FROM generations WHERE id = ?", (gen_id,)).fetchone()


def web_config(tmp_path: Path, public_url: str = "http://gallery.test") -> WebConfig:
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True, exist_ok=True)
    return WebConfig(
        port=0,
        public_url=public_url,
        secret=None,
        link_hours=24,
        data_dir=data,
        database_path=data / "imaginebot.sqlite3",
        images_dir=data / "images",
        host="127.0.0.1",
    )


@asynccontextmanager
async def running_site(
    tmp_path: Path, public_url: str = "http://gallery.test"
) -> AsyncIterator[Site]:
    config = web_config(tmp_path, public_url)
    store = await Store.open(config.database_path)  # the bot's own migrations, 004 included
    await store.close()
    server = GalleryServer(config)
    await server.start()
    try:
        yield Site(server, config)
    finally:
        await server.stop()


def browser_session() -> aiohttp.ClientSession:
    # unsafe=True: aiohttp's jar otherwise keeps no cookies for an IP address like 127.0.0.1.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def enter(client: aiohttp.ClientSession, link: str) -> aiohttp.ClientResponse:
    async with client.get(link, allow_redirects=False) as response:
        await response.read()
        return response


def card_ids(html: str) -> list[str]:
    return CARD_ID.findall(html)
