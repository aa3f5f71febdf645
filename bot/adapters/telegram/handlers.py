"""Telegram commands and button presses, turned into core calls."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.adapters.telegram.buttons import Buttons
from bot.adapters.telegram.gallery import GalleryCommand
from bot.adapters.telegram.identity import (
    ADMIN_STATUSES,
    ANONYMOUS_ADMIN_ID,
    requester_of,
    scope_of,
)
from bot.adapters.telegram.images import read_existing
from bot.adapters.telegram.parsing import ParseError, parse_imagine, strip_command
from bot.adapters.telegram.render import (
    HELP,
    caption,
    error_text,
    escape,
    queued_text,
    style_keyboard,
    styles_text,
)
from bot.core.errors import UserFacingError
from bot.core.models import HandleValue, ImagineCommand, ReplyTarget
from bot.core.service import PreparedRequest

if TYPE_CHECKING:
    from bot.adapters.telegram.adapter import TelegramAdapter

log = logging.getLogger(__name__)

QUEUED = "⏳ Queued…"
Context = ContextTypes.DEFAULT_TYPE


class Handlers:
    def __init__(self, adapter: TelegramAdapter) -> None:
        self.adapter = adapter
        self.service = adapter.app.service

    # -- helpers --------------------------------------------------------------------------------

    async def reply(self, message: Message, text: str, **kwargs: object) -> Message:
        return await message.reply_text(text, parse_mode=ParseMode.HTML, do_quote=True, **kwargs)  # type: ignore[arg-type]

    async def refuse(self, update: Update, text: str) -> None:
        """Answer a refused command; in a group, only the first per person per quiet period."""
        message = update.effective_message
        assert message is not None
        if message.chat.type != ChatType.PRIVATE:
            gate = self.adapter.refusals
            who = requester_of(update).user_id
            if not gate.allow(message.chat_id, who):
                log.info("chat %s: kept a refusal to %s quiet", message.chat_id, who)
                return
            if len(text) < 3900:  # the note must never push a reply past 4096 characters
                text = f"{text}\n{gate.note}"
        await self.reply(message, text)

    async def is_admin(self, update: Update, context: Context) -> bool:
        """Chat admins only, checked by us: Telegram does not restrict who sends a command."""
        chat, message = update.effective_chat, update.effective_message
        assert chat is not None
        if chat.type == ChatType.PRIVATE:
            return True  # everyone administers their own private chat
        if (
            update.callback_query is None
            and message is not None
            and message.sender_chat is not None
        ):
            # An anonymous admin writes as the group itself; that proves admin of this group only.
            return message.sender_chat.id == chat.id
        user = update.effective_user
        if user is None or user.id == ANONYMOUS_ADMIN_ID:
            return False
        member = await context.bot.get_chat_member(chat.id, user.id)
        return member.status in ADMIN_STATUSES

    # -- /imagine -------------------------------------------------------------------------------

    async def imagine(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        try:
            parsed = parse_imagine(strip_command(message.text))
        except ParseError as exc:
            await self.refuse(update, escape(exc.message))
            return
        command = ImagineCommand(
            prompt=parsed.prompt,
            style=parsed.style,
            aspect=parsed.aspect,
            negative_prompt=parsed.negative_prompt,
            seed=parsed.seed,
        )
        try:
            prepared = await self.service.prepare(requester_of(update), scope_of(update), command)
        except UserFacingError as exc:
            await self.refuse(update, error_text(exc.message))
            return
        await self.submit(message, prepared)

    async def submit(self, anchor: Message, prepared: PreparedRequest) -> None:
        """Acknowledge first (a status reply, or a line on a busy group's board), then queue;
        keep the reply current."""
        status_id = await self.adapter.acknowledge(
            anchor, prepared.requester.display_name, prepared.command.prompt
        )
        handle: dict[str, HandleValue] = {"nsfw_ok": True}
        if status_id is not None:
            handle["status_message_id"] = status_id
        target = ReplyTarget(
            platform="telegram",
            chat_id=str(anchor.chat_id),
            thread_id=str(anchor.message_thread_id) if anchor.is_topic_message else None,
            reply_to_message_id=str(anchor.message_id),
            handle=handle,
        )
        try:
            ticket = await self.service.submit(prepared, target)
        except UserFacingError as exc:
            if status_id is None:
                self.adapter.boards.settle(anchor.chat_id, anchor.message_id)
                await self.reply(anchor, error_text(exc.message))
            else:
                await self.adapter.status.show_now(
                    anchor.chat_id, status_id, error_text(exc.message)
                )
            return
        if ticket.position > 1 and status_id is not None:
            await self.adapter.status.show(anchor.chat_id, status_id, queued_text(ticket.position))

    # -- styles and settings --------------------------------------------------------------------

    async def styles(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        scope = scope_of(update)
        allowed = await self.service.allowed_styles(scope)
        settings = await self.service.scope_settings(scope)
        mine = await self.service.user_style(requester_of(update))
        await self.reply(
            message,
            styles_text(allowed, settings.default_style, mine),
            reply_markup=style_keyboard(allowed, "ib:d:"),
        )

    async def mystyle(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        text = " ".join(context.args or [])
        try:
            style = await self.service.set_user_style(requester_of(update), text or None)
        except UserFacingError as exc:
            await self.refuse(update, error_text(exc.message))
            return
        answer = (
            f"Your default style is now {escape(style.label)}."
            if style
            else "Your default style is cleared."
        )
        await self.reply(message, answer)

    async def setstyle(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        if not await self.is_admin(update, context):
            await self.refuse(update, "Only this chat's admins can change its settings.")
            return
        text = " ".join(context.args or [])
        if not text:
            styles = await self.service.allowed_styles(scope_of(update))
            await self.reply(
                message,
                "Pick this chat's default style:",
                reply_markup=style_keyboard(styles, "ib:A:"),
            )
            return
        try:
            style = await self.service.set_scope_default(
                scope_of(update), text if text and text != "none" else None
            )
        except UserFacingError as exc:
            await self.refuse(update, error_text(exc.message))
            return
        answer = (
            f"This chat's default style is now {escape(style.label)}."
            if style
            else "This chat's default style is cleared."
        )
        await self.reply(message, answer)

    async def allowstyles(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        if not await self.is_admin(update, context):
            await self.refuse(update, "Only this chat's admins can change its settings.")
            return
        text = " ".join(context.args or []).strip()
        if not text:
            await self.refuse(
                update, "Usage: /allowstyles anime,photo,sketch (or /allowstyles all)"
            )
            return
        names = None if text.lower() == "all" else [p.strip() for p in text.split(",") if p.strip()]
        try:
            styles = await self.service.set_allowed_styles(scope_of(update), names)
        except UserFacingError as exc:
            await self.refuse(update, error_text(exc.message))
            return
        listed = ", ".join(escape(s.label) for s in styles) if styles else "every style"
        await self.reply(message, f"Allowed here: {listed}.")

    async def setlimits(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        if not await self.is_admin(update, context):
            await self.refuse(update, "Only this chat's admins can change its settings.")
            return
        args = context.args or []
        if not 1 <= len(args) <= 2 or not all(a.isdigit() for a in args):
            await self.refuse(
                update,
                "Usage: /setlimits &lt;pictures per user per day&gt; [pictures for this chat per day]",
            )
            return
        per_user = int(args[0])
        per_chat = int(args[1]) if len(args) > 1 else None
        try:
            user_limit, chat_limit = await self.service.set_scope_limits(
                scope_of(update), per_user=per_user, per_scope=per_chat
            )
        except UserFacingError as exc:
            await self.refuse(update, error_text(exc.message))
            return
        await self.reply(
            message,
            f"Daily limits here: {user_limit} per user, {chat_limit or 'no limit'} for the chat.",
        )

    async def nsfw(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        if not await self.is_admin(update, context):
            await self.refuse(update, "Only this chat's admins can change its settings.")
            return
        choice = " ".join(context.args or []).strip().lower()
        if choice not in ("on", "off"):
            await self.refuse(update, "Usage: /nsfw on or /nsfw off")
            return
        await self.service.set_scope_nsfw(scope_of(update), choice == "on")
        await self.reply(
            message, "NSFW pictures are now " + ("allowed here." if choice == "on" else "off here.")
        )

    async def settings(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        if not await self.is_admin(update, context):
            await self.refuse(update, "Only this chat's admins can see its settings.")
            return
        scope = scope_of(update)
        current = await self.service.scope_settings(scope)
        per_user, per_scope = await self.service.effective_limits(scope)
        refusals = await self.service.recent_refusals(scope, limit=10)
        lines = [
            "<b>Settings for this chat</b>",
            f"Default style: {escape(current.default_style or self.service.settings.default_style)}",
            f"Allowed styles: {escape(', '.join(current.allowed_styles) or 'all')}",
            f"Daily limit per user: {per_user}; for this chat: {per_scope or 'none'}",
            f"NSFW: {'allowed' if current.nsfw else 'off'}",
        ]
        if refusals:
            lines.append("\n<b>Last refusals</b>")
            for item in refusals:
                when = datetime.fromtimestamp(item["created_at"], tz=UTC).strftime("%m-%d %H:%M")
                lines.append(
                    f"{when} user {escape(str(item['user_id']))}: {escape(str(item['reason'])[:200])}"
                )
        await self.reply(message, "\n".join(lines))

    # -- history and privacy --------------------------------------------------------------------

    async def history(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        scope = scope_of(update)
        # In a group, only what was made in this group: never pictures from elsewhere.
        rows = await self.service.history(
            requester_of(update), limit=30, scope=None if scope.is_direct else scope
        )
        files = await asyncio.to_thread(read_existing, [g.image_path for g in rows])
        shown = [(g, data) for g, data in zip(rows, files, strict=True) if data is not None][:10]
        if not shown:
            await self.reply(message, "Nothing yet: make your first picture with /imagine.")
            return
        captions = [caption(g, self.service.styles.find(g.style)) for g, _ in shown]
        if len(shown) == 1:
            await message.reply_photo(
                shown[0][1], caption=captions[0], parse_mode=ParseMode.HTML, do_quote=True
            )
            return
        media = [
            InputMediaPhoto(data, caption=text, parse_mode=ParseMode.HTML)
            for (_, data), text in zip(shown, captions, strict=True)
        ]
        await message.reply_media_group(media, do_quote=True)

    async def forget_me(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        # The identity whose data goes: the person, or the chat an anonymous admin wrote as.
        who = requester_of(update).user_id
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("🗑 Delete my data", callback_data=f"ib:F:{who}"),
                    InlineKeyboardButton("Cancel", callback_data=f"ib:X:{who}"),
                ]
            ]
        )
        await self.reply(
            message,
            "This deletes your history, your pictures and your settings with this bot. Sure?",
            reply_markup=keyboard,
        )

    async def help(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        await self.reply(message, HELP)


async def _errors(update: object, context: Context) -> None:
    error = context.error
    if isinstance(error, TelegramError):
        log.warning("Telegram call failed: %s", error)
    else:
        log.error("handler failed", exc_info=error)


def register_handlers(application: Application, adapter: TelegramAdapter) -> None:  # type: ignore[type-arg]
    handlers = Handlers(adapter)
    for name, callback in (
        ("imagine", handlers.imagine),
        ("styles", handlers.styles),
        ("mystyle", handlers.mystyle),
        ("setstyle", handlers.setstyle),
        ("allowstyles", handlers.allowstyles),
        ("settings", handlers.settings),
        ("setlimits", handlers.setlimits),
        ("nsfw", handlers.nsfw),
        ("history", handlers.history),
        ("forget_me", handlers.forget_me),
        (
            "gallery",
            GalleryCommand(
                adapter.app.gallery,
                is_admin=handlers.is_admin,
                reply=handlers.reply,
                refuse=handlers.refuse,
            ),
        ),
        ("start", handlers.help),
        ("help", handlers.help),
    ):
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(CallbackQueryHandler(Buttons(handlers).press, pattern=r"^ib:"))
    application.add_error_handler(_errors)
