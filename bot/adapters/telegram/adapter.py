"""TelegramAdapter: the python-telegram-bot application, and delivery of results."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from datetime import timedelta
from pathlib import Path

from telegram import Bot, InputMediaPhoto, ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.adapters.telegram.handlers import register_handlers
from bot.adapters.telegram.images import fit_for_telegram
from bot.adapters.telegram.render import COMMANDS, caption, error_text, result_keyboard, status_text
from bot.adapters.telegram.status import StatusEditor
from bot.adapters.telegram.transport import AiohttpRequest, SendLimiter
from bot.bootstrap import BotApp
from bot.core.errors import DeliveryError
from bot.core.models import Generation, Status, StatusUpdate
from bot.settings import ConfigError, Settings

log = logging.getLogger(__name__)

PLATFORM = "telegram"
STATUS_EDIT_INTERVAL = 1.5  # seconds between status edits of one message
STATUS_GRACE = 1.0  # no status edit this soon after the reply: most requests are done by then
PRIVATE_CHAT_INTERVAL = 1.0  # Telegram: about one message per second per private chat
FALLBACK_MARKER = "fallback_sent_at"
# Bot API answers that mean "this message cannot become a photo": send a new one instead.
CANNOT_EDIT = (
    "there is no media",
    "message to edit not found",
    "message_id_invalid",
    "message can't be edited",
)


def seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def delivery_error(exc: TelegramError) -> DeliveryError:
    """Sort Telegram's answers into retry-later and give-up, with a reason for the history."""
    if isinstance(exc, RetryAfter):
        return DeliveryError(
            "Telegram asked us to slow down", retryable=True, retry_after=seconds(exc.retry_after)
        )
    if isinstance(exc, Forbidden):
        return DeliveryError("the bot may not post in this chat any more", retryable=False)
    if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
        return DeliveryError(f"Telegram did not answer ({exc.__class__.__name__})", retryable=True)
    return DeliveryError(f"Telegram refused the picture ({exc.message})", retryable=False)


