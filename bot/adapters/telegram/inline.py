"""Inline mode: `@botname a lighthouse at dusk style:anime` in any chat, the bot a member or
not.

- **The query** is answered at once (the user is typing): the text is parsed as `/imagine`'s
  and checked by the core (style, words, limits) within a short budget; the answer is one
  "Make this picture" result, or the refusal as a result (never an error). An empty query
  answers the user's recent pictures as cached photos to share; `share:<id>` (what the Share
  button types) answers that one picture. Answers are personal and not cached by Telegram:
  limits and history are the user's own.
- **Choosing** "Make this picture" posts its placeholder through the user (an inline message);
  `chosen_inline_result` (inline feedback on in BotFather) starts the request, keyed on the
  `inline_message_id` it carries (it does only because the placeholder has a button). The
  request runs in the user's personal scope: their limits, their history.
- **The picture** replaces the placeholder by an edit of the inline message
  (inline_results.py).
- **Presses** on an inline message carry `inline_message_id` and no message: they act only on
  the inline message the row recorded, for the person who made it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import (
    CallbackQuery,
    ChosenInlineResult,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultCachedPhoto,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChosenInlineResultHandler,
    InlineQueryHandler,
)

from bot.adapters.telegram.answers import ALERT_LIMIT, Context, answer_press
from bot.adapters.telegram.delivery_handle import TelegramHandle
from bot.adapters.telegram.identity import requester_of
from bot.adapters.telegram.parsing import ParseError, parse_imagine
from bot.adapters.telegram.render import (
    MESSAGE_LIMIT,
    error_text,
    error_words,
    escape,
    escape_rendered,
    info_text,
    plain,
    say,
    say_plain,
    shorten,
    style_label,
)
from bot.core.errors import PermissionDenied, UserFacingError
from bot.core.language import Text, UserText
from bot.core.models import (
    DEFAULT_STRENGTH,
    Generation,
    ImagineCommand,
    ReplyTarget,
    Requester,
    Scope,
)
from bot.core.requests.access import Need
from bot.core.requests.button_data import FollowUp
from bot.core.requests.buttons import BUTTONS, Info, Share
from bot.core.requests.service import GenerationService, PreparedRequest

log = logging.getLogger(__name__)

PLATFORM = "telegram"
MAKE = "make"  # the result id of "Make this picture"
REFUSED = "refused"
PICTURE_PREFIX = "pic:"  # a recent picture: pic:<generation id>
CHECK_BUDGET_SECONDS = 1.0  # past this the query is answered unchecked (checked when chosen)
RECENT = 20  # recent pictures offered on an empty query
NOT_HERE = Text(
    "This button works in chats I am a member of. Here, use the picture's Reroll, U and V "
    "buttons, or Share."
)
NOT_YOURS = Text("Only the person who made this picture can use its buttons here.")
NOT_THIS_MESSAGE = Text("That button does not belong to this message.")
NO_STORED_COPY = Text("That picture cannot be shared from here (it has no stored copy).")


def personal_scope(user_id: int | str) -> Scope:
    return Scope.personal(PLATFORM, str(user_id))


def command_of(parsed_text: str) -> ImagineCommand:
    parsed = parse_imagine(parsed_text)
    if parsed.strength is not None:
        raise ParseError(Text("strength: needs a picture, which an inline query cannot carry."))
    return ImagineCommand(
        prompt=parsed.prompt,
        style=parsed.style,
        aspect=parsed.aspect,
        negative_prompt=parsed.negative_prompt,
        seed=parsed.seed,
        count=parsed.count,
        strength=DEFAULT_STRENGTH,
    )


def placeholder_keyboard(locale: str) -> InlineKeyboardMarkup:
    """The placeholder's button: without a keyboard Telegram gives no `inline_message_id`,
    and this one lets anyone in the chat make their own picture."""
    words = say_plain(Text("🎨 Make your own"), locale)
    button = InlineKeyboardButton(words, switch_inline_query_current_chat="")
    return InlineKeyboardMarkup([[button]])


def refusal(text: str, locale: str) -> InlineQueryResultArticle:
    """A refusal as a result; `text` is the reason, plain, already rendered in `locale` (its
    user text stripped and isolated there: the isolates stay)."""
    shown = "❌ " + escape_rendered(shorten(text, MESSAGE_LIMIT - 10))
    return InlineQueryResultArticle(
        id=REFUSED,
        title=say_plain(Text("Can't make this picture"), locale),
        description=shorten(text, 200),
        input_message_content=InputTextMessageContent(shown, parse_mode=ParseMode.HTML),
    )


def make_result(
    prepared: PreparedRequest | None, prompt: str, locale: str
) -> InlineQueryResultArticle:
    shown = UserText(shorten(prompt, 300))
    if prepared is not None:
        style = style_label(prepared.style, locale)
        text = Text("🎨 Making “{prompt}” · {style}…", prompt=shown, style=style)
    else:
        style, text = "", Text("🎨 Making “{prompt}”…", prompt=shown)
    return InlineQueryResultArticle(
        id=MAKE,
        title=say_plain(Text("🎨 Make this picture"), locale),
        description=shorten(plain(prompt), 120) + (f" · {style}" if style else ""),
        input_message_content=InputTextMessageContent(say(text, locale), parse_mode=ParseMode.HTML),
        reply_markup=placeholder_keyboard(locale),
    )


def shared_photo(generation: Generation) -> InlineQueryResultCachedPhoto | None:
    file_id = TelegramHandle.of(generation.handle).photo_file_id
    if file_id is None or generation.image_path is None:
        return None
    return InlineQueryResultCachedPhoto(
        id=f"{PICTURE_PREFIX}{generation.id}",
        photo_file_id=file_id,
        caption=f"<b>{escape(shorten(generation.prompt, 900))}</b>",
        parse_mode=ParseMode.HTML,
    )


class InlinePressHandler(CallbackQueryHandler):  # type: ignore[type-arg]
    """Presses on inline messages only (they carry `inline_message_id` and no message)."""

    def check_update(self, update: object) -> bool | object | None:
        if not isinstance(update, Update) or update.callback_query is None:
            return False
        return update.callback_query.inline_message_id is not None


class InlineMode:
    def __init__(self, service: GenerationService) -> None:
        self.service = service

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        application.add_handler(InlineQueryHandler(self.query))
        application.add_handler(ChosenInlineResultHandler(self.chosen))
        application.add_handler(InlinePressHandler(self.press))

    # -- the query ---------------------------------------------------------------------------

    async def query(self, update: Update, context: Context) -> None:
        inline = update.inline_query
        if inline is None:
            return
        results = await self.results_for(inline.query, requester_of(update))
        await inline.answer(results, cache_time=0, is_personal=True)

    async def results_for(self, query: str, requester: Requester) -> list[Any]:
        text = query.strip()
        locale = await self.service.locale(requester, personal_scope(requester.user_id))
        if not text:
            return await self._recent(requester, locale)
        share = Share.from_inline_query(text)
        if share is not None:
            return await self._shared(share, requester, locale)
        try:
            command = command_of(text)
        except ParseError as exc:
            return [refusal(exc.words(locale, markup=False), locale)]
        checking = asyncio.ensure_future(
            self.service.prepare(requester, personal_scope(requester.user_id), command)
        )
        try:
            prepared = await asyncio.wait_for(asyncio.shield(checking), CHECK_BUDGET_SECONDS)
        except UserFacingError as exc:
            return [refusal(say_plain(exc.text, locale), locale)]
        except TimeoutError:
            checking.add_done_callback(lambda task: task.cancelled() or task.exception())
            prepared = None  # a slow check: offered now, checked again when chosen
        return [make_result(prepared, command.prompt, locale)]

    async def _recent(self, requester: Requester, locale: str) -> list[Any]:
        rows = await self.service.history(requester, limit=RECENT * 2)
        photos = [p for p in (shared_photo(g) for g in rows if g.status == "delivered") if p]
        if photos:
            return photos[:RECENT]
        hint = say_plain(
            Text("Type a prompt after my name, like: a lighthouse at dusk style:anime"), locale
        )
        return [
            InlineQueryResultArticle(
                id="hint",
                title=say_plain(Text("Type what to imagine"), locale),
                description=hint,
                input_message_content=InputTextMessageContent(escape(hint)),
            )
        ]

    async def _shared(self, share: Share, requester: Requester, locale: str) -> list[Any]:
        scope = personal_scope(requester.user_id)
        try:
            generation = await self.service.generation_for(
                share.generation_id, requester, scope, Need.OWNER_ANYWHERE
            )
        except UserFacingError as exc:
            return [refusal(say_plain(exc.text, locale), locale)]
        photo = shared_photo(generation)
        if photo is None:
            return [refusal(say_plain(NO_STORED_COPY, locale), locale)]
        return [photo]

    async def _locale_of(self, requester: Requester) -> str:
        """The language inline answers to `requester` are in (theirs, in no community)."""
        return await self.service.locale(requester, personal_scope(requester.user_id))

    # -- the chosen result --------------------------------------------------------------------

    async def chosen(self, update: Update, context: Context) -> None:
        result = update.chosen_inline_result
        if result is None or result.result_id != MAKE:
            return  # a shared picture or a refusal: nothing to make
        if result.inline_message_id is None:
            log.warning("chosen inline result without inline_message_id: no keyboard?")
            return
        try:
            await self._start(update, result)
        except ParseError as exc:
            locale = await self._locale(update)
            words = error_text(exc.words(locale, markup=False))
            await self._say(context, result.inline_message_id, words)
        except UserFacingError as exc:
            locale = await self._locale(update)
            await self._say(context, result.inline_message_id, error_words(exc.text, locale))

    async def _locale(self, update: Update) -> str:
        return await self._locale_of(requester_of(update))

    async def _start(self, update: Update, result: ChosenInlineResult) -> None:
        requester = requester_of(update)
        scope = personal_scope(requester.user_id)
        prepared = await self.service.prepare(requester, scope, command_of(result.query))
        await self.submit(prepared, str(result.inline_message_id))

    async def submit(self, prepared: PreparedRequest, inline_message_id: str) -> None:
        target = ReplyTarget(
            platform=PLATFORM,
            # The requester's private chat with the bot: where the picture is sent first
            # (for its file_id) unless the operator named a storage chat.
            chat_id=prepared.requester.user_id,
            # The inline message may be in any chat, whose rules the bot cannot see.
            nsfw_ok=False,
            handle=TelegramHandle(inline_message_id=inline_message_id),
        )
        await self.service.submit(prepared, target)

    @staticmethod
    async def _say(context: Context, inline_message_id: str, text: str) -> None:
        try:
            await context.bot.edit_message_text(
                text, inline_message_id=inline_message_id, parse_mode=ParseMode.HTML
            )
        except BadRequest:  # the placeholder already shows a picture: its caption instead
            await context.bot.edit_message_caption(
                inline_message_id=inline_message_id, caption=text, parse_mode=ParseMode.HTML
            )

    # -- presses on inline messages ----------------------------------------------------------

    async def press(self, update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        button = BUTTONS.parse("telegram", query.data or "")
        if not isinstance(button, FollowUp | Info):
            await answer_press(query, say_plain(NOT_HERE, await self._locale(update)), alert=True)
            return
        requester = requester_of(update)
        scope = personal_scope(requester.user_id)
        try:
            generation = await self.service.generation_for(
                button.generation_id, requester, scope, Need.SCOPE
            )
        except PermissionDenied:
            await answer_press(query, say_plain(NOT_YOURS, await self._locale(update)), alert=True)
            return
        locale = generation.locale  # the one who made it: no one else may press here
        if TelegramHandle.of(generation.handle).inline_message_id != query.inline_message_id:
            await answer_press(query, say_plain(NOT_THIS_MESSAGE, locale), alert=True)
            return
        if isinstance(button, Info):
            info = await self.service.info(generation.id, requester, scope)
            shown = info_text(info, locale, self.service.styles.find(info.style))
            await answer_press(query, shorten(shown, ALERT_LIMIT), alert=True)
            return
        await self._follow_up(query, button, requester, scope)

    async def _follow_up(
        self, query: CallbackQuery, button: FollowUp, requester: Requester, scope: Scope
    ) -> None:
        try:
            prepared = await button.prepare(self.service, requester, scope)
            await self.submit(prepared, str(query.inline_message_id))
        except UserFacingError as exc:
            words = say_plain(exc.text, await self._locale_of(requester))
            await answer_press(query, shorten(words, ALERT_LIMIT), alert=True)
            return
        except TelegramError as exc:
            log.info("inline follow-up not started: %s", exc)
            raise
        on_it = Text("⏳ On it: this message changes when the picture is ready.")
        await answer_press(query, say_plain(on_it, prepared.locale))
