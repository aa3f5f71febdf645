"""Results of inline requests: the placeholder inline message becomes the picture.

An inline message is edited by its `inline_message_id`, and the Bot API cannot upload a new
file there: `editMessageMedia` on an inline message takes only a `file_id` (or an HTTP(S) URL,
which would make the bot's files public). So the picture is first sent once to a chat the bot
can post in, and the `file_id` Telegram returns is what the inline message is edited with:

1. the chat named by `TELEGRAM_INLINE_STORAGE_CHAT` (an operator's private channel or group
   where the bot may post photos), or, unset, the requester's private chat with the bot (they
   keep a copy there; Telegram lets a bot write to a user only after the user has started it);
2. the `file_id` is kept in the row's delivery handle at once (`photo_file_id`), so a retry
   (a 429 on the edit, a restart) edits with it and never sends the picture again, and
   inline mode can offer the picture later as a cached photo (an empty query, Share);
3. `editMessageMedia(inline_message_id, file_id)` with the result's buttons; editing twice
   leaves one picture ("not modified" means an earlier attempt did it).

A crash between the send of step 1 and the record of step 2 sends one more copy to the
storage chat on the retry (never to the chat where the inline message is). When no chat takes
the picture (the user never started the bot and no storage chat is set), the delivery fails
with that reason in plain words, which the placeholder then shows; the row keeps the picture.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from telegram import InlineKeyboardMarkup, InputMediaDocument, InputMediaPhoto, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import ExtBot

from bot.adapters.telegram.delivery_handle import TelegramHandle
from bot.adapters.telegram.flood import PICTURE, Spend
from bot.adapters.telegram.images import Upload, for_result
from bot.adapters.telegram.render import caption, error_words
from bot.core.errors import DeliveryError, failure_text, failure_words
from bot.core.language import Text
from bot.core.models import Generation, Kind
from bot.core.ports import DeliveryHandles
from bot.core.requests.styles import StyleCatalogue

log = logging.getLogger(__name__)

NO_STORAGE = Text(
    "Telegram can only put a picture into an inline message once it was sent somewhere: open "
    "a chat with me and press Start once, then try again (your picture is in your history)"
)
NO_FILE = Text("Telegram returned no file for the picture")
failure_words(NO_STORAGE, NO_FILE)  # read back in the requester's language (bot/core/errors.py)


def inline_message(generation: Generation) -> str | None:
    return TelegramHandle.of(generation.handle).inline_message_id or None


def _file_id(message: Message, as_document: bool) -> str | None:
    if as_document:
        return message.document.file_id if message.document is not None else None
    return message.photo[-1].file_id if message.photo else None


class InlineResults:
    def __init__(
        self,
        bot: ExtBot[Spend],
        styles: StyleCatalogue,
        handles: DeliveryHandles,
        storage_chat: int | None,
    ) -> None:
        self.bot = bot
        self.styles = styles
        self.handles = handles
        self.storage_chat = storage_chat
        self.share = False  # whether results offer Share (inline mode is on)

    async def deliver(
        self, generation: Generation, image_path: Path, keyboard: InlineKeyboardMarkup
    ) -> None:
        inline_id = inline_message(generation)
        assert inline_id is not None
        upload = await asyncio.to_thread(
            lambda: for_result(image_path.read_bytes(), full_size=generation.kind is Kind.UPSCALE)
        )
        style = self.styles.find(generation.style)
        text = caption(generation, style, reduced=upload.reduced, locale=generation.locale)
        kept = TelegramHandle.of(generation.handle)
        file_id = kept.document_file_id if upload.as_document else kept.photo_file_id
        try:
            if file_id is None:
                file_id = await self._store_file(generation, upload, text)
            media: InputMediaPhoto | InputMediaDocument = (
                InputMediaDocument(file_id, caption=text, parse_mode=ParseMode.HTML)
                if upload.as_document
                else InputMediaPhoto(file_id, caption=text, parse_mode=ParseMode.HTML)
            )
            await self.bot.edit_message_media(
                media, inline_message_id=inline_id, reply_markup=keyboard, rate_limit_args=PICTURE
            )
        except BadRequest as exc:  # the rest (TelegramError) the caller sorts into retry or not
            if "not modified" not in exc.message.lower():
                raise
            # already shows the picture: delivered before a crash

    async def _store_file(self, generation: Generation, upload: Upload, text: str) -> str:
        """Send the picture where the bot may post, for the file_id (see the module doc)."""
        chat = self.storage_chat if self.storage_chat is not None else int(generation.chat_id)
        try:
            if upload.as_document:
                sent = await self.bot.send_document(
                    chat,
                    upload.data,
                    filename=f"{generation.id}.{upload.extension}",
                    caption=text,
                    parse_mode=ParseMode.HTML,
                    rate_limit_args=PICTURE,
                )
            else:
                sent = await self.bot.send_photo(
                    chat,
                    upload.data,
                    caption=text,
                    parse_mode=ParseMode.HTML,
                    rate_limit_args=PICTURE,
                )
        except (Forbidden, BadRequest) as exc:
            # Blocked, or never started: Telegram has no chat with this user for the bot.
            unreachable = isinstance(exc, Forbidden) or "chat not found" in exc.message.lower()
            if self.storage_chat is None and unreachable:
                raise DeliveryError(NO_STORAGE, retryable=False) from exc
            raise
        file_id = _file_id(sent, upload.as_document)
        if file_id is None:
            raise DeliveryError(NO_FILE, retryable=True)
        kept = (
            TelegramHandle(document_file_id=file_id)
            if upload.as_document
            else TelegramHandle(photo_file_id=file_id)
        )
        await self.handles.update_handle(generation.id, kept)
        log.info("generation %s: picture stored for its inline message", generation.id)
        return file_id

    async def report_failure(self, generation: Generation) -> None:
        inline_id = inline_message(generation)
        assert inline_id is not None
        reason = failure_text(generation.failure_code, generation.failure_reason)
        text = error_words(reason, generation.locale)
        try:
            await self.bot.edit_message_text(
                text, inline_message_id=inline_id, parse_mode=ParseMode.HTML
            )
        except BadRequest:  # a follow-up's failure: the message shows a picture, with a caption
            try:
                await self.bot.edit_message_caption(
                    inline_message_id=inline_id, caption=text[:1000], parse_mode=ParseMode.HTML
                )
            except BadRequest as exc:
                log.info("generation %s: failure not shown inline: %s", generation.id, exc)
