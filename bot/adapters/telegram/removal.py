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

log = logging.getLogger(__name__)

PLACEHOLDER_CAPTION = "🗑 Removed by its author."
GONE = ("message to delete not found", "message_id_invalid")


class Removal(StrEnum):
    DELETED = "Deleted."
    ALREADY_GONE = "Deleted (the message was already gone)."
    REPLACED = (
        "Deleted from the history. Telegram lets bots delete messages for 48 hours only, "
        "so the picture was replaced by a placeholder."
    )


class NotRemoved(Exception):
    """Neither deleted nor replaced: the row must stay."""


@cache
def placeholder_png() -> bytes:
    out = BytesIO()
    Image.new("RGB", (96, 96), (128, 128, 128)).save(out, format="PNG")
    return out.getvalue()


async def remove_message(bot: ExtBot[Any], chat_id: int, message: Message) -> Removal:
    """Delete the result message, or replace it when Telegram no longer lets us delete it."""
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
    try:
        if message.text is not None:  # a /describe result is text
            await bot.edit_message_text(
                PLACEHOLDER_CAPTION,
                chat_id=chat_id,
                message_id=message.message_id,
                reply_markup=None,
                rate_limit_args=PICTURE,
            )
        else:
            await bot.edit_message_media(
                InputMediaPhoto(placeholder_png(), caption=PLACEHOLDER_CAPTION),
                chat_id=chat_id,
                message_id=message.message_id,
                reply_markup=None,
                rate_limit_args=PICTURE,
            )
    except TelegramError as exc:
        log.warning("chat %s: old message %s not replaced: %s", chat_id, message.message_id, exc)
        raise NotRemoved(str(exc)) from exc
    return Removal.REPLACED
