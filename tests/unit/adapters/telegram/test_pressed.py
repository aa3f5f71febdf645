"""Which message a Telegram press may act on (bot/adapters/telegram/pressed.py), on real
python-telegram-bot objects: the recorded ones, a restyle menu, and old rows by their reply."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from telegram import CallbackQuery, Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, User

from bot.adapters.telegram.pressed import carries_data, menu_record, row_message
from bot.core.errors import NotThisMessage
from bot.core.models import Generation
from tests.support.generations import generation as base_generation

BOT = User(id=1, first_name="bot", is_bot=True)
ALICE = User(id=2, first_name="alice", is_bot=False)
GROUP = Chat(id=-100, type="supergroup")


def generation(**handle: Any) -> Generation:
    return base_generation("a cat").model_copy(
        update={
            "chat_id": "-100",
            "scope_id": "-100",
            "reply_to_message_id": "10",
            "handle": handle,
        }
    )


def message(
    message_id: int, *, reply_to: int | None = None, chat: Chat = GROUP, **kw: Any
) -> Message:
    replied = Message(reply_to, datetime.now(UTC), chat, from_user=ALICE) if reply_to else None
    return Message(
        message_id, datetime.now(UTC), chat, from_user=BOT, reply_to_message=replied, **kw
    )


def press(on: Message, data: str = "ib:D:0123456789abcdef") -> CallbackQuery:
    return CallbackQuery("q", ALICE, "ci", message=on, data=data)


def test_the_recorded_message_and_its_menu_pass_any_other_is_refused() -> None:
    row = generation(status_message_id=11, **menu_record(message(12)).stored())
    assert row_message(press(message(11)), row).message_id == 11
    assert row_message(press(message(12)), row).message_id == 12
    for other in (message(13), message(11, chat=Chat(id=-200, type="group"))):
        with pytest.raises(NotThisMessage, match="does not belong"):
            row_message(press(other), row)


def test_a_picture_sent_as_a_new_message_is_its_rows_message() -> None:
    row = generation(status_message_id=11, picture_message_id=14)
    assert row_message(press(message(14, reply_to=10)), row).message_id == 14
    with pytest.raises(NotThisMessage):  # once recorded, a reply to the command proves nothing
        row_message(press(message(15, reply_to=10)), row)


def test_rows_from_before_the_record_are_known_by_their_reply_to_the_command() -> None:
    row = generation(status_message_id=11, fallback_sent_at=1.0)
    assert row_message(press(message(20, reply_to=10)), row).message_id == 20
    with pytest.raises(NotThisMessage):
        row_message(press(message(21, reply_to=99)), row)


def test_forget_me_answers_only_on_a_message_that_carries_that_button() -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Delete", callback_data="ib:F:2")]])
    own = message(30, reply_markup=keyboard)
    assert carries_data(press(own, "ib:F:2")).message_id == 30
    with pytest.raises(NotThisMessage):
        carries_data(press(message(31), "ib:F:2"))
    with pytest.raises(NotThisMessage):
        carries_data(press(own, "ib:F:3"))
