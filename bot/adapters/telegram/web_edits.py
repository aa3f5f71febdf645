"""The brush editor on Telegram: the 🖌 button under a picture, and the desk its edits come to.

The button is a link, not a callback (docs/editing.md): Telegram opens it itself.

- In a private chat, a `web_app` button (a Mini App): Telegram opens the editor with
  `initData` it signed, so the person submitting is checked (bot/web/webapp_data.py). Mini
  Apps need HTTPS: with an `http://` PUBLIC_URL the button is a plain URL button instead.
- In a group, `web_app` buttons are refused (BUTTON_TYPE_INVALID): with a Mini App registered
  in BotFather (TELEGRAM_WEBAPP_NAME), a `t.me/<bot>/<app>?startapp=` direct link, which
  opens the editor inside Telegram with `initData` too; otherwise a URL button to a signed
  editor link naming the requester (whoever opens it edits as them, once).

The link is made with the picture, names it and its requester, expires after
EDITOR_LINK_HOURS and works once. An edit submitted in the editor comes to `TelegramEditDesk`:
the person must be the requester or an admin of the chat; the edit is prepared by the core,
the link's use stored, a status reply posted under the picture, and the request submitted
like any other, so its result replaces that reply, with its own buttons.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, ReplyParameters, WebAppInfo
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ExtBot

from bot.adapters.telegram.chat_rights import ChatRights
from bot.adapters.telegram.delivery_handle import TelegramHandle
from bot.adapters.telegram.flood import Spend
from bot.adapters.telegram.identity import ADMIN_STATUSES
from bot.adapters.telegram.intake import NO_PHOTO_RIGHTS, QUEUED
from bot.adapters.telegram.pressed import result_message_id
from bot.adapters.telegram.render import error_words, say, say_plain
from bot.adapters.telegram.result_buttons import label
from bot.adapters.telegram.status import StatusEditor
from bot.core.errors import UserFacingError
from bot.core.language import Text
from bot.core.models import EditRequest, Generation, Kind, ReplyTarget, Requester, Scope
from bot.core.requests.buttons import VaryRegion
from bot.core.requests.service import GenerationService, PreparedRequest
from bot.web.edit_orders import USED, EditOrder, EditRefused
from bot.web.links import EditorLinks

log = logging.getLogger(__name__)

QUEUED_FROM_EDITOR = Text(
    "Queued. The new picture will be posted in the chat as a reply to this one, "
    "with its own buttons."
)


def _topic(generation: Generation) -> int | None:
    thread = generation.thread_id
    return int(thread) if thread and thread.lstrip("-").isdigit() else None


class BrushButtons:
    """The 🖌 button for a delivered picture, or None where the editor is not offered."""

    def __init__(self, links: EditorLinks, username: Callable[[], str | None]) -> None:
        self.links = links
        self._username = username

    def __call__(self, generation: Generation) -> InlineKeyboardButton | None:
        if generation.kind is Kind.DESCRIBE or not VaryRegion.offered(generation):
            return None
        text = label(VaryRegion, VaryRegion.telegram_emoji, generation.locale)
        private = generation.scope_id.startswith("dm:")
        https = self.links.public_url.startswith("https://")
        app = https and (private or self.links.webapp_name is not None)
        link = self.links.make(
            "telegram", generation.scope_id, generation.id, user_id=generation.user_id, webapp=app
        )
        if app and private:
            return InlineKeyboardButton(text, web_app=WebAppInfo(self.links.url(link)))
        username = self._username()
        direct = self.links.start_app_url(username, link) if app and username else None
        if direct is not None:
            return InlineKeyboardButton(text, url=direct)
        if app:  # no username known (yet), or too long: a plain link, which checks no one
            link = self.links.make(
                "telegram", generation.scope_id, generation.id, user_id=generation.user_id
            )
        return InlineKeyboardButton(text, url=self.links.url(link))


class TelegramEditDesk:
    def __init__(
        self,
        service: GenerationService,
        bot: ExtBot[Spend],
        status: StatusEditor,
        rights: ChatRights,
    ) -> None:
        self.service = service
        self.bot = bot
        self.status = status
        self.rights = rights

    async def _is_admin(self, chat_id: int, user_id: str) -> bool:
        if chat_id > 0:
            return False  # a private chat: only its own person
        try:
            member = await self.bot.get_chat_member(chat_id, int(user_id))
        except (TelegramError, ValueError):
            return False
        return member.status in ADMIN_STATUSES

    async def submit(self, order: EditOrder, claim: Callable[[], Awaitable[bool]]) -> str:
        link = order.link
        scope = Scope(platform="telegram", id=link.scope_id)
        asking = Requester(platform="telegram", user_id=order.user_id, display_name=order.name)
        # The picture, if it was made in this chat (the platform and scope are checked).
        original = await self.service.generation_for(link.generation_id, asking, scope)
        if not asking.display_name:
            name = original.user_name if original.user_id == order.user_id else order.user_id
            asking = asking.model_copy(update={"display_name": name})
        chat_id = int(original.chat_id)
        moderator = order.user_id != original.user_id and await self._is_admin(
            chat_id, order.user_id
        )
        prepared = await self.service.prepare_edit(
            link.generation_id,
            order.index,
            EditRequest(action="region"),
            asking,
            scope,
            mask=order.mask,
            prompt=order.prompt,
            moderator=moderator,
        )
        if not await self.rights.may_send_photos(chat_id):
            raise EditRefused(say_plain(NO_PHOTO_RIGHTS, prepared.locale))
        if not await claim():
            raise EditRefused(USED)
        await self._queue(original, chat_id, prepared)
        return say_plain(QUEUED_FROM_EDITOR, prepared.locale)

    async def _queue(self, original: Generation, chat_id: int, prepared: PreparedRequest) -> None:
        """A status reply under the picture (the result replaces it), then the request."""
        anchor = result_message_id(original)
        reply = (
            ReplyParameters(message_id=anchor, allow_sending_without_reply=True)
            if anchor is not None
            else None
        )
        queued = say(QUEUED, prepared.locale)
        try:
            status = await self.bot.send_message(
                chat_id,
                queued,
                parse_mode=ParseMode.HTML,
                reply_parameters=reply,
                message_thread_id=_topic(original),
            )
        except TelegramError as exc:
            log.info("generation %s: the edit's status reply was refused: %s", original.id, exc)
            refused = Text("Telegram refused my message in that chat, so nothing was queued.")
            raise EditRefused(say_plain(refused, prepared.locale)) from None
        self.status.track(chat_id, status.message_id, queued)
        target = ReplyTarget(
            platform="telegram",
            chat_id=str(chat_id),
            nsfw_ok=True,  # as every Telegram request: the chat's admins decide (/settings nsfw)
            thread_id=original.thread_id,
            reply_to_message_id=str(anchor) if anchor is not None else None,
            handle=TelegramHandle(status_message_id=status.message_id),
        )
        try:
            await self.service.submit(prepared, target)
        except UserFacingError as exc:
            await self.status.show_now(
                chat_id, status.message_id, error_words(exc.text, prepared.locale)
            )
            raise
