"""Whether the bot may post a picture in a chat, known before a provider is paid.

Group permissions bind a bot that is not an admin: with `can_send_photos` off (the group's
default permissions, or the bot's own restriction) `sendPhoto` answers 400 "not enough rights
to send photos to the chat". So before a request that makes a picture is queued, the bot reads
its own membership (`getChatMember`) and the chat's permissions (`getChat`), keeps the answer
for a while, and forgets it whenever Telegram says a membership changed (`my_chat_member`,
`chat_member`). Neither read counts against the flood limits. When Telegram cannot be asked,
the request goes ahead: the delivery then says what went wrong.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from telegram import Bot, ChatMemberRestricted
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

log = logging.getLogger(__name__)

RIGHTS_SECONDS = 600.0  # a change of the group's default permissions sends no update
MAX_CHATS = 10_000
ADMINS = {ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}
GONE = {ChatMemberStatus.BANNED, ChatMemberStatus.LEFT}


class ChatRights:
    def __init__(
        self,
        bot: Bot,
        *,
        ttl: float = RIGHTS_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bot = bot
        self._ttl = ttl
        self._clock = clock
        self._photos: dict[int, tuple[bool, float]] = {}  # chat -> (may send photos, read at)

    async def may_send_photos(self, chat_id: int) -> bool:
        if chat_id > 0:
            return True  # a private chat: no permissions to lose
        known = self._photos.get(chat_id)
        if known is not None and self._clock() - known[1] < self._ttl:
            return known[0]
        try:
            allowed = await self._read(chat_id)
        except (TelegramError, TypeError, ValueError, KeyError) as exc:
            # Not knowing never drops a request: the delivery will say what went wrong.
            log.info("chat %s: permissions not read (%r); going ahead", chat_id, exc)
            return True
        if len(self._photos) >= MAX_CHATS:
            self._photos.clear()
        self._photos[chat_id] = (allowed, self._clock())
        return allowed

    async def _read(self, chat_id: int) -> bool:
        member = await self._bot.get_chat_member(chat_id, self._bot.id)
        if member.status in ADMINS:
            return True  # admins are not bound by the group's permissions
        if member.status in GONE:
            return False
        if isinstance(member, ChatMemberRestricted) and not member.can_send_photos:
            return False
        chat = await self._bot.get_chat(chat_id)
        permissions = chat.permissions
        return permissions is None or permissions.can_send_photos is not False

    def forget(self, chat_id: int) -> None:
        """Telegram said a membership changed here: read again next time."""
        self._photos.pop(chat_id, None)
