"""`/gallery`: a link to the chat's web gallery; `/gallery on|off|revoke` for the chat's admins.

In a group the link is posted for everyone, so it carries no one's identity: it opens the
group's pictures to look at. An admin who asks also gets, in a private message (when they
have started the bot), a personal link that can hide pictures. In a private chat the link is
the user's own: their pictures from that chat, which they may delete.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.adapters.telegram.identity import ANONYMOUS_ADMIN_ID, scope_of
from bot.web.access import OFF, GalleryAccess, hours_text

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
NOT_SET_UP = (
    "This bot has no web gallery (its operator can set one up with PUBLIC_URL and WEB_PORT)."
)


REVOKED = "Every gallery link and session of this chat so far is closed. /gallery posts a new link."


def button(link: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Open the gallery", url=link)]])


class GalleryCommand:
    def __init__(
        self,
        gallery: GalleryAccess | None,
        *,
        is_admin: Callable[[Update, Context], Awaitable[bool]],
        reply: Callable[..., Awaitable[Message]],
        refuse: Callable[[Update, str], Awaitable[None]],
    ) -> None:
        self.gallery = gallery
        self.is_admin = is_admin
        self.reply = reply
        self.refuse = refuse

    async def history_link(self, update: Update) -> str | None:
        """The link everyone may see (/gallery's and /history's): the group's gallery in a
        group, the user's own in a private chat; None without a gallery or with it off."""
        message = update.effective_message
        if self.gallery is None or message is None:
            return None
        private = message.chat.type == ChatType.PRIVATE
        user = update.effective_user
        return await self.gallery.link(
            "telegram",
            scope_of(update).id,
            user_id=str(user.id) if private and user is not None else None,
            admin=False,
        )

    async def __call__(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        if self.gallery is None:
            await self.reply(message, NOT_SET_UP)
            return
        choice = " ".join(context.args or []).strip().lower()
        if choice:
            await self.switch(update, context, message, choice)
            return
        scope = scope_of(update)
        private = message.chat.type == ChatType.PRIVATE
        user = update.effective_user
        link = await self.history_link(update)
        if link is None:
            await self.reply(message, OFF)
            return
        valid = hours_text(self.gallery.hours)
        if private:
            text = f"Your pictures from this chat, on the web. The link works for {valid}; keep it to yourself."
        else:
            text = f"This group's pictures, on the web. The link works for {valid}."
        await self.reply(message, text, reply_markup=button(link))
        if not private and user is not None and user.id != ANONYMOUS_ADMIN_ID:
            if message.sender_chat is None and await self.is_admin(update, context):
                await self.send_admin_link(context, scope.id, user.id)

    async def send_admin_link(self, context: Context, scope_id: str, user_id: int) -> None:
        assert self.gallery is not None
        link = await self.gallery.link("telegram", scope_id, user_id=str(user_id), admin=True)
        if link is None:
            return
        try:
            await context.bot.send_message(
                user_id,
                "Your admin link to the group's gallery: it can hide pictures from members. "
                f"It works for {hours_text(self.gallery.hours)}; do not share it.",
                reply_markup=button(link),
            )
        except TelegramError as exc:  # they never started the bot: the group link is enough
            log.info("no private admin gallery link for %s: %s", user_id, exc.__class__.__name__)

    async def switch(self, update: Update, context: Context, message: Message, choice: str) -> None:
        assert self.gallery is not None
        if choice not in ("on", "off", "revoke"):
            await self.refuse(update, "Usage: /gallery, or /gallery on, off or revoke (admins)")
            return
        if not await self.is_admin(update, context):
            await self.refuse(
                update, "Only this chat's admins can switch its gallery or revoke its links."
            )
            return
        scope_id = scope_of(update).id
        if choice == "revoke":
            # A leaked link (an admin's among them) is dead at once, not in 7 days.
            await self.gallery.revoke("telegram", scope_id)
            await self.reply(message, REVOKED)
            return
        await self.gallery.set_enabled("telegram", scope_id, choice == "on")
        await self.reply(
            message,
            "The gallery is on here: /gallery posts a link to it."
            if choice == "on"
            else "The gallery is off here: links to it no longer open, "
            "and switched on again, only new ones will.",
        )
