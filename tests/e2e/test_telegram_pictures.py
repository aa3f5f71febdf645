"""Fetching a user's picture through python-telegram-bot's getFile and the fake Bot API's file
URL: the fake is as strict as Telegram (unknown file_id refused, nothing over 20 MB handed
out, only paths getFile gave are served) and the bot's download keeps MAX_INPUT_IMAGE_MB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Bot
from telegram.error import BadRequest

from bot.adapters.telegram.pictures import Picture, PictureDownloads
from bot.core.errors import BadInputImage
from tests.fakes.telegram_api import TelegramDriver

pytestmark = pytest.mark.e2e

CAP = 10_000_000


@pytest.fixture
async def bot(telegram: TelegramDriver) -> AsyncIterator[Bot]:
    env = telegram.env()
    async with Bot(
        env["TELEGRAM_TOKEN"],
        base_url=env["TELEGRAM_API_BASE"],
        base_file_url=env["TELEGRAM_FILE_BASE"],
    ) as client:
        yield client


def upload(telegram: TelegramDriver, data: bytes, **kw: Any) -> Picture:
    described = telegram.server.run_sync(lambda: telegram.fake.add_file(data, **kw))
    return Picture(described["file_id"], described.get("file_size"))


async def test_a_picture_comes_back_byte_for_byte(telegram: TelegramDriver, bot: Bot) -> None:
    data = bytes(range(256)) * 1000
    downloads = PictureDownloads(bot, CAP)
    try:
        assert await downloads.fetch(upload(telegram, data)) == data
    finally:
        await downloads.close()
    assert len(telegram.fake.downloads) == 1


async def test_the_fake_refuses_unknown_files_and_more_than_20_mb(
    telegram: TelegramDriver, bot: Bot
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("no-such-file")
    big = upload(telegram, b"\0" * (20 * 1024 * 1024 + 1), declare_size=False)
    with pytest.raises(BadRequest, match=r"(?i)file is too big"):
        await bot.get_file(big.file_id)
    # A path getFile never handed out is not served, even with the right token.
    session = PictureDownloads(bot, CAP)
    try:
        with pytest.raises(BadInputImage, match="could not hand over"):
            await session._stream(f"{bot.base_file_url}/documents/file_guessed")
    finally:
        await session.close()


async def test_the_cap_holds_before_and_while_downloading(
    telegram: TelegramDriver, bot: Bot
) -> None:
    downloads = PictureDownloads(bot, CAP)
    try:
        stated = upload(telegram, b"\1" * (CAP + 1))
        with pytest.raises(BadInputImage, match="larger than 10 MB"):
            downloads.check(stated)
        with pytest.raises(BadInputImage, match="larger than 10 MB"):
            await downloads.fetch(stated)
        assert telegram.fake.downloads == []  # refused from the size Telegram gave
        unstated = upload(telegram, b"\1" * (CAP + 1), declare_size=False)
        with pytest.raises(BadInputImage, match="larger than 10 MB"):
            await downloads.fetch(unstated)
        assert len(telegram.fake.downloads) == 1  # fetched, and stopped at the cap
        with pytest.raises(BadInputImage, match="could not hand over"):
            await downloads.fetch(Picture("no-such-file", None))
    finally:
        await downloads.close()
