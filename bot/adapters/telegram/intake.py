"""A request's way in on Telegram: acknowledge first, then queue, and keep the reply current.

/imagine, /describe and every button that makes something (reroll, restyle, U, V, remix,
"Imagine this") end here. A request with a picture the user sent is acknowledged before the
picture is downloaded (`submit_after`): the acknowledgement stays fast whatever the file. The acknowledgement is a status reply
to the command, or, in a busy group, a line on the group's board (bot/adapters/telegram/
board.py). What later edits need (the status message id) goes into the delivery handle.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Message
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.adapters.telegram.answers import Answers, Refused
from bot.adapters.telegram.board import GroupBoards
from bot.adapters.telegram.chat_rights import ChatRights
from bot.adapters.telegram.delivery_handle import TelegramHandle
from bot.adapters.telegram.identity import chat_scope, sender_of
from bot.adapters.telegram.render import error_words, queued_text, say
from bot.adapters.telegram.status import StatusEditor
from bot.core.errors import UserFacingError
from bot.core.language import ENGLISH, Text
from bot.core.models import ReplyTarget, Requester, Scope
from bot.core.requests.service import GenerationService, PreparedRequest

log = logging.getLogger(__name__)

Who = tuple[Requester, Scope]  # who asks, and where (the board's language is the scope's)

QUEUED = Text("⏳ Queued…")
NO_PHOTO_RIGHTS = Text(
    "I can't post pictures in this chat: its permissions don't let me send photos. "
    "An admin can allow photos for me (or make me an admin). Nothing was queued or counted."
)


def topic_of(message: Message) -> int | None:
    """The forum topic a message is in (None: not a forum, or its General topic)."""
    return message.message_thread_id if message.is_topic_message else None


class Intake:
    def __init__(
        self,
        service: GenerationService,
        boards: GroupBoards,
        status: StatusEditor,
        answers: Answers,
        rights: ChatRights,
    ) -> None:
        self.rights = rights
        self.service = service
        self.boards = boards
        self.status = status
        self.answers = answers

    async def acknowledge(self, anchor: Message, who: Who, prompt: str, locale: str) -> int | None:
        """A status reply to the command (its message id) in the requester's `locale`, or, in
        a busy group, a line on the board of its chat and topic (None), in the community's
        language. A board that cannot be sent (its topic closed, the budget gone) never drops
        the request: it is acknowledged with a reply instead."""
        chat_id = anchor.chat_id
        if self.boards.busy(chat_id):
            community = await self.service.community_locale(*who)
            name = who[0].display_name
            try:
                await self.boards.fold(
                    chat_id, anchor.message_id, name, prompt, topic_of(anchor), community
                )
            except TelegramError as exc:
                log.info("chat %s: board not sent (%s); acknowledging with a reply", chat_id, exc)
            else:
                self.service.acknowledgements.paid()
                return None
        # Owed from now: requests acknowledged at the same moment must count each other.
        self.boards.owe(chat_id, anchor.message_id)
        queued = say(QUEUED, locale)
        try:
            status = await anchor.reply_text(queued, parse_mode=ParseMode.HTML, do_quote=True)
        except BaseException:
            self.boards.settle(chat_id, anchor.message_id)
            raise
        self.status.track(chat_id, status.message_id, queued)
        self.service.acknowledgements.paid()  # results waiting for the loop may go now
        return status.message_id

    async def may_post_pictures(self, anchor: Message) -> None:
        """Refuse, before anything is acknowledged, queued or paid, a picture the chat's
        permissions would refuse."""
        if not await self.rights.may_send_photos(anchor.chat_id):
            raise Refused(NO_PHOTO_RIGHTS)

    async def submit(self, anchor: Message, prepared: PreparedRequest) -> None:
        """Acknowledge first (a status reply, or a line on a busy group's board), then queue;
        keep the reply current."""
        await self.may_post_pictures(anchor)
        who = (prepared.requester, prepared.scope)
        status_id = await self.acknowledge(anchor, who, prepared.command.prompt, prepared.locale)

        async def ready() -> PreparedRequest:
            return prepared

        await self._queue(anchor, status_id, ready)

    async def submit_after(
        self,
        anchor: Message,
        who: Who,
        prompt: str,
        prepare: Callable[[], Awaitable[PreparedRequest]],
        *,
        locale: str,
        makes_picture: bool = True,
    ) -> None:
        """Acknowledge (in the requester's `locale`), then `prepare` (download the picture,
        check and clean it), then queue; a refusal from `prepare` replaces the
        acknowledgement. A request that answers in words (a /describe) does not need the
        right to send photos."""
        if makes_picture:
            await self.may_post_pictures(anchor)
        status_id = await self.acknowledge(anchor, who, prompt, locale)
        await self._queue(anchor, status_id, prepare, with_picture=True)

    async def _queue(
        self,
        anchor: Message,
        status_id: int | None,
        prepare: Callable[[], Awaitable[PreparedRequest]],
        *,
        with_picture: bool = False,
    ) -> None:
        target = ReplyTarget(
            platform="telegram",
            chat_id=str(anchor.chat_id),
            # A Telegram chat has no age-restricted mark the Bot API shows: the chat's
            # admins decide alone, with /settings nsfw.
            nsfw_ok=True,
            thread_id=str(topic_of(anchor)) if topic_of(anchor) is not None else None,
            reply_to_message_id=str(anchor.message_id),
            handle=TelegramHandle()
            if status_id is None
            else TelegramHandle(status_message_id=status_id),
        )
        prepared: PreparedRequest | None = None
        try:
            if with_picture:
                # A few pictures at a time: each holds megabytes until its job is queued.
                async with self.service.picture_slot():
                    prepared = await prepare()
                    ticket = await self.service.submit(prepared, target)
            else:
                prepared = await prepare()
                ticket = await self.service.submit(prepared, target)
        except UserFacingError as exc:
            self.boards.settle(anchor.chat_id, anchor.message_id, topic_of(anchor))
            words = error_words(exc.text, await self._locale(anchor, prepared))
            if status_id is None:
                await self.answers.reply(anchor, words)
            else:
                await self.status.show_now(anchor.chat_id, status_id, words)
            return
        if ticket.position > 1 and status_id is not None:
            await self.status.show(
                anchor.chat_id, status_id, queued_text(ticket.position, prepared.locale)
            )

    async def _locale(self, anchor: Message, prepared: PreparedRequest | None) -> str:
        """The language a refusal of the request `anchor` asked for is written in: the
        request's own, else its sender's here (a refusal before the request was prepared)."""
        if prepared is not None:
            return prepared.locale
        sender = sender_of(anchor)
        if sender is None:
            return ENGLISH
        return await self.service.locale(sender, chat_scope(anchor.chat))
