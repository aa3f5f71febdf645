"""Telegram commands, one `CommandHandler` each, turned into core calls.

A handler does its one thing and raises when it cannot: the core's `UserFacingError`, a
`ParseError`, or `Refused` (admin-only, usage). `Answers.on_error` answers all of them in
one place; `require_admin` is the one admin check.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler

from bot.adapters.telegram.admins import SEE_SETTINGS, is_admin, require_admin
from bot.adapters.telegram.answers import Answers, Context, Refused
from bot.adapters.telegram.gallery import GalleryCommand
from bot.adapters.telegram.identity import requester_of, scope_of
from bot.adapters.telegram.images import for_album, read_existing
from bot.adapters.telegram.intake import Intake
from bot.adapters.telegram.languages import LanguageCommands
from bot.adapters.telegram.picture_requests import NOT_EDITED
from bot.adapters.telegram.render import (
    HELP,
    caption,
    escape,
    say,
    say_plain,
    style_keyboard,
    style_label,
    styles_text,
)
from bot.core.language import Number, Plural, Text, UserText
from bot.core.models import Style
from bot.core.numbers import whole_number
from bot.core.requests.buttons import ChatDefault, ForgetCancel, ForgetConfirm, MyDefault
from bot.core.requests.service import GenerationService
from bot.web.access import GalleryAccess

log = logging.getLogger(__name__)

SETLIMITS_MAX = 1_000_000  # a daily limit past this means "no limit" in all but name
SETLIMITS_USAGE = Text(
    "Usage: /setlimits &lt;pictures per user per day&gt; [pictures for this chat per day] "
    "[count:&lt;1-4, the most pictures per request&gt;], or /setlimits count:&lt;1-4&gt; alone"
)


async def _is_admin(update: Update, context: Context) -> bool:
    return await is_admin(update, context.bot)


class Commands:
    def __init__(
        self,
        service: GenerationService,
        answers: Answers,
        intake: Intake,
        gallery: GalleryAccess | None = None,
    ) -> None:
        self.service = service
        self.answers = answers
        self.intake = intake
        self.gallery = GalleryCommand(
            gallery,
            is_admin=_is_admin,
            reply=answers.reply,
            refuse=answers.refuse,
            reader=answers.reader,
            community=answers.community_reader,
        )

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        for name, callback in (
            ("styles", self.styles),
            ("mystyle", self.mystyle),
            ("setstyle", self.setstyle),
            ("allowstyles", self.allowstyles),
            ("settings", self.settings),
            ("setlimits", self.setlimits),
            ("nsfw", self.nsfw),
            ("history", self.history),
            ("forget_me", self.forget_me),
            ("gallery", self.gallery),
            ("start", self.help),
            ("help", self.help),
        ):
            application.add_handler(CommandHandler(name, callback, filters=NOT_EDITED))
        LanguageCommands(self.service, self.answers).register(application)

    # -- styles and settings --------------------------------------------------------------------

    async def styles(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        scope = scope_of(update)
        allowed = await self.service.allowed_styles(scope)
        settings = await self.service.scope_settings(scope)
        mine = await self.service.user_style(requester_of(update))
        locale = await self.answers.reader(update)
        await self.answers.reply(
            message,
            styles_text(allowed, settings.default_style, mine, locale),
            reply_markup=style_keyboard(allowed, MyDefault, locale),
        )
        await self._previews(message, [s for s in allowed if s.community and s.preview_path])

    @staticmethod
    async def _previews(message: Message, styles: list[Style]) -> None:
        """The chat's own styles' preview grids, as one album (up to 10), captioned."""
        shown = styles[:10]
        found = await asyncio.to_thread(read_existing, [s.preview_path for s in shown])
        media = [
            InputMediaPhoto(
                data, caption=escape(f"{style.emoji} {style.name}"), parse_mode=ParseMode.HTML
            )
            for style, data in zip(shown, found, strict=True)
            if data is not None
        ]
        if len(media) == 1:
            await message.reply_photo(
                media[0].media,
                caption=media[0].caption,
                parse_mode=ParseMode.HTML,
                do_quote=True,
            )
        elif media:
            await message.reply_media_group(media, do_quote=True)

    async def mystyle(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        text = " ".join(context.args or [])
        style = await self.service.set_user_style(
            requester_of(update), text or None, scope_of(update)
        )
        locale = await self.answers.reader(update)
        answer = (
            Text("Your default style is now {style}.", style=style_label(style, locale))
            if style
            else Text("Your default style is cleared.")
        )
        await self.answers.reply(message, say(answer, locale))

    async def setstyle(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        await require_admin(update, context.bot)
        text = " ".join(context.args or [])
        locale = await self.answers.reader(update)
        if not text:
            styles = await self.service.allowed_styles(scope_of(update))
            await self.answers.reply(
                message,
                say(Text("Pick this chat's default style:"), locale),
                reply_markup=style_keyboard(styles, ChatDefault, locale),
            )
            return
        style = await self.service.set_scope_default(
            scope_of(update), text if text and text != "none" else None
        )
        answer = (
            Text("This chat's default style is now {style}.", style=style_label(style, locale))
            if style
            else Text("This chat's default style is cleared.")
        )
        await self.answers.reply(message, say(answer, locale))

    async def allowstyles(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        await require_admin(update, context.bot)
        text = " ".join(context.args or []).strip()
        if not text:
            raise Refused(Text("Usage: /allowstyles anime,photo,sketch (or /allowstyles all)"))
        names = None if text.lower() == "all" else [p.strip() for p in text.split(",") if p.strip()]
        styles = await self.service.set_allowed_styles(scope_of(update), names)
        locale = await self.answers.reader(update)
        answer = (
            Text(
                "Allowed here: {styles}.", styles=", ".join(style_label(s, locale) for s in styles)
            )
            if styles
            else Text("Allowed here: every style.")
        )
        await self.answers.reply(message, say(answer, locale))

    async def setlimits(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        await require_admin(update, context.bot)
        args = context.args or []
        counts = [a.split(":", 1)[1] for a in args if a.lower().startswith("count:")]
        numbers = [a for a in args if not a.lower().startswith("count:")]
        if (
            len(counts) > 1
            or not (counts or numbers)
            or len(numbers) > 2
            or any(whole_number(a, 0, SETLIMITS_MAX) is None for a in [*numbers, *counts])
        ):
            raise Refused(SETLIMITS_USAGE)
        scope = scope_of(update)
        answer: list[Text] = []
        if numbers:
            per_user = int(numbers[0])
            per_chat = int(numbers[1]) if len(numbers) > 1 else None
            user_limit, chat_limit = await self.service.set_scope_limits(
                scope, per_user=per_user, per_scope=per_chat
            )
            answer.append(_limits_set(user_limit, chat_limit))
        if counts:
            cap = await self.service.set_scope_max_count(scope, int(counts[0]))
            answer.append(
                Plural(
                    "At most {count} picture per request here.",
                    "At most {count} pictures per request here.",
                    cap,
                )
            )
        locale = await self.answers.reader(update)
        await self.answers.reply(message, "\n".join(say(a, locale) for a in answer))

    async def nsfw(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        await require_admin(update, context.bot)
        choice = " ".join(context.args or []).strip().lower()
        if choice not in ("on", "off"):
            raise Refused(Text("Usage: /nsfw on or /nsfw off"))
        await self.service.set_scope_nsfw(scope_of(update), choice == "on")
        answer = (
            Text("NSFW pictures are now allowed here.")
            if choice == "on"
            else Text("NSFW pictures are now off here.")
        )
        await self.answers.reply(message, say(answer, await self.answers.reader(update)))

    async def settings(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        await require_admin(update, context.bot, SEE_SETTINGS)
        scope = scope_of(update)
        current = await self.service.scope_settings(scope)
        per_user, per_scope = await self.service.effective_limits(scope)
        refusals = await self.service.recent_refusals(scope, limit=10)
        default = current.default_style or self.service.settings.default_style
        most = await self.service.max_count(scope)
        locale = await self.answers.reader(update)
        allowed = ", ".join(current.allowed_styles)
        lines = [
            Text("<b>Settings for this chat</b>"),
            Text("Default style: {style}", style=UserText(default)),
            Text("Allowed styles: {styles}", styles=UserText(allowed))
            if allowed
            else Text("Allowed styles: all"),
            Text(
                "Daily limit per user: {user}; for this chat: {chat}",
                user=Number(per_user),
                chat=Number(per_scope),
            )
            if per_scope
            else Text("Daily limit per user: {user}; for this chat: none", user=Number(per_user)),
            Text("Pictures per request: at most {count}", count=Number(most)),
            Text("NSFW: allowed") if current.nsfw else Text("NSFW: off"),
        ]
        shown = [say(line, locale) for line in lines]
        if refusals:
            shown.append("\n" + say(Text("<b>Last refusals</b>"), locale))
            for item in refusals:
                when = datetime.fromtimestamp(item.created_at, tz=UTC).strftime("%m-%d %H:%M")
                refusal = Text(
                    "{when} user {user}: {reason}",
                    when=when,
                    user=UserText(item.user_id),
                    reason=UserText(item.reason[:200]),
                )
                shown.append(say(refusal, locale))
        await self.answers.reply(message, "\n".join(shown))

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
        found = [(g, data) for g, data in zip(rows, files, strict=True) if data is not None][:10]
        locale = await self.answers.reader(update)
        if not found:
            nothing = Text("Nothing yet: make your first picture with /imagine.")
            await self.answers.reply(message, say(nothing, locale))
            return
        # Every item a photo within Telegram's limits, the album within one request's: an
        # upscale (a 4096 px PNG) is sent smaller, and its caption says where the full size is.
        uploads = await asyncio.to_thread(for_album, [data for _, data in found])
        shown = [(g, u) for (g, _), u in zip(found, uploads, strict=True) if u is not None]
        if not shown:
            none = Text("None of these pictures can be shown here.")
            await self.answers.reply(message, say(none, locale))
            return
        # The last picture's caption links to the chat's gallery: an album carries no
        # buttons, and a separate message would cost flood budget.
        link = await self.gallery.history_link(update)
        captions = [
            caption(
                g,
                self.service.styles.find(g.style),
                link if i == len(shown) - 1 else None,
                reduced=u.reduced,
                locale=locale,
            )
            for i, (g, u) in enumerate(shown)
        ]
        if len(shown) == 1:
            await message.reply_photo(
                shown[0][1].data, caption=captions[0], parse_mode=ParseMode.HTML, do_quote=True
            )
            return
        media = [
            InputMediaPhoto(u.data, caption=text, parse_mode=ParseMode.HTML)
            for (_, u), text in zip(shown, captions, strict=True)
        ]
        await message.reply_media_group(media, do_quote=True)

    async def forget_me(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        # The identity whose data goes: the person, or the chat an anonymous admin wrote as.
        who = requester_of(update).user_id
        locale = await self.answers.reader(update)
        delete = say_plain(Text("🗑 Delete my data"), locale)
        cancel = say_plain(Text("Cancel"), locale)
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(delete, callback_data=ForgetConfirm(who).pack("telegram")),
                    InlineKeyboardButton(cancel, callback_data=ForgetCancel(who).pack("telegram")),
                ]
            ]
        )
        sure = Text(
            "This deletes your history, your pictures and your settings with this bot. Sure?"
        )
        await self.answers.reply(message, say(sure, locale), reply_markup=keyboard)

    async def help(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        await self.answers.reply(message, say(HELP, await self.answers.reader(update)))


def _limits_set(per_user: int, per_chat: int | None) -> Text:
    if per_chat:
        return Text(
            "Daily limits here: {user} per user, {chat} for the chat.",
            user=Number(per_user),
            chat=Number(per_chat),
        )
    return Text("Daily limits here: {user} per user, no limit for the chat.", user=Number(per_user))
