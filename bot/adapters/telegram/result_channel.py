"""Results on Telegram: status edits, the picture, and the failure notice (the ResultChannel).

The picture replaces the status reply with `editMessageMedia` (twice leaves one photo; "not
modified" means an earlier attempt already did it). Where the status reply cannot become a
photo (a self-hosted Bot API server, a document-sized picture, a busy group's request with no
reply of its own), a new message is sent: not naturally idempotent, so the request's delivery
handle is marked first and cleared when Telegram refused it.

A grid is one photo with U1-U4 / V1-V4 under it; an upscale goes as a photo when it fits one
unchanged, else (and always when there was no upscaler: the point is the full-size file) as
a document that keeps every pixel. A /describe becomes text: the suggestions with an
"Imagine this" button each.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    Message,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import ExtBot

from bot.adapters.telegram.board import GroupBoards
from bot.adapters.telegram.chat_changes import ChatMoves, moved_request
from bot.adapters.telegram.delivery_handle import FALLBACK_MARKER, TelegramHandle
from bot.adapters.telegram.flood import PICTURE, Spend
from bot.adapters.telegram.images import Upload, for_file, for_result
from bot.adapters.telegram.inline_results import InlineResults, inline_message
from bot.adapters.telegram.render import caption, describe_text, error_words, status_text
from bot.adapters.telegram.result_buttons import result_keyboard
from bot.adapters.telegram.status import StatusEditor
from bot.core.errors import DeliveryError, failure_text, failure_words
from bot.core.language import Text
from bot.core.models import Generation, Kind, Status, StatusUpdate
from bot.core.ports import DeliveryHandles
from bot.core.requests.styles import StyleCatalogue

log = logging.getLogger(__name__)

# Bot API answers that mean "this message cannot become a photo": send a new one instead.
CANNOT_EDIT = (
    "there is no media",
    "message to edit not found",
    "message_id_invalid",
    "message can't be edited",
)


def seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def too_large(exc: TelegramError) -> bool:
    """Telegram's front end answered HTTP 413 (an HTML page, so PTB raises a NetworkError)."""
    return isinstance(exc, NetworkError) and "(413)" in exc.message


SLOW_DOWN = Text("Telegram asked us to slow down")
MAY_NOT_POST = Text("the bot may not post in this chat any more")
TOO_LARGE = Text("the file is larger than Telegram takes")


def no_answer(error: str) -> Text:
    return Text("Telegram did not answer ({error})", error=error)


def refused_picture(reason: str) -> Text:
    return Text("Telegram refused the picture ({reason})", reason=reason)


# Read back from a failed row's English reason in the requester's language (bot/core/errors.py).
failure_words(SLOW_DOWN, MAY_NOT_POST, TOO_LARGE, no_answer("TimedOut"), refused_picture("x"))


def delivery_error(exc: TelegramError) -> DeliveryError:
    """Sort Telegram's answers into retry-later and give-up, with a reason for the history."""
    if isinstance(exc, RetryAfter):
        return DeliveryError(SLOW_DOWN, retryable=True, retry_after=seconds(exc.retry_after))
    if isinstance(exc, Forbidden):
        return DeliveryError(MAY_NOT_POST, retryable=False)
    if too_large(exc):
        # The front end refused the bytes (HTTP 413): the same bytes would be refused again.
        return DeliveryError(TOO_LARGE, retryable=False)
    if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
        return DeliveryError(no_answer(exc.__class__.__name__), retryable=True)
    return DeliveryError(refused_picture(exc.message), retryable=False)


def topic(generation: Generation) -> int | None:
    """The request's forum topic: every message for it goes there (without one, a message
    that replies to nothing lands in General, which may be closed)."""
    thread = generation.thread_id
    return int(thread) if thread and thread.lstrip("-").isdigit() else None


def _picture(generation: Generation, image_path: Path) -> Upload:
    """What goes to the chat for a result (run in a thread: it decodes), within Telegram's
    limits for the way it is sent (bot/adapters/telegram/images.py)."""
    original = image_path.read_bytes()
    if generation.kind is Kind.UPSCALE and generation.provider == "original":
        return for_file(original)  # no upscaler: the point is the full-size file
    return for_result(original, full_size=generation.kind is Kind.UPSCALE)


