"""Which message a button press may act on: the one the row recorded, never "the message the
press came from".

A modified client can put any `callback_data` on any bot message, so the data of Alice's
own picture pressed on Bob's picture passes every check of the row it names (Alice owns it,
it was made in this chat). What proves the press belongs to that row is the message: the
row's delivery handle records every message the bot posted for the request (the status reply
that became the picture, a picture sent as a new message, a restyle menu under it). A press
on any other message is refused before anything happens, and every action then works on the
recorded message id, not on `query.message`.
"""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardMarkup, Message

from bot.adapters.telegram.delivery_handle import TelegramHandle
from bot.core.errors import NotThisMessage
from bot.core.models import Generation


def result_message_id(generation: Generation) -> int | None:
    """The message that shows the request's result, as the row recorded it."""
    handle = TelegramHandle.of(generation.handle)
    if handle.picture_message_id is not None:
        return handle.picture_message_id
    return handle.status_message_id


def _legacy_match(generation: Generation, message: Message) -> bool:
    """A row delivered before messages were recorded: its picture replied to the command."""
    replied = message.reply_to_message
    return (
        replied is not None
        and generation.reply_to_message_id is not None
        and str(replied.message_id) == generation.reply_to_message_id
        and message.from_user is not None
        and message.from_user.is_bot
    )


def row_message(query: CallbackQuery, generation: Generation) -> Message:
    """The pressed message, when it is one the row recorded (in the row's own chat);
    raises NotThisMessage otherwise."""
    message = query.message
    if not isinstance(message, Message) or str(message.chat_id) != generation.chat_id:
        raise NotThisMessage()
    handle = TelegramHandle.of(generation.handle)
    if message.message_id in handle.recorded_messages():
        return message
    # Pictures sent as a new message before that message was recorded: the bot's reply to
    # the row's own command (no other bot message replies to it but the status reply).
    if handle.picture_message_id is None and _legacy_match(generation, message):
        return message
    raise NotThisMessage()


def carries_data(query: CallbackQuery) -> Message:
    """For buttons that name no row (forget-me): the pressed message must itself carry a
    button with exactly this data, so the press came from the message the bot made for it."""
    message = query.message
    if not isinstance(message, Message):
        raise NotThisMessage()
    markup = message.reply_markup
    if isinstance(markup, InlineKeyboardMarkup) and any(
        button.callback_data == query.data for row in markup.inline_keyboard for button in row
    ):
        return message
    raise NotThisMessage()


def menu_record(message: Message) -> TelegramHandle:
    return TelegramHandle(menus=frozenset({message.message_id}))
