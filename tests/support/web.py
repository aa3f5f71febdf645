"""A gallery on a real server at 127.0.0.1 over a real, migrated database: the SQLite file,
or a fresh PostgreSQL database when `use_backend("postgresql")` was called (per test)."""

from __future__ import annotations

import asyncio
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import aiohttp
import asyncpg
from PIL import Image

from bot.core.store import Store
from bot.core.store.postgres import numbered
from bot.web.config import WebConfig
from bot.web.edit_orders import USED, EditOrder, EditorSetup, EditRefused
from bot.web.links import EditorLinks
from bot.web.server import GalleryServer
from tests.fakes.discord_gateway import DiscordDriver
from tests.fakes.openai_images import FakeOpenAI
from tests.support import base_env, wait_for
from tests.support.postgres import create_database, drop_database, url_of

_backend = ["sqlite"]


def use_backend(name: str) -> None:
    """The store the next `running_site` opens: "sqlite" or "postgresql"."""
    _backend[0] = name


def _on_postgres(
    url: str, sql: str, rows: Sequence[Sequence[object]], fetch: bool
) -> list[dict[str, object]]:
    """Run one statement (once per params row) on its own connection, from a thread of its
    own: the test's event loop serves the gallery meanwhile and must not be re-entered."""
    result: list[list[dict[str, object]]] = []
    failure: list[BaseException] = []

    async def run() -> None:
        conn = await asyncpg.connect(url, timeout=10)
        try:
            if fetch:
                result.append([dict(r) for r in await conn.fetch(numbered(sql), *rows[0])])
            else:
                await conn.executemany(numbered(sql), [tuple(r) for r in rows])
        finally:
            await conn.close()

    def target() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    if failure:
        raise failure[0]
    return result[0] if result else []


CARD_ID = re.compile(r'<a href="/g/[^"]+/i/([0-9a-f]+)" class="thumb">')


def png(color: tuple[int, int, int] = (200, 60, 60), size: tuple[int, int] = (64, 48)) -> bytes:
    out = BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


class RecordingDesk:
    """An edit desk that records what the editor handed it (claiming the link once, as the
    real desks do after the core accepted the edit): for the editor's own tests."""

    def __init__(self) -> None:
        self.orders: list[EditOrder] = []

    async def submit(self, order: EditOrder, claim: Callable[[], Awaitable[bool]]) -> str:
        if not await claim():
            raise EditRefused(USED)
        self.orders.append(order)
        return "Queued: the new picture will be posted under the old one."


@dataclass
class Site:
    server: GalleryServer
    config: WebConfig

    @property
    def store_target(self) -> Path | str:
        """What `Store.open` takes for the bot's own store on this gallery's database."""
        return self.config.database_url or self.config.database_path

    def execute(self, sql: str, *rows: Sequence[object]) -> None:
        """One statement with `?` placeholders, once per params row, on either backend."""
        if self.config.database_url:
            _on_postgres(self.config.database_url, sql, rows, fetch=False)
            return
        with sqlite3.connect(self.config.database_path) as db:
            db.executemany(sql, rows)

    def query(self, sql: str, *params: object) -> list[dict[str, object]]:
        if self.config.database_url:
            return _on_postgres(self.config.database_url, sql, [params], fetch=True)
        with sqlite3.connect(self.config.database_path) as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute(sql, params).fetchall()]

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
        found = self.query(
            "SELECT gallery_generation FROM scope_settings WHERE platform = ? AND scope_id = ?",
            platform,
            scope,
        )
        generation = int(str(found[0]["gallery_generation"])) if found else 0
        link = self.config.links().make(
            platform, scope, user_id=user, admin=admin, generation=generation, **kw
        )
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
        self.execute(
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

    def editor_links(self, webapp_name: str | None = None) -> EditorLinks:
        return EditorLinks(self.config.signer(), self.url, 1, webapp_name)

    def editor_link(self, gen_id: str, platform: str = "discord", scope: str = "100") -> str:
        """u1's editor link for `gen_id`, as the 🖌 button hands it out."""
        links = self.editor_links()
        return links.url(links.make(platform, scope, gen_id, user_id="u1"))

    def row(self, gen_id: str) -> dict[str, object] | None:
        found = self.query("SELECT * FROM generations WHERE id = ?", gen_id)
        return found[0] if found else None


def web_config(
    tmp_path: Path, public_url: str = "http://gallery.test", database_url: str | None = None
) -> WebConfig:
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True, exist_ok=True)
    return WebConfig(
        database_url=database_url,
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
    tmp_path: Path, public_url: str = "http://gallery.test", edits: EditorSetup | None = None
) -> AsyncIterator[Site]:
    database = await create_database() if _backend[0] == "postgresql" else None
    config = web_config(tmp_path, public_url, url_of(database) if database else None)
    try:
        # The bot's own migrations, the gallery's included.
        store = await Store.open(config.database_url or config.database_path)
        await store.close()
        server = GalleryServer(config, edits=edits)
        await server.start()
        try:
            yield Site(server, config)
        finally:
            await server.stop()
    finally:
        if database is not None:
            await drop_database(database)


def browser_session() -> aiohttp.ClientSession:
    # unsafe=True: aiohttp's jar otherwise keeps no cookies for an IP address like 127.0.0.1.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def enter(client: aiohttp.ClientSession, link: str) -> aiohttp.ClientResponse:
    async with client.get(link, allow_redirects=False) as response:
        await response.read()
        return response


def card_ids(html: str) -> list[str]:
    return CARD_ID.findall(html)


HOST = "gallery.test"  # Telegram refuses buttons to localhost; the browser maps it to 127.0.0.1


def bot_env(root: Path, openai: FakeOpenAI, port: int, **extra: str) -> dict[str, str]:
    return base_env(
        root / "data",
        OPENAI_API_KEY=openai.api_key,
        OPENAI_BASE_URL=f"{openai.base_url}/v1",
        MAX_PENDING_PER_USER="20",
        WEB_PORT=str(port),
        PUBLIC_URL=f"http://{HOST}:{port}",
        TELEGRAM_REFUSAL_QUIET_SECONDS="0",
        **extra,
    )


def log_of(root: Path) -> str:
    return (root / "bot.log").read_text(errors="replace")[-4000:]


def discord_link(d: DiscordDriver, user: str, permissions: int) -> str | None:
    asked = d.slash("gallery", user=user, permissions=permissions)
    answer = wait_for(lambda: next(iter(d.writes(asked)), None), 15, message="/gallery")
    components = answer.body.get("components") or []
    return components[0]["components"][0]["url"] if components else None
