"""`/language` (a person's own language: a picker, or `/language de`, `/language auto`) and
`/setlanguage` (admins: the chat's default language and whether members' own win), and the
picker's presses. Every answer is a catalogue text in the reader's locale."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler

from bot.adapters.telegram.admins import require_admin
from bot.adapters.telegram.answers import Answers, Context, Refused, answer_press, callback_query
from bot.adapters.telegram.identity import requester_of, scope_of
from bot.adapters.telegram.picture_requests import NOT_EDITED
from bot.adapters.telegram.render import say, say_plain
from bot.core.language import LANGUAGES
from bot.core.requests.buttons import LanguagePick
from bot.core.requests.languages import (
    NotOffered,
    automatic_label,
    chosen_language,
    community_language_set,
    language_automatic,
    language_set,
    not_offered,
    own_name,
    picker_prompt,
    setlanguage_usage,
)
from bot.core.requests.service import GenerationService

MEMBERS_WIN = {"members": True, "everyone": False}


def language_keyboard(locale: str) -> InlineKeyboardMarkup:
    """Every language in its own name, two a row, then automatic (in the reader's words)."""
    picks = [
        InlineKeyboardButton(own_name(code), callback_data=LanguagePick(code).pack("telegram"))
        for code in LANGUAGES
    ]
    rows = [picks[i : i + 2] for i in range(0, len(picks), 2)]
    automatic = LanguagePick(None).pack("telegram")
    rows.append(
        [InlineKeyboardButton(say_plain(automatic_label(), locale), callback_data=automatic)]
    )
    return InlineKeyboardMarkup(rows)


class LanguageCommands:
    def __init__(self, service: GenerationService, answers: Answers) -> None:
        self.service = service
        self.answers = answers

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """The two commands (the picker's presses come through the adapter's `Buttons`)."""
        for name, callback in (("language", self.language), ("setlanguage", self.setlanguage)):
            application.add_handler(CommandHandler(name, callback, filters=NOT_EDITED))

    async def language(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        requester, scope = requester_of(update), scope_of(update)
        typed = " ".join(context.args or []).strip()
        if not typed:
            locale = await self.service.locale(requester, scope)
            await self.answers.reply(
                message, say(picker_prompt(locale), locale), reply_markup=language_keyboard(locale)
            )
            return
        try:
            chosen = chosen_language(typed)
        except NotOffered:
            raise Refused(not_offered(typed)) from None
        await self.service.set_user_language(requester, chosen)
        now = await self.service.locale(requester, scope)
        answer = language_set(now) if chosen else language_automatic(now)
        await self.answers.reply(message, say(answer, now))

    async def pick(self, update: Update, context: Context, button: LanguagePick) -> None:
        """A press on the picker: the presser's own language (anyone may use a picker)."""
        query = callback_query(update)
        requester = requester_of(update)
        await self.service.set_user_language(requester, button.locale)
        now = await self.service.locale(requester, scope_of(update))
        answer = language_set(now) if button.locale else language_automatic(now)
        await answer_press(query, say_plain(answer, now))

    async def setlanguage(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        await require_admin(update, context.bot)
        requester, scope = requester_of(update), scope_of(update)
        args = [a.lower() for a in context.args or []]
        try:
            if not args or len(args) > 2 or (len(args) == 2 and args[1] not in MEMBERS_WIN):
                raise NotOffered(" ".join(args))
            chosen = chosen_language(args[0])
        except NotOffered:
            raise Refused(setlanguage_usage()) from None
        members_win = MEMBERS_WIN[args[1]] if len(args) == 2 else True
        await self.service.set_community_language(scope, chosen, members_win=members_win)
        community = await self.service.community_locale(requester, scope)
        answer = community_language_set(
            community, chosen=chosen is not None, members_win=members_win
        )
        await self.answers.reply(message, say(answer, await self.service.locale(requester, scope)))
