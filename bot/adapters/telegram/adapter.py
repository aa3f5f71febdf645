"""TelegramAdapter: the python-telegram-bot application, and delivery of results."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from datetime import timedelta
from pathlib import Path

from telegram import InputMediaPhoto, Message, ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationHandlerStop, ExtBot, TypeHandler

from bot.adapters.telegram.board import GroupBoards
from bot.adapters.telegram.flood import PICTURE, REPLY, STATUS, FloodLimiter, OverBudget, Spend
from bot.adapters.telegram.handlers import QUEUED, register_handlers
from bot.adapters.telegram.images import fit_for_telegram
from bot.adapters.telegram.liveness import PollLiveness, TrackedPollRequest
from bot.adapters.telegram.refusals import RefusalGate
from bot.adapters.telegram.render import COMMANDS, caption, error_text, result_keyboard, status_text
from bot.adapters.telegram.status import StatusEditor
from bot.adapters.telegram.transport import AiohttpRequest
from bot.adapters.telegram.webhook import WebhookServer, webhook_secret
from bot.bootstrap import BotApp
from bot.core.errors import DeliveryError
from bot.core.models import Generation, Status, StatusUpdate
from bot.settings import ConfigError, Settings
from bot.startup import StartupError, host_of

log = logging.getLogger(__name__)

PLATFORM = "telegram"
STATUS_EDIT_INTERVAL = 1.5  # seconds between status edits of one message
STATUS_GRACE = 1.0  # no status edit this soon after the reply: most requests are done by then
POLL_TIMEOUT = 10  # seconds one long poll (getUpdates) may wait for updates
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


class TelegramAdapter:
    platform = PLATFORM

    def __init__(self, settings: Settings, app: BotApp) -> None:
        if settings.telegram_token is None:
            raise ConfigError("TELEGRAM_TOKEN: not set")
        self.settings = settings
        self.app = app
        self.limiter = FloodLimiter(
            overall_per_second=settings.telegram_overall_rate,
            group_per_minute=settings.telegram_group_rate,
            group_period=settings.telegram_group_period_seconds,
            max_retries=3,
        )
        self.boards = GroupBoards(self.limiter, self._send_text, self._edit_text)
        self.status = StatusEditor(
            self._edit_status,
            final_edit=self._edit_final,
            grace=STATUS_GRACE,
            interval=STATUS_EDIT_INTERVAL,
        )
        self._seen_updates: deque[int] = deque(maxlen=2048)
        self.poll_liveness = PollLiveness(POLL_TIMEOUT)
        # Long polling holds its connection for the whole poll: a session of its own. Kept
        # here to close them when the start fails (PTB only shuts down what it initialized).
        self._requests = (
            AiohttpRequest(connections=64),
            TrackedPollRequest(self.poll_liveness, connections=2),
        )
        builder = (
            Application.builder()
            .token(settings.telegram_token.get_secret_value())
            .concurrent_updates(True)
            .request(self._requests[0])
            .get_updates_request(self._requests[1])
            .rate_limiter(self.limiter)
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
        self.webhook: WebhookServer | None = None
        self.refusals = RefusalGate(settings.telegram_refusal_quiet_seconds)

    @property
    def bot(self) -> ExtBot[Spend]:
        return self.application.bot

    async def _drop_repeats(self, update: Update, _context: object) -> None:
        if update.update_id in self._seen_updates:
            raise ApplicationHandlerStop
        self._seen_updates.append(update.update_id)

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self._start()
        except InvalidToken:
            # PTB's own message quotes the whole token; this one names the setting instead.
            raise ConfigError(
                "TELEGRAM_TOKEN: Telegram rejected the token (401 Unauthorized); "
                "copy it again from @BotFather"
            ) from None
        except Conflict:
            raise ConfigError(
                "another process is already reading this bot's updates (Telegram: Conflict); "
                "stop it, or give this one its own TELEGRAM_TOKEN"
            ) from None
        except NetworkError as exc:  # TimedOut too; BadRequest is a NetworkError in PTB
            if isinstance(exc, BadRequest):
                raise ConfigError(
                    f"Telegram refused the start-up ({exc.message}); check TELEGRAM_WEBHOOK_URL "
                    "and TELEGRAM_WEBHOOK_SECRET if you set them"
                ) from None
            where = host_of(self.settings.telegram_api_base, "api.telegram.org")
            raise StartupError(
                f"Telegram did not answer at {where}; check the network, or TELEGRAM_API_BASE "
                "if you set it"
            ) from None
        except OSError as exc:  # the webhook server could not listen
            raise ConfigError(
                f"cannot listen on {self.settings.telegram_webhook_listen}:"
                f"{self.settings.telegram_webhook_port} ({exc.strerror or exc}); set another "
                "TELEGRAM_WEBHOOK_PORT or TELEGRAM_WEBHOOK_LISTEN"
            ) from None

    async def _start(self) -> None:
        await self.application.initialize()
        await self.bot.set_my_commands(COMMANDS)
        await self.application.start()
        updater = self.application.updater
        assert updater is not None
        if self.settings.telegram_webhook_url:
            self.webhook = WebhookServer(self.application, webhook_secret(self.settings))
            await self.webhook.start(
                self.settings.telegram_webhook_listen,
                self.settings.telegram_webhook_port,
                self.settings.telegram_webhook_url,
            )
        else:
            await updater.start_polling(timeout=POLL_TIMEOUT, poll_interval=0.0)
        self.connected = True
        # Telegram just answered getMe and setMyCommands; the first long poll may take its
        # full timeout to come back, and must not make a fresh start look unhealthy.
        self.poll_liveness.succeeded()
        log.info("connected to Telegram as @%s", self.bot.username)

    def healthy(self) -> bool:
        """Polling: the last getUpdates reached Telegram, recently. Webhook: the webhook
        server is up (whether Telegram reaches it is only visible to Telegram)."""
        updater = self.application.updater
        if not self.connected or updater is None or not updater.running:
            return False
        return bool(self.settings.telegram_webhook_url) or self.poll_liveness.healthy()

    async def stop(self) -> None:
        self.connected = False
        self.status.close_all()
        self.boards.close_all()
        if self.webhook is not None:
            await self.webhook.stop()
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()
        for request in self._requests:  # idempotent; needed when initialize() failed
            await request.shutdown()

    # -- sending helpers ------------------------------------------------------------------------

    async def _send_text(self, chat_id: int, text: str) -> int:
        message = await self.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
        return message.message_id

    async def _edit_text(self, chat_id: int, message_id: int, text: str, spend: Spend) -> None:
        try:
            await self.bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                rate_limit_args=spend,
            )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise

    async def _edit_status(self, chat_id: int, message_id: int, text: str) -> None:
        """An intermediate status: spare budget only, and none in a busy group."""
        if self.boards.busy(chat_id):
            raise OverBudget
        await self._edit_text(chat_id, message_id, text, STATUS)

    async def _edit_final(self, chat_id: int, message_id: int, text: str) -> None:
        await self._edit_text(chat_id, message_id, text, REPLY)

    async def acknowledge(self, anchor: Message, name: str, prompt: str) -> int | None:
        """A status reply to the command (its message id), or, in a busy group, a line on the
        group's board (None)."""
        chat_id = anchor.chat_id
        if self.boards.busy(chat_id):
            await self.boards.fold(chat_id, anchor.message_id, name, prompt)
            return None
        # Owed from now: requests acknowledged at the same moment must count each other.
        self.boards.owe(chat_id, anchor.message_id)
        try:
            status = await anchor.reply_text(QUEUED, parse_mode=ParseMode.HTML, do_quote=True)
        except BaseException:
            self.boards.settle(chat_id, anchor.message_id)
            raise
        self.status.track(chat_id, status.message_id, QUEUED)
        return status.message_id

    def _settled(self, generation: Generation) -> None:
        command = generation.reply_to_message_id
        if command is not None and command.isdigit():
            self.boards.settle(int(generation.chat_id), int(command))

    # -- ResultChannel --------------------------------------------------------------------------

    async def show_status(self, generation: Generation, update: StatusUpdate) -> None:
        if update.status is not Status.RUNNING:
            return
        message_id = generation.handle.get("status_message_id")
        if not isinstance(message_id, int):
            command = generation.reply_to_message_id
            if command is not None and command.isdigit():
                self.boards.generating(int(generation.chat_id), int(command))
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
                        rate_limit_args=PICTURE,
                    )
                    self._settled(generation)
                    return
                except BadRequest as exc:
                    reason = exc.message.lower()
                    if "not modified" in reason:
                        self._settled(generation)
                        return  # already shows the picture: delivered before a crash
                    if not any(marker in reason for marker in CANNOT_EDIT):
                        raise
                    log.info(
                        "generation %s: status message cannot become a photo; sending one",
                        generation.id,
                    )
            await self._send_new(generation, data, text, as_document=as_document)
            self._settled(generation)
        except TelegramError as exc:
            error = delivery_error(exc)
            if not error.retryable:
                self._settled(generation)
            raise error from exc

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
                    rate_limit_args=PICTURE,
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
                    rate_limit_args=PICTURE,
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
        self._settled(generation)
        message_id = generation.handle.get("status_message_id")
        if isinstance(message_id, int):
            try:
                await self.status.show_now(chat_id, message_id, text)
                return
            except BadRequest:
                pass
        await self.bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, reply_parameters=self._reply_to(generation)
        )
