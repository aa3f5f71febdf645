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

from bot.adapters.telegram.images import read_existing
from bot.adapters.telegram.parsing import ParseError, parse_imagine, strip_command
from bot.adapters.telegram.render import (
    HELP,
    caption,
    error_text,
    escape,
    plain,
    queued_text,
    style_keyboard,
    styles_text,
)
from bot.core.errors import UserFacingError
from bot.core.models import HandleValue, ImagineCommand, ReplyTarget, Requester, Scope
from bot.core.service import PreparedRequest

if TYPE_CHECKING:
    from bot.adapters.telegram.adapter import TelegramAdapter

log = logging.getLogger(__name__)

QUEUED = "⏳ Queued…"
ANONYMOUS_ADMIN_ID = 1087968824  # "GroupAnonymousBot": stands for any anonymous group admin
ADMIN_STATUSES = {"administrator", "creator"}
Context = ContextTypes.DEFAULT_TYPE


def scope_of(update: Update) -> Scope:
    chat = update.effective_chat
    assert chat is not None
    if chat.type == ChatType.PRIVATE:
        return Scope.direct("telegram", str(chat.id))
    return Scope(platform="telegram", id=str(chat.id))


def requester_of(update: Update) -> Requester:
    user = update.effective_user
    assert user is not None
    return Requester(platform="telegram", user_id=str(user.id), display_name=user.full_name)


class Handlers:
    def __init__(self, adapter: TelegramAdapter) -> None:
        self.adapter = adapter
        self.service = adapter.app.service

    # -- helpers --------------------------------------------------------------------------------

    async def reply(self, message: Message, text: str, **kwargs: object) -> Message:
        return await message.reply_text(text, parse_mode=ParseMode.HTML, do_quote=True, **kwargs)  # type: ignore[arg-type]

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
            await self.reply(message, escape(exc.message))
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
            await self.reply(message, error_text(exc.message))
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
            await self.reply(message, error_text(exc.message))
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
            await self.reply(message, "Only this chat's admins can change its settings.")
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
            await self.reply(message, error_text(exc.message))
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
            await self.reply(message, "Only this chat's admins can change its settings.")
            return
        text = " ".join(context.args or []).strip()
        if not text:
            await self.reply(
                message, "Usage: /allowstyles anime,photo,sketch (or /allowstyles all)"
            )
            return
        names = None if text.lower() == "all" else [p.strip() for p in text.split(",") if p.strip()]
        try:
            styles = await self.service.set_allowed_styles(scope_of(update), names)
        except UserFacingError as exc:
            await self.reply(message, error_text(exc.message))
            return
        listed = ", ".join(escape(s.label) for s in styles) if styles else "every style"
        await self.reply(message, f"Allowed here: {listed}.")

    async def setlimits(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        if not await self.is_admin(update, context):
            await self.reply(message, "Only this chat's admins can change its settings.")
            return
        args = context.args or []
        if not 1 <= len(args) <= 2 or not all(a.isdigit() for a in args):
            await self.reply(
                message,
                "Usage: /setlimits <pictures per user per day> [pictures for this chat per day]",
            )
            return
        per_user = int(args[0])
        per_chat = int(args[1]) if len(args) > 1 else None
        try:
            user_limit, chat_limit = await self.service.set_scope_limits(
                scope_of(update), per_user=per_user, per_scope=per_chat
            )
        except UserFacingError as exc:
            await self.reply(message, error_text(exc.message))
            return
        await self.reply(
            message,
            f"Daily limits here: {user_limit} per user, {chat_limit or 'no limit'} for the chat.",
        )

    async def nsfw(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        if not await self.is_admin(update, context):
            await self.reply(message, "Only this chat's admins can change its settings.")
            return
        choice = " ".join(context.args or []).strip().lower()
        if choice not in ("on", "off"):
            await self.reply(message, "Usage: /nsfw on or /nsfw off")
            return
        await self.service.set_scope_nsfw(scope_of(update), choice == "on")
        await self.reply(
            message, "NSFW pictures are now " + ("allowed here." if choice == "on" else "off here.")
        )

    async def settings(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        if not await self.is_admin(update, context):
            await self.reply(message, "Only this chat's admins can see its settings.")
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
        rows = await self.service.history(requester_of(update), limit=30)
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
        user = update.effective_user
        assert message is not None and user is not None
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("🗑 Delete my data", callback_data=f"ib:F:{user.id}"),
                    InlineKeyboardButton("Cancel", callback_data=f"ib:X:{user.id}"),
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

    # -- buttons --------------------------------------------------------------------------------

    async def button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None or query.data is None:
            return
        parts = query.data.split(":")
        action, args = parts[1] if len(parts) > 1 else "", parts[2:]
        requester = requester_of(update)
        try:
            if action in ("r", "S") and args:
                await query.answer()
                style = args[1] if action == "S" and len(args) > 1 else None
                prepared = await self.service.prepare_variation(
                    args[0], requester, scope_of(update), style=style
                )
                anchor = query.message
                if isinstance(anchor, Message):
                    await self.submit(anchor, prepared)
            elif action == "s" and args:
                await query.answer()
                styles = await self.service.allowed_styles(scope_of(update))
                if isinstance(query.message, Message):
                    await self.reply(
                        query.message,
                        "Pick a style for a new version:",
                        reply_markup=style_keyboard(styles, f"ib:S:{args[0]}:"),
                    )
            elif action == "f" and args:
                generation = await self.service.generation(args[0])
                await query.answer()
                (data,) = await asyncio.to_thread(read_existing, [generation.image_path])
                if data is not None and isinstance(query.message, Message):
                    await query.message.reply_document(
                        data, filename=f"{generation.id}.png", do_quote=True
                    )
            elif action == "A" and args:
                if not await self.is_admin(update, context):
                    await query.answer(
                        "Only this chat's admins can change its settings.", show_alert=True
                    )
                    return
                default = await self.service.set_scope_default(scope_of(update), args[0])
                await query.answer(
                    f"This chat's default style is now {default.label}." if default else "Cleared."
                )
            elif action == "d" and args:
                chosen = await self.service.set_user_style(requester, args[0])
                await query.answer(
                    f"Your default style is now {chosen.label}." if chosen else "Cleared."
                )
            elif action in ("F", "X") and args:
                if args[0] != requester.user_id:
                    await query.answer(
                        "Only the person who asked can answer this.", show_alert=True
                    )
                    return
                if action == "X":
                    await query.answer("Nothing was deleted.")
                    return
                count = await self.service.forget_user(requester)
                await query.answer("Done.")
                if isinstance(query.message, Message):
                    await query.message.edit_text(
                        f"Deleted your history and settings ({count} pictures)."
                    )
            else:
                await query.answer("This button is no longer valid.")
        except UserFacingError as exc:
            await query.answer(plain(exc.message)[:200], show_alert=True)


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
        ("start", handlers.help),
        ("help", handlers.help),
    ):
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(CallbackQueryHandler(handlers.button, pattern=r"^ib:"))
    application.add_error_handler(_errors)
