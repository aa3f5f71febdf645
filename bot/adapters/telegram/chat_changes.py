"""Chats that change under the bot: a basic group upgraded to a supergroup (a new chat id),
and the bot's own membership (`my_chat_member`): restricted, removed, or blocked.

Telegram upgrades a basic group when it grows (about 200 members) or turns on visible
history: the old chat gets a service message with `migrate_to_chat_id`, the new one with
`migrate_from_chat_id`, and every later call to the old id answers 400 with
`migrate_to_chat_id` (python-telegram-bot raises `ChatMigrated`). Either way the core moves
the chat's records to the new id in one transaction (`GenerationService.move_chat`; a second
move is a no-op, so both service messages, and several bot processes, may ask), and a call
that met `ChatMigrated` is made again at the new id. Message ids of the old chat mean nothing
in the new one: a moved request's picture is a new message there, replying to nothing.

When the bot is removed from a group (kicked, or it left) or blocked in a private chat, the
chat's waiting requests are cancelled (`GenerationService.cancel_scope`): no provider is paid
for a picture nobody can receive, and each row says why. History and settings stay. Any
membership change makes the bot read the chat's permissions again (chat_rights.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.constants import ChatType
from telegram.error import ChatMigrated
from telegram.ext import Application, ChatMemberHandler, MessageHandler, filters

from bot.adapters.telegram.answers import Context
from bot.adapters.telegram.chat_rights import GONE, ChatRights
from bot.adapters.telegram.delivery_handle import STATUS_MESSAGE
from bot.adapters.telegram.identity import requester_of, scope_of
from bot.adapters.telegram.render import say_plain
from bot.core.errors import english, failure_words
from bot.core.language import ENGLISH, Text
from bot.core.models import MOVED_FROM_CHAT, Generation, Requester, Scope

log = logging.getLogger(__name__)

MoveChat = Callable[[str, str, str], Awaitable[object]]  # (platform, old, new)
CancelScope = Callable[[Scope, str], Awaitable[int]]
LocaleOf = Callable[[Requester, Scope], Awaitable[str]]

SEND_AGAIN = Text(
    "This group was just upgraded to a supergroup, and your command reached me under its old "
    "id: nothing was made or counted. Please send it again."
)
REMOVED_FROM_GROUP = Text(
    "The bot was removed from this chat before the picture was made; nothing more was spent."
)
BLOCKED = Text("You blocked the bot before the picture was made; nothing more was spent.")
# A cancelled request's reason, read back in its requester's language (bot/core/errors.py).
failure_words(REMOVED_FROM_GROUP, BLOCKED)


class Membership:
    """The bot's own membership changed (`my_chat_member`), or someone's (`chat_member`)."""

    def __init__(self, cancel_scope: CancelScope, rights: ChatRights) -> None:
        self._cancel_scope = cancel_scope
        self._rights = rights

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        application.add_handler(
            ChatMemberHandler(self.on_bot_member, ChatMemberHandler.MY_CHAT_MEMBER)
        )
        application.add_handler(ChatMemberHandler(self.on_member, ChatMemberHandler.CHAT_MEMBER))

    async def on_bot_member(self, update: Update, _context: Context) -> None:
        change = update.my_chat_member
        if change is None:
            return
        self._rights.forget(change.chat.id)
        if change.new_chat_member.status not in GONE:
            return
        private = change.chat.type == ChatType.PRIVATE
        log.info("removed from chat %s (%s)", change.chat.id, change.new_chat_member.status)
        reason = english(BLOCKED if private else REMOVED_FROM_GROUP)
        await self._cancel_scope(scope_of(update), reason)

    async def on_member(self, update: Update, _context: Context) -> None:
        if update.chat_member is not None:
            self._rights.forget(update.chat_member.chat.id)


class ChatMoves:
    def __init__(self, move_chat: MoveChat, locale: LocaleOf | None = None) -> None:
        self._move_chat = move_chat
        self._locale = locale  # who asked reads the "send it again" in their language

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self.on_service))

    async def on_error(self, update: object, context: Context) -> None:
        """A command that reached the bot under the old id (sent before the upgrade, read
        after it) met `ChatMigrated` when answered: the chat moves, and the person is told
        at the new id to send it again, rather than hearing nothing."""
        error = context.error
        if not isinstance(error, ChatMigrated) or not isinstance(update, Update):
            return
        message = update.effective_message
        if message is None:
            return
        await self.moved(message.chat_id, error.new_chat_id)
        locale = ENGLISH
        if self._locale is not None and update.effective_user is not None:
            scope = Scope(platform="telegram", id=str(error.new_chat_id))
            locale = await self._locale(requester_of(update), scope)
        await context.bot.send_message(error.new_chat_id, say_plain(SEND_AGAIN, locale))

    async def on_service(self, update: Update, _context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        if message.migrate_to_chat_id:
            await self.moved(message.chat_id, message.migrate_to_chat_id)
        elif message.migrate_from_chat_id:
            await self.moved(message.migrate_from_chat_id, message.chat_id)

    async def moved(self, old_chat: int, new_chat: int) -> None:
        await self._move_chat("telegram", str(old_chat), str(new_chat))

    async def follow(self, generation: Generation, new_chat: int) -> Generation:
        """The request as it is after its chat moved (a call to the old id met ChatMigrated)."""
        old_chat = generation.chat_id
        log.info("generation %s: chat %s is now %s", generation.id, old_chat, new_chat)
        await self.moved(int(old_chat), new_chat)
        scope_id = str(new_chat) if generation.scope_id == old_chat else generation.scope_id
        handle = {**generation.handle, STATUS_MESSAGE: None, MOVED_FROM_CHAT: old_chat}
        return generation.model_copy(
            update={"chat_id": str(new_chat), "scope_id": scope_id, "handle": handle}
        )


def moved_request(generation: Generation) -> bool:
    """The request's chat moved after it was acknowledged: its message ids are the old chat's."""
    return bool(generation.policy.moved_from_chat)
