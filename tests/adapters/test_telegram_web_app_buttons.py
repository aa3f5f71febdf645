"""Telegram's rules for Mini App buttons, as python-telegram-bot meets them in the fake Bot API:
a `web_app` button is taken in a private chat over HTTPS, refused in a group
(BUTTON_TYPE_INVALID) and for an HTTP address; a client opening it gets initData that
Telegram signed for the user who pressed it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from telegram.error import BadRequest

from bot.web.webapp_data import validate
from tests.fakes.telegram_api import TelegramDriver

ALICE, GROUP = 11, -100700


@pytest.fixture
async def bot() -> AsyncIterator[tuple[TelegramDriver, Bot]]:
    t = TelegramDriver().start()
    t.add_user(ALICE, "alice")
    t.add_group(GROUP, {ALICE: "member"})
    env = t.env()
    client = Bot(env["TELEGRAM_TOKEN"], base_url=env["TELEGRAM_API_BASE"])
    try:
        async with client:
            yield t, client
    finally:
        t.stop()


def app_button(url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("🖌", web_app=WebAppInfo(url))]])


async def test_web_app_buttons_only_in_private_chats_and_over_https(
    bot: tuple[TelegramDriver, Bot],
) -> None:
    t, client = bot
    url = "https://pics.example.org/g/telegram/dm%3A11/edit/ab?t=x"
    sent = await client.send_message(ALICE, "edit", reply_markup=app_button(url))
    assert sent.reply_markup is not None
    with pytest.raises(BadRequest, match=r"(?i)button_type_invalid"):
        await client.send_message(GROUP, "edit", reply_markup=app_button(url))
    with pytest.raises(BadRequest, match=r"(?i)only https links are allowed"):
        await client.send_message(
            ALICE, "edit", reply_markup=app_button(url.replace("https", "http"))
        )
    # Opened by Alice's client: the address carries initData signed with the bot's token.
    opened = t.fake.web_app_address(ALICE, url)
    fragment = parse_qs(urlsplit(opened).fragment)
    data = fragment["tgWebAppData"][0]  # the urlencoded pairs, as the client hands them
    user = validate(data, t.fake.token, max_age=60)
    assert user.user_id == str(ALICE)