async def _edited(edit: Awaitable[object]) -> object | None:
    """The status reply, when it now shows the result: the edited message, or True when it
    showed it already (a delivery made before a crash); None when it cannot become it (send
    a new message)."""
    try:
        return await edit
    except BadRequest as exc:
        reason = exc.message.lower()
        if "not modified" in reason:
            return True
        if not any(marker in reason for marker in CANNOT_EDIT):
            raise
        return None


class TelegramDelivery:
    def __init__(
        self,
        bot: ExtBot[Spend],
        status: StatusEditor,
        boards: GroupBoards,
        styles: StyleCatalogue,
        handles: DeliveryHandles,
        moves: ChatMoves,
        inline: InlineResults | None = None,
    ) -> None:
        # The 🖌 link under a picture (web_edits.py), where the bot serves the editor.
        self.brush: Callable[[Generation], InlineKeyboardButton | None] | None = None
        self.inline = inline  # requests made from an inline query (inline_results.py)
        self.moves = moves
        self.bot = bot
        self.status = status
        self.boards = boards
        self.styles = styles
        self.handles = handles

    def _settled(self, generation: Generation) -> None:
        command = generation.reply_to_message_id
        if command is not None and command.isdigit():
            self.boards.settle(int(generation.chat_id), int(command), topic(generation))

    def keyboard(self, generation: Generation) -> InlineKeyboardMarkup:
        """The buttons under a delivered picture (also what the Edit menu's Back restores)."""
        share = self.inline is not None and self.inline.share
        brush = self.brush(generation) if self.brush else None
        return result_keyboard(generation, brush, share=share)

    async def show_status(self, generation: Generation, update: StatusUpdate) -> None:
        if inline_message(generation) is not None:
            return  # an inline placeholder is edited once, into the picture
        try:
            await self._show_status(generation, update)
        except ChatMigrated as exc:
            await self.moves.follow(generation, exc.new_chat_id)  # the picture goes there

    async def _show_status(self, generation: Generation, update: StatusUpdate) -> None:
        if update.status is not Status.RUNNING:
            return
        message_id = TelegramHandle.of(generation.handle).status_message_id
        if message_id is None:
            command = generation.reply_to_message_id
            if command is not None and command.isdigit():
                self.boards.generating(int(generation.chat_id), int(command), topic(generation))
            return
        text = status_text(update, generation.locale)
        await self.status.show(int(generation.chat_id), message_id, text)

    async def deliver(self, generation: Generation, image_path: Path) -> None:
        """Post the result; a chat upgraded meanwhile gets it at its new id."""
        if self.inline is not None and inline_message(generation) is not None:
            try:
                await self.inline.deliver(generation, image_path, self.keyboard(generation))
            except TelegramError as exc:
                raise delivery_error(exc) from exc
            return
        try:
            await self._deliver(generation, image_path)
        except ChatMigrated as exc:
            self._settled(generation)
            moved = await self.moves.follow(generation, exc.new_chat_id)
            await self._deliver(moved, image_path)

    async def _deliver(self, generation: Generation, image_path: Path) -> None:
        try:
            if generation.kind is Kind.DESCRIBE:
                await self._deliver_text(generation, describe_text(generation, generation.locale))
            else:
                await self._deliver_picture(generation, image_path)
            self._settled(generation)
        except ChatMigrated:
            raise  # `deliver` follows the chat to its new id
        except TelegramError as exc:
            error = delivery_error(exc)
            if not error.retryable:
                self._settled(generation)
            raise error from exc

    async def _deliver_picture(self, generation: Generation, image_path: Path) -> None:
        """The status reply becomes the picture, or a new message carries it."""
        chat_id = int(generation.chat_id)
        style = self.styles.find(generation.style)
        keyboard = self.keyboard(generation)
        upload = await asyncio.to_thread(_picture, generation, image_path)
        data, as_document = upload.data, upload.as_document
        text = caption(generation, style, reduced=upload.reduced, locale=generation.locale)
        filename = f"{generation.id}.{upload.extension}"
        message_id = TelegramHandle.of(generation.handle).status_message_id
        if message_id is not None:
            self.status.close(chat_id, message_id)
        # An upscale's file replaces its status reply too (one message per follow-up).
        editable = not as_document or generation.kind is Kind.UPSCALE
        if message_id is not None and editable:
            media: InputMediaPhoto | InputMediaDocument = (
                InputMediaDocument(data, caption=text, parse_mode=ParseMode.HTML, filename=filename)
                if as_document
                else InputMediaPhoto(data, caption=text, parse_mode=ParseMode.HTML)
            )
            edit = self.bot.edit_message_media(
                media,
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=keyboard,
                rate_limit_args=PICTURE,
            )
            shown = await _edited(edit)
            if shown is not None:
                await self._remember_file(generation, shown)
                return
            log.info(
                "generation %s: status message cannot become a photo; sending one", generation.id
            )
        send: Callable[..., Awaitable[Message]] = self.bot.send_photo
        if as_document:
            send = partial(self.bot.send_document, filename=filename)
        await self._send_once(
            generation,
            lambda: send(
                chat_id,
                data,
                caption=text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
                reply_parameters=self._reply_to(generation),
                message_thread_id=topic(generation),
                rate_limit_args=PICTURE,
            ),
        )

    async def _deliver_text(self, generation: Generation, text: str) -> None:
        """A result that is words (a /describe): the status reply becomes it, or a new
        message replies to the command (marked first, like a picture's fallback)."""
        chat_id = int(generation.chat_id)
        keyboard = self.keyboard(generation)
        message_id = TelegramHandle.of(generation.handle).status_message_id
        if message_id is not None:
            self.status.close(chat_id, message_id)
            edit = self.bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
                rate_limit_args=PICTURE,
            )
            if await _edited(edit) is not None:
                return
        await self._send_once(
            generation,
            lambda: self.bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
                reply_parameters=self._reply_to(generation),
                message_thread_id=topic(generation),
                rate_limit_args=PICTURE,
            ),
        )

    async def _send_once(
        self, generation: Generation, send: Callable[[], Awaitable[Message]]
    ) -> None:
        """The fallback that sends a new message: marked first, so a crash cannot send twice."""
        # Set-if-unset in one statement: of two processes (or a retry after a crash), one sends.
        if not await self.handles.claim_handle_key(generation.id, FALLBACK_MARKER, time.time()):
            log.info("generation %s: fallback already sent before a restart", generation.id)
            return
        try:
            sent = await send()
        except TelegramError:
            # Not sent: clear the marker so the next attempt may send.
            await self.handles.update_handle(generation.id, TelegramHandle(fallback_sent_at=None))
            raise
        await self._record(generation, sent.message_id)
        await self._remember_file(generation, sent)

    async def _remember_file(self, generation: Generation, message: object) -> None:
        """The photo's file_id, so inline mode can offer it again (an empty query, Share)."""
        if isinstance(message, Message) and message.photo:
            file_id = message.photo[-1].file_id
            await self.handles.update_handle(generation.id, TelegramHandle(photo_file_id=file_id))

    async def _record(self, generation: Generation, message_id: int) -> None:
        """The new message is the result's: its buttons act on it, and Delete removes it."""
        await self.handles.update_handle(
            generation.id, TelegramHandle(picture_message_id=message_id)
        )

    @staticmethod
    def _reply_to(generation: Generation) -> ReplyParameters | None:
        if generation.reply_to_message_id is None or moved_request(generation):
            return None
        return ReplyParameters(
            message_id=int(generation.reply_to_message_id), allow_sending_without_reply=True
        )

    async def report_failure(self, generation: Generation) -> None:
        if self.inline is not None and inline_message(generation) is not None:
            await self.inline.report_failure(generation)
            return
        try:
            await self._report_failure(generation)
        except ChatMigrated as exc:
            await self._report_failure(await self.moves.follow(generation, exc.new_chat_id))

    async def _report_failure(self, generation: Generation) -> None:
        reason = failure_text(generation.failure_code, generation.failure_reason)
        text = error_words(reason, generation.locale)
        chat_id = int(generation.chat_id)
        self._settled(generation)
        message_id = TelegramHandle.of(generation.handle).status_message_id
        if message_id is not None:
            try:
                await self.status.show_now(chat_id, message_id, text)
                return
            except BadRequest:
                pass
        await self.bot.send_message(
            chat_id,
            text,
            parse_mode=ParseMode.HTML,
            reply_parameters=self._reply_to(generation),
            message_thread_id=topic(generation),
        )
