"""Telegram handlers in-process (tests/support/telegram_harness.py): python-telegram-bot long
polls the fake Bot API from this test's loop, the core runs on SQLite and the in-process Redis
stand-in. Their end-to-end twins across processes stay in tests/e2e/test_telegram_e2e.py."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.telegram_api import photo_bytes
from tests.support import rows
from tests.support.telegram_harness import (
    ADMIN,
    ALICE,
    BOB,
    GROUP,
    OTHER_GROUP,
    eventually,
    telegram_harness,
)


async def test_bad_input_is_answered_in_plain_words(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path) as bot:
        t = bot.telegram
        empty = t.send(GROUP, ALICE, "/imagine")
        unknown = t.send(GROUP, ALICE, "/imagine a cat style:anmie")
        flag = t.send(GROUP, ALICE, "/imagine a cat --bogus 3")
        assert "Usage: /imagine" in (await bot.answer(empty))["text"]
        assert "Did you mean anime" in (await bot.answer(unknown))["text"]
        assert "Unknown option \u2068--bogus\u2069" in (await bot.answer(flag))["text"]
        assert bot.row_replying_to(unknown) is None
        assert bot.openai.images == []


async def test_setstyle_is_for_admins_and_applies_to_that_group_only(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path) as bot:
        t = bot.telegram
        refused = t.send(GROUP, BOB, "/setstyle sketch")
        assert "Only this chat's admins" in (await bot.answer(refused))["text"]
        database = bot.app.settings.database_path
        assert (
            rows(database, "SELECT * FROM scope_settings WHERE scope_id = ?", (str(GROUP),)) == []
        )

        accepted = t.send(GROUP, ADMIN, "/setstyle sketch")
        assert "Sketch" in (await bot.answer(accepted))["text"]

        in_group = t.send(GROUP, ALICE, "/imagine a harbour")
        elsewhere = t.send(OTHER_GROUP, ALICE, "/imagine a harbour")
        assert (await bot.settled_row(in_group))["style"] == "sketch"
        assert (await bot.settled_row(elsewhere))["style"] == "photo"


async def test_a_429_on_the_photo_still_delivers_exactly_one(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path) as bot:
        t = bot.telegram
        t.fake.failures["editMessageMedia"] = [(429, 1)]
        command = t.send(ALICE, ALICE, "/imagine a lighthouse")
        row = await bot.settled_row(command)
        assert row["status"] == "delivered"
        attempts = [
            c
            for c in t.fake.calls
            if c.method == "editMessageMedia" and int(c.params["chat_id"]) == ALICE
        ]
        assert [c.ok for c in attempts] == [False, True]
        photos = await eventually(lambda: t.server.run_sync(t.fake.photos_in, ALICE))
        assert len(photos) == 1 and photo_bytes(photos[0]) == bot.openai.images[0]
