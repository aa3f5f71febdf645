"""Removing a result's message for Delete, honestly: the message goes first, the row after.

Telegram lets a bot delete its own messages for 48 hours only ("message can't be deleted for
everyone" after that), while edits have no age limit. So an old picture is edited into a
small grey placeholder that says it was removed by its author, with no buttons, and the
person is told which of the two happened. When neither works the row stays, and they are
told that too: a history row never disappears while its picture still shows.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from functools import cache
from io import BytesIO
from typing import Any

from PIL import Image
from telegram import InputMediaPhoto, Message
from telegram.error import BadRequest, TelegramError
from telegram.ext import ExtBot

from bot.adapters.telegram.flood import PICTURE
from bot.adapters.telegram.render import say_plain
from bot.core.language import ENGLISH, Text

log = logging.getLogger(__name__)

PLACEHOLDER_CAPTION = Text("🗑 Removed by its author.")
GONE = ("message to delete not found", "message_id_invalid")


class Removal(StrEnum):
    """What happened (buttons.py words it for the presser)."""

    DELETED = "deleted"
    ALREADY_GONE = "already gone"
    REPLACED = "replaced"


class NotRemoved(Exception):
    """Neither deleted nor replaced: the row must stay."""


@cache
def placeholder_png() -> bytes:
    out = BytesIO()
    Image.new("RGB", (96, 96), (128, 128, 128)).save(out, format="PNG")
    return out.getvalue()


async def remove_message(
    bot: ExtBot[Any], chat_id: int, message: Message, locale: str = ENGLISH
) -> Removal:
    """Delete the result message, or replace it (its placeholder worded in `locale`, the
    message's own) when Telegram no longer lets us delete it."""
    try:
        await bot.delete_message(chat_id, message.message_id)
        return Removal.DELETED
    except BadRequest as exc:
        reason = exc.message.lower()
        if any(marker in reason for marker in GONE):
            return Removal.ALREADY_GONE
        if "can't be deleted" not in reason:
            raise NotRemoved(exc.message) from exc
    except TelegramError as exc:
        raise NotRemoved(str(exc)) from exc
    removed = say_plain(PLACEHOLDER_CAPTION, locale)
    try:
        if message.text is not None:  # a /describe result is text
            await bot.edit_message_text(
                removed,
                chat_id=chat_id,
                message_id=message.message_id,
                reply_markup=None,
                rate_limit_args=PICTURE,
            )
        else:
            await bot.edit_message_media(
                InputMediaPhoto(placeholder_png(), caption=removed),
                chat_id=chat_id,
                message_id=message.message_id,
                reply_markup=None,
                rate_limit_args=PICTURE,
            )
    except TelegramError as exc:
        log.warning("chat %s: old message %s not replaced: %s", chat_id, message.message_id, exc)
        raise NotRemoved(str(exc)) from exc
    return Removal.REPLACED
