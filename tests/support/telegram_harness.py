"""The Telegram adapter in-process, as the Discord one runs in simcord: the real
python-telegram-bot `Application` long-polls the fake Bot API (served on 127.0.0.1 by a thread of
this process), over a real `BotApp` on SQLite and the in-process Redis stand-in, with its worker
calling the fake OpenAI images API. A handler test needs no subprocess and no Redis server.

What a test asserts is what reached the fake Bot API and the rows the bot wrote, as end to end.
The driver's calls are synchronous hops to the fake's thread; waiting is `eventually`, which
lets the bot's loop (this test's loop) run meanwhile."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bot.bootstrap import BotApp
from bot.settings import Settings
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.server import ServerThread
from tests.fakes.telegram_api import TelegramDriver
from tests.support import described, patience, rows

T = TypeVar("T")

GROUP = -100200300
OTHER_GROUP = -100999888
ALICE, BOB, ADMIN = 11, 12, 13


async def eventually(
    probe: Callable[[], T | None],
    timeout: float = 15,
    message: str | Callable[[], str] = "the condition",
) -> T:
    """`probe()`'s first true value, polled while the bot's tasks run on this loop."""
    started = time.monotonic()
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() - started > patience(timeout):
            raise AssertionError(f"timed out waiting for {described(message)}")
        await asyncio.sleep(0.02)


@dataclass
class TelegramHarness:
    app: BotApp
    telegram: TelegramDriver
    openai: FakeOpenAI

    def rows(self) -> list[dict[str, Any]]:
        return rows(
            self.app.settings.database_path, "SELECT * FROM generations ORDER BY created_at"
        )

    def row_replying_to(self, message: dict[str, Any]) -> dict[str, Any] | None:
        found = [r for r in self.rows() if r["reply_to_message_id"] == str(message["message_id"])]
        return found[0] if found else None

    async def answer(self, message: dict[str, Any]) -> dict[str, Any]:
        """The bot's first reply to `message`, once there is one."""
        replies = await eventually(
            lambda: self.telegram.replies_to(message),
            message=lambda: f"an answer to {message['text']!r}",
        )
        return replies[0]

    async def settled_row(self, message: dict[str, Any]) -> dict[str, Any]:
        def settled() -> dict[str, Any] | None:
            row = self.row_replying_to(message)
            return row if row and row["status"] in ("delivered", "failed") else None

        return await eventually(settled, 30, message=lambda: f"the row for {message['text']!r}")


def harness_settings(
    data_dir: Path, telegram: TelegramDriver, openai: FakeOpenAI, **overrides: Any
) -> Settings:
    """What `imaginebot run` reads from the environment the subprocess stacks give it."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=data_dir,
        telegram_token=telegram.fake.token,
        telegram_api_base=f"{telegram.server.url}/bot",
        telegram_file_base=f"{telegram.server.url}/file/bot",
        openai_api_key=openai.api_key,
        openai_base_url=f"{openai.base_url}/v1",
        max_pending_per_user=20,
        telegram_refusal_quiet_seconds=0,
        **overrides,
    )


def add_people(telegram: TelegramDriver) -> None:
    for user_id, name in ((ALICE, "alice"), (BOB, "bob"), (ADMIN, "admin")):
        telegram.add_user(user_id, name)
    telegram.add_group(GROUP, {ALICE: "member", BOB: "member", ADMIN: "administrator"})
    telegram.add_group(OTHER_GROUP, {ALICE: "member", ADMIN: "member"})


@asynccontextmanager
async def telegram_harness(
    tmp: Path, *, fake: dict[str, Any] | None = None, **settings: Any
) -> AsyncIterator[TelegramHarness]:
    """The bot with its Telegram adapter started and long polling, and a worker, in this loop;
    `settings` changes the bot's (`openai_image_model="dall-e-3"`, say), `fake` the fake Bot
    API's options (`{"inline_enabled": True}`: inline mode on in BotFather)."""
    telegram = TelegramDriver(**(fake or {})).start()
    openai = FakeOpenAI()
    openai_server = ServerThread(openai.app()).start()
    openai.base_url = openai_server.url
    try:
        add_people(telegram)
        settings_ = harness_settings(tmp / "data", telegram, openai, **settings)
        app = await BotApp.create(settings_, chat=True)
        try:
            await app.start(resume=False, worker=True, serve_health=False)
            await eventually(telegram.polling, message="long polling")
            yield TelegramHarness(app, telegram, openai)
        finally:
            await app.close()
    finally:
        openai_server.stop()
        telegram.stop()
