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
from bot.adapters.telegram.render import say, say_plain
from bot.core.language import Duration, Text
from bot.web.access import GalleryAccess

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
NOT_SET_UP = Text(
    "This bot has no web gallery (its operator can set one up with PUBLIC_URL and WEB_PORT)."
)
OFF = Text("The gallery is switched off here; an admin can switch it on again.")
REVOKED = Text(
    "Every gallery link and session of this chat so far is closed. /gallery posts a new link."
)


def button(link: str, locale: str) -> InlineKeyboardMarkup:
    label = say_plain(Text("Open the gallery"), locale)
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, url=link)]])


class GalleryCommand:
    def __init__(
        self,
        gallery: GalleryAccess | None,
        *,
        is_admin: Callable[[Update, Context], Awaitable[bool]],
        reply: Callable[..., Awaitable[Message]],
        refuse: Callable[[Update, str, str], Awaitable[None]],
        reader: Callable[[Update], Awaitable[str]],
        community: Callable[[Update], Awaitable[str]],
    ) -> None:
        self.reader = reader
        self.community = community
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
        locale = await self.reader(update)
        if self.gallery is None:
            await self.reply(message, say(NOT_SET_UP, locale))
            return
        choice = " ".join(context.args or []).strip().lower()
        if choice:
            await self.switch(update, context, message, choice, locale)
            return
        scope = scope_of(update)
        private = message.chat.type == ChatType.PRIVATE
        user = update.effective_user
        link = await self.history_link(update)
        if link is None:
            await self.reply(message, say(OFF, locale))
            return
        valid = Duration(self.gallery.hours * 3600)
        # A group's link is everyone's: in the community's language; the admin's own in theirs.
        shown_in = locale if private else await self.community(update)
        if private:
            text = Text(
                "Your pictures from this chat, on the web. The link works for {wait}; keep it "
                "to yourself.",
                wait=valid,
            )
        else:
            text = Text("This group's pictures, on the web. The link works for {wait}.", wait=valid)
        await self.reply(message, say(text, shown_in), reply_markup=button(link, shown_in))
        if not private and user is not None and user.id != ANONYMOUS_ADMIN_ID:
            if message.sender_chat is None and await self.is_admin(update, context):
                await self.send_admin_link(context, scope.id, user.id, locale)

    async def send_admin_link(
        self, context: Context, scope_id: str, user_id: int, locale: str
    ) -> None:
        """The admin's own link, in their language (they asked for it: the asker's locale)."""
        assert self.gallery is not None
        link = await self.gallery.link("telegram", scope_id, user_id=str(user_id), admin=True)
        if link is None:
            return
        text = Text(
            "Your admin link to the group's gallery: it can hide pictures from members. "
            "It works for {wait}; do not share it.",
            wait=Duration(self.gallery.hours * 3600),
        )
        try:
            await context.bot.send_message(
                user_id, say(text, locale), reply_markup=button(link, locale)
            )
        except TelegramError as exc:  # they never started the bot: the group link is enough
            log.info("no private admin gallery link for %s: %s", user_id, exc.__class__.__name__)

    async def switch(
        self, update: Update, context: Context, message: Message, choice: str, locale: str
    ) -> None:
        assert self.gallery is not None
        if choice not in ("on", "off", "revoke"):
            usage = Text("Usage: /gallery, or /gallery on, off or revoke (admins)")
            await self.refuse(update, say(usage, locale), locale)
            return
        if not await self.is_admin(update, context):
            admins = Text("Only this chat's admins can switch its gallery or revoke its links.")
            await self.refuse(update, say(admins, locale), locale)
            return
        scope_id = scope_of(update).id
        if choice == "revoke":
            # A leaked link (an admin's among them) is dead at once, not in 7 days.
            await self.gallery.revoke("telegram", scope_id)
            await self.reply(message, say(REVOKED, locale))
            return
        await self.gallery.set_enabled("telegram", scope_id, choice == "on")
        answer = (
            Text("The gallery is on here: /gallery posts a link to it.")
            if choice == "on"
            else Text(
                "The gallery is off here: links to it no longer open, and switched on again, "
                "only new ones will."
            )
        )
        await self.reply(message, say(answer, locale))