class ChatPacer:
    """Our own spacing of sends to one private chat (AIORateLimiter covers groups and overall)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next: dict[int, float] = {}

    async def wait(self, chat_id: int, private: bool) -> None:
        if not private:
            return
        now = time.monotonic()
        start = max(now, self._next.get(chat_id, 0.0))
        self._next[chat_id] = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)
        if len(self._next) > 10_000:  # forget chats that went quiet
            self._next = {k: v for k, v in self._next.items() if v > now}


class TelegramAdapter:
    platform = PLATFORM

    def __init__(self, settings: Settings, app: BotApp) -> None:
        if settings.telegram_token is None:
            raise ConfigError("TELEGRAM_TOKEN: not set")
        self.settings = settings
        self.app = app
        self.pacer = ChatPacer(PRIVATE_CHAT_INTERVAL)
        self.status = StatusEditor(
            self._edit_text, grace=STATUS_GRACE, interval=STATUS_EDIT_INTERVAL
        )
        self._seen_updates: deque[int] = deque(maxlen=2048)
        # Long polling holds its connection for the whole poll: a session of its own.
        self._requests = (AiohttpRequest(connections=64), AiohttpRequest(connections=2))
        builder = (
            Application.builder()
            .token(settings.telegram_token.get_secret_value())
            .concurrent_updates(True)
            .request(self._requests[0])
            .get_updates_request(self._requests[1])
            .rate_limiter(
                SendLimiter(
                    overall_per_second=settings.telegram_overall_rate,
                    group_per_minute=settings.telegram_group_rate,
                    max_retries=3,
                )
            )
        )
        if settings.telegram_api_base:
            builder = builder.base_url(settings.telegram_api_base)
        if settings.telegram_file_base:
            builder = builder.base_file_url(settings.telegram_file_base)
        self.application = builder.build()
        # Webhook deliveries are retried by Telegram on errors: handle each update_id once.
        self.application.add_handler(TypeHandler(Update, self._drop_repeats), group=-1)
        register_handlers(self.application, self)
        self.connected = False

    @property
    def bot(self) -> Bot:
        return self.application.bot

    async def _drop_repeats(self, update: Update, _context: object) -> None:
        if update.update_id in self._seen_updates:
            raise ApplicationHandlerStop
        self._seen_updates.append(update.update_id)

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self.application.initialize()
        except InvalidToken:
            for request in self._requests:  # opened by initialize(), which gave up
                await request.shutdown()
            # PTB's own message quotes the whole token; this one names the setting instead.
            raise ConfigError(
                "TELEGRAM_TOKEN: Telegram rejected the token (401 Unauthorized); "
                "copy it again from @BotFather"
            ) from None
        await self.bot.set_my_commands(COMMANDS)
        await self.application.start()
        updater = self.application.updater
        assert updater is not None
        if self.settings.telegram_webhook_url:
            secret = self.settings.telegram_webhook_secret
            await updater.start_webhook(
                listen=self.settings.telegram_webhook_listen,
                port=self.settings.telegram_webhook_port,
                url_path="telegram",
                webhook_url=self.settings.telegram_webhook_url,
                secret_token=secret.get_secret_value() if secret else None,
            )
        else:
            await updater.start_polling(timeout=10, poll_interval=0.0)
        self.connected = True
        log.info("connected to Telegram as @%s", self.bot.username)

    async def stop(self) -> None:
        self.connected = False
        self.status.close_all()
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    # -- sending helpers ------------------------------------------------------------------------

    async def _edit_text(self, chat_id: int, message_id: int, text: str) -> None:
        try:
            await self.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML
            )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise

    # -- ResultChannel --------------------------------------------------------------------------

    async def show_status(self, generation: Generation, update: StatusUpdate) -> None:
        message_id = generation.handle.get("status_message_id")
        if not isinstance(message_id, int) or update.status is not Status.RUNNING:
            return
        await self.status.show(int(generation.chat_id), message_id, status_text(update))

    async def deliver(self, generation: Generation, image_path: Path) -> None:
        chat_id = int(generation.chat_id)
        style = self.app.service.styles.find(generation.style)
        text = caption(generation, style)
        keyboard = result_keyboard(generation.id)
        data, as_document = await asyncio.to_thread(
            lambda: fit_for_telegram(image_path.read_bytes())
        )
        message_id = generation.handle.get("status_message_id")
        if isinstance(message_id, int):
            self.status.close(chat_id, message_id)
        try:
            if isinstance(message_id, int) and not as_document:
                try:
                    await self.bot.edit_message_media(
                        InputMediaPhoto(data, caption=text, parse_mode=ParseMode.HTML),
                        chat_id=chat_id,
                        message_id=message_id,
                        reply_markup=keyboard,
                    )
                    return
                except BadRequest as exc:
                    reason = exc.message.lower()
                    if "not modified" in reason:
                        return  # already shows the picture: delivered before a crash
                    if not any(marker in reason for marker in CANNOT_EDIT):
                        raise
                    log.info(
                        "generation %s: status message cannot become a photo; sending one",
                        generation.id,
                    )
            await self._send_new(generation, data, text, as_document=as_document)
        except TelegramError as exc:
            raise delivery_error(exc) from exc

    async def _send_new(
        self, generation: Generation, data: bytes, text: str, *, as_document: bool
    ) -> None:
        """The fallback that sends a new message: marked first, so a crash cannot send twice."""
        if generation.handle.get(FALLBACK_MARKER):
            log.info("generation %s: fallback already sent before a restart", generation.id)
            return
        await self.app.store.update_handle(generation.id, {FALLBACK_MARKER: time.time()})
        chat_id = int(generation.chat_id)
        reply = self._reply_to(generation)
        await self.pacer.wait(chat_id, generation.scope_id.startswith("dm:"))
        try:
            if as_document:
                await self.bot.send_document(
                    chat_id,
                    data,
                    filename=f"{generation.id}.png",
                    caption=text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=result_keyboard(generation.id),
                    reply_parameters=reply,
                    message_thread_id=int(generation.thread_id) if generation.thread_id else None,
                )
            else:
                await self.bot.send_photo(
                    chat_id,
                    data,
                    caption=text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=result_keyboard(generation.id),
                    reply_parameters=reply,
                    message_thread_id=int(generation.thread_id) if generation.thread_id else None,
                )
        except TelegramError:
            # Not sent: clear the marker so the next attempt may send.
            await self.app.store.update_handle(generation.id, {FALLBACK_MARKER: None})
            raise

    @staticmethod
    def _reply_to(generation: Generation) -> ReplyParameters | None:
        if generation.reply_to_message_id is None:
            return None
        return ReplyParameters(
            message_id=int(generation.reply_to_message_id), allow_sending_without_reply=True
        )

    async def report_failure(self, generation: Generation) -> None:
        text = error_text(generation.failure_reason or "The picture could not be made.")
        chat_id = int(generation.chat_id)
        message_id = generation.handle.get("status_message_id")
        if isinstance(message_id, int):
            try:
                await self.status.show_now(chat_id, message_id, text)
                return
            except BadRequest:
                pass
        await self.pacer.wait(chat_id, generation.scope_id.startswith("dm:"))
        await self.bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, reply_parameters=self._reply_to(generation)
        )
