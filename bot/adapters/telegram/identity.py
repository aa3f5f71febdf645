"""Who is asking and where, from a Telegram update: core requesters and scopes."""

from __future__ import annotations

from telegram import Chat, Message, Update
from telegram.constants import ChatType

from bot.core.models import Requester, Scope

ANONYMOUS_ADMIN_ID = 1087968824  # "GroupAnonymousBot": stands for any anonymous group admin
ADMIN_STATUSES = {"administrator", "creator"}


def scope_of(update: Update) -> Scope:
    chat = update.effective_chat
    assert chat is not None
    return chat_scope(chat)


def chat_scope(chat: Chat) -> Scope:
    if chat.type == ChatType.PRIVATE:
        return Scope.direct("telegram", str(chat.id))
    return Scope(platform="telegram", id=str(chat.id))


def requester_of(update: Update) -> Requester:
    """Who asks. A message sent as a chat (an anonymous group admin arrives as user 1087968824
    in every group, someone posting as a channel as the channel bot) is keyed on that chat:
    its quotas, personal style and history are its own, never shared across groups. Button
    presses always carry the real person pressing."""
    message = update.effective_message
    if update.callback_query is None and message is not None and message.sender_chat is not None:
        chat = message.sender_chat
        name = chat.title or chat.username or "anonymous"
        return Requester(platform="telegram", user_id=str(chat.id), display_name=name)
    user = update.effective_user
    assert user is not None
    return Requester(
        platform="telegram",
        user_id=str(user.id),
        display_name=user.full_name,
        language=user.language_code,  # the person's app language, when Telegram sends it
    )


def sender_of(message: Message) -> Requester | None:
    """Who sent `message` (a chat posting as itself, as in `requester_of`), None for nobody."""
    if message.sender_chat is not None:
        chat = message.sender_chat
        name = chat.title or chat.username or "anonymous"
        return Requester(platform="telegram", user_id=str(chat.id), display_name=name)
    user = message.from_user
    if user is None:
        return None
    return Requester(
        platform="telegram",
        user_id=str(user.id),
        display_name=user.full_name,
        language=user.language_code,
    )
