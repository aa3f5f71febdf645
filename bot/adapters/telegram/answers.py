"""Answers to commands and button presses, and the one place an error becomes words.

Handlers raise instead of answering errors themselves: a `UserFacingError` from the core, a
`ParseError` from the command text, or a `Refused` with the adapter's own words (an admin-only
command, a usage line). `on_error`, python-telegram-bot's error handler, turns each into a
reply (a refusal, kept quiet in a group after the first) or, for a button, an alert.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import CallbackQuery, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.adapters.telegram.identity import requester_of, scope_of
from bot.adapters.telegram.parsing import ParseError
from bot.adapters.telegram.refusals import RefusalGate
from bot.adapters.telegram.render import error_words, escape, plain, say, say_plain
from bot.core.errors import UserFacingError
from bot.core.language import ENGLISH, Text
from bot.core.models import Requester, Scope

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE


def callback_query(update: Update) -> CallbackQuery:
    """The press a `CallbackQueryHandler` was called for (it only calls for one)."""
    query = update.callback_query
    assert query is not None
    return query


ALERT_LIMIT = 200  # callback query alerts show at most 200 characters
# What Telegram answers when a press is answered too late (about 15 s after it was made).
TOO_OLD = ("query is too old", "query id is invalid")


async def answer_press(
    query: CallbackQuery, text: str | None = None, *, alert: bool = False
) -> None:
    """Answer a button press. A press Telegram no longer takes an answer for (it waited while
    the bot restarted) is still acted on by its handler: this is deliberate, the press itself
    is valid. What the answer would have said (a confirmation, a refusal) then goes as a reply
    to the pressed message, so the person is never left without a word."""
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest as exc:
        if not any(marker in exc.message.lower() for marker in TOO_OLD):
            raise
        log.info("a button press answered too late (%s); acting on it anyway", exc.message)
        if text and isinstance(query.message, Message):
            await query.message.reply_text(escape(text), parse_mode=ParseMode.HTML, do_quote=True)


class Refused(Exception):
    """A command or button refused in the adapter's own words: a catalogue text, rendered in
    the reader's locale where it is answered (`Answers.on_error`)."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.message)
        self.text = text


LocaleOf = Callable[[Requester, Scope], Awaitable[str]]


async def _english(_requester: Requester, _scope: Scope) -> str:
    return ENGLISH


class Answers:
    def __init__(
        self, refusals: RefusalGate, locale: LocaleOf = _english, community: LocaleOf = _english
    ) -> None:
        self.refusals = refusals
        # Who reads an answer: the asker's locale (the service's: one store read, made only
        # for an answer that is not a request's), or the community's for what all read.
        self.locale = locale
        self.community = community

    async def reply(self, message: Message, text: str, **kwargs: object) -> Message:
        return await message.reply_text(text, parse_mode=ParseMode.HTML, do_quote=True, **kwargs)  # type: ignore[arg-type]

    async def reader(self, update: Update) -> str:
        """The locale of the person an answer is for."""
        return await self.locale(requester_of(update), scope_of(update))

    async def community_reader(self, update: Update) -> str:
        """The locale of a message everyone in the chat reads (the asker's in a private chat)."""
        return await self.community(requester_of(update), scope_of(update))

    async def refuse(self, update: Update, text: str, locale: str = ENGLISH) -> None:
        """Answer a refused command (`text` already in `locale`); in a group, only the first
        per person per quiet period."""
        message = update.effective_message
        assert message is not None
        if message.chat.type != ChatType.PRIVATE:
            gate = self.refusals
            who = requester_of(update).user_id
            if not gate.allow(message.chat_id, who):
                log.info("chat %s: kept a refusal to %s quiet", message.chat_id, who)
                return
            if len(text) < 3900:  # the note must never push a reply past 4096 characters
                text = f"{text}\n{say(gate.note, locale)}"
        await self.reply(message, text)

    async def on_error(self, update: object, context: Context) -> None:
        """Every handler's errors: the expected ones answered, the rest logged."""
        error = context.error
        if _expected(error) and isinstance(update, Update) and update.effective_chat is not None:
            locale = await self.reader(update)
            words = _words(error, locale)
            query = update.callback_query
            if query is not None:
                await answer_press(query, plain(words[1])[:ALERT_LIMIT], alert=True)
                return
            if update.effective_message is not None:
                await self.refuse(update, words[0], locale)
                return
        if isinstance(error, TelegramError):
            log.warning("Telegram call failed: %s", error)
        else:
            log.error("handler failed", exc_info=error)


def _expected(error: BaseException | None) -> bool:
    return isinstance(error, Refused | ParseError | UserFacingError)


def _words(error: BaseException | None, locale: str) -> tuple[str, str]:
    """(reply in HTML, alert in plain text) for an expected error, in `locale`."""
    if isinstance(error, Refused):
        return say(error.text, locale), say_plain(error.text, locale)
    if isinstance(error, ParseError):
        return error.words(locale), error.words(locale, markup=False)
    assert isinstance(error, UserFacingError)
    return error_words(error.text, locale), say_plain(error.text, locale)
