"""TelegramAdapter: builds the python-telegram-bot application and its parts, connects,
and stops.

It is handed the core's service, the port where a request's delivery handle is kept
(bot/core/ports.py) and the web gallery's links (None without a gallery). The parts take only the collaborators they use: the commands and
buttons the service, the answers and the intake; the delivery the bot, the status editor,
the group boards, the style catalogue and the handles.
"""

from __future__ import annotations

import logging
from collections import deque
from pathlib import Path

from telegram import Bot, Update
from telegram.error import BadRequest, Conflict, InvalidToken, NetworkError
from telegram.ext import Application, ApplicationHandlerStop, ExtBot, TypeHandler

from bot.adapters.telegram.answers import Answers
from bot.adapters.telegram.board import GroupBoards
from bot.adapters.telegram.buttons import Buttons
from bot.adapters.telegram.chat_changes import ChatMoves, Membership
from bot.adapters.telegram.chat_rights import ChatRights
from bot.adapters.telegram.command_list import set_command_lists
from bot.adapters.telegram.commands import Commands
from bot.adapters.telegram.community_styles import StyleCommands
from bot.adapters.telegram.flood import REPLY, STATUS, FloodLimiter, OverBudget, Spend
from bot.adapters.telegram.inline import InlineMode
from bot.adapters.telegram.inline_results import InlineResults
from bot.adapters.telegram.intake import Intake
from bot.adapters.telegram.liveness import PollLiveness, TrackedPollRequest
from bot.adapters.telegram.picture_requests import PictureRequests
from bot.adapters.telegram.pictures import PictureDownloads
from bot.adapters.telegram.polling import LeasedPolling
from bot.adapters.telegram.refusals import RefusalGate
from bot.adapters.telegram.result_channel import TelegramDelivery
from bot.adapters.telegram.status import StatusEditor
from bot.adapters.telegram.texts import Texts
from bot.adapters.telegram.transport import AiohttpRequest
from bot.adapters.telegram.updates import AcknowledgementsFirst
from bot.adapters.telegram.web_edits import BrushButtons, TelegramEditDesk
from bot.adapters.telegram.webhook import WebhookServer, webhook_secret
from bot.core.language import CATALOGUES
from bot.core.models import Generation, StatusUpdate
from bot.core.ports import DeliveryHandles, Lease, OnceOnly
from bot.core.requests.service import GenerationService
from bot.settings import ConfigError, Settings
from bot.startup import StartupError, host_of
from bot.web.access import GalleryAccess
from bot.web.links import EditorLinks

log = logging.getLogger(__name__)

PLATFORM = "telegram"
STATUS_EDIT_INTERVAL = 1.5  # seconds between status edits of one message
STATUS_GRACE = 1.0  # no status edit this soon after the reply: most requests are done by then
STATUS_EDITS_PER_SECOND = 10  # per process, over every chat: a third of Telegram's 30 a second
POLL_TIMEOUT = 10  # seconds one long poll (getUpdates) may wait for updates
# The updates the bot handles, given on every getUpdates and setWebhook: Telegram keeps
# whatever an earlier run set when the list is omitted, and sends `chat_member` only when it
# is listed. Edits arrive (and are ignored on purpose), so a change of rules never surprises.
ALLOWED_UPDATES = [
    "message",
    "edited_message",
    "callback_query",
    "inline_query",
    "chosen_inline_result",
    "my_chat_member",
    "chat_member",
]


def flood_limiter(settings: Settings) -> FloodLimiter:
    return FloodLimiter(
        overall_per_second=settings.telegram_overall_rate,
        group_per_minute=settings.telegram_group_rate,
        group_period=settings.telegram_group_period_seconds,
        max_retries=3,
    )


def answers_for(settings: Settings, service: GenerationService) -> Answers:
    """Answers in the reader's language: the asker's, or the community's for what all read."""
    gate = RefusalGate(settings.telegram_refusal_quiet_seconds)
    return Answers(gate, service.locale, service.community_locale)


def picture_downloads(bot: Bot, settings: Settings) -> PictureDownloads:
    return PictureDownloads(
        bot,
        int(settings.max_input_image_mb * 1_000_000),
        local_dir=settings.telegram_local_files_dir,
    )


class TelegramAdapter:
    platform = PLATFORM

    def __init__(
        self,
        settings: Settings,
        service: GenerationService,
        *,
        handles: DeliveryHandles,
        gallery: GalleryAccess | None = None,
        polling_lease: Lease | None = None,
        seen_updates: OnceOnly | None = None,
        editor: EditorLinks | None = None,
    ) -> None:
        if settings.telegram_token is None:
            raise ConfigError("TELEGRAM_TOKEN: not set")
        self.settings = settings
        self.limiter = flood_limiter(settings)
        self._seen_updates: deque[int] = deque(maxlen=2048)
        # Several bot processes: one polls at a time, and an update is handled once by all.
        self._polling_lease = polling_lease
        self._seen_everywhere = seen_updates
        self.poller: LeasedPolling | None = None
        self.poll_liveness = PollLiveness(POLL_TIMEOUT)
        # Long polling holds its connection for the whole poll: a session of its own. Kept
        # here to close them when the start fails (PTB only shuts down what it initialized).
        self._requests = (AiohttpRequest(connections=64), self._poll_request())
        builder = (
            Application.builder()
            .token(settings.telegram_token.get_secret_value())
            .concurrent_updates(AcknowledgementsFirst(service.acknowledgements))
            .request(self._requests[0])
            .get_updates_request(self._requests[1])
            .rate_limiter(self.limiter)
        )
        if settings.telegram_api_base:
            builder = builder.base_url(settings.telegram_api_base)
        if settings.telegram_file_base:
            builder = builder.base_file_url(settings.telegram_file_base)
        self.application = builder.build()
        self.texts = Texts(self.application.bot)
        self.boards = GroupBoards(self.limiter, self.texts.send, self.texts.edit)
        self.status = self._status_editor()
        self.moves = ChatMoves(service.move_chat, service.locale)
        self.delivery = self._delivery(service, handles)
        answers = answers_for(settings, service)
        self.rights = ChatRights(self.application.bot)
        intake = Intake(service, self.boards, self.status, answers, self.rights)
        # Webhook deliveries are retried by Telegram on errors: handle each update_id once.
        self.application.add_handler(TypeHandler(Update, self._drop_repeats), group=-1)
        self.downloads = picture_downloads(self.application.bot, settings)
        self.moves.register(self.application)
        InlineMode(service).register(self.application)  # before Buttons: inline presses
        Membership(service.cancel_scope, self.rights).register(self.application)
        PictureRequests(service, intake, self.downloads, handles).register(self.application)
        Commands(service, answers, intake, gallery).register(self.application)
        StyleCommands(service, answers, self.downloads).register(self.application)
        buttons = Buttons(service, answers, intake, handles)
        self.edit_desk = self._brush_editor(service, editor, buttons)
        self.application.add_error_handler(answers.on_error)
        self.application.add_error_handler(self.moves.on_error)
        self.connected = False
        self.webhook: WebhookServer | None = None

    def _brush_editor(
        self, service: GenerationService, editor: EditorLinks | None, buttons: Buttons
    ) -> TelegramEditDesk | None:
        """The presses (`buttons`, registered here) and the brush editor (web_edits.py): the
        🖌 link under pictures (also when the Edit menu gives the result's buttons back), and
        the desk the editor hands its edits to; only where the bot serves the editor and a
        provider can repaint."""
        buttons.register(self.application)
        buttons.edits.result_keyboard = self.delivery.keyboard
        if editor is None or not service.edit_offers.region:
            return None
        self.delivery.brush = BrushButtons(editor, self._username)
        return TelegramEditDesk(service, self.bot, self.status, self.rights)

    def _delivery(self, service: GenerationService, handles: DeliveryHandles) -> TelegramDelivery:
        """Results out: to chats, and to inline messages through `self.inline`."""
        bot, styles = self.application.bot, service.styles
        storage_chat = self.settings.telegram_inline_storage_chat
        self.inline = InlineResults(bot, styles, handles, storage_chat)
        return TelegramDelivery(
            bot, self.status, self.boards, styles, handles, self.moves, self.inline
        )

    def _poll_request(self) -> TrackedPollRequest:
        return TrackedPollRequest(self.poll_liveness, connections=2)

    def _status_editor(self) -> StatusEditor:
        """Status replies edited under the shared status throttle."""
        return StatusEditor(
            self._edit_status,
            final_edit=self._edit_final,
            grace=STATUS_GRACE,
            interval=STATUS_EDIT_INTERVAL,
            per_second=STATUS_EDITS_PER_SECOND,
        )

    @property
    def bot(self) -> ExtBot[Spend]:
        return self.application.bot

    def _username(self) -> str | None:
        """The bot's username (from getMe at start), for Mini App direct links."""
        try:
            return self.application.bot.username
        except RuntimeError:  # not initialized yet
            return None

    async def _drop_repeats(self, update: Update, _context: object) -> None:
        if update.update_id in self._seen_updates:
            raise ApplicationHandlerStop
        self._seen_updates.append(update.update_id)
        if self._seen_everywhere is not None:
            try:
                first = await self._seen_everywhere.first(f"update:{update.update_id}")
            except Exception:  # Redis away: this process's own memory still de-duplicates
                log.warning("update %d: not checked against other processes", update.update_id)
                return
            if not first:
                raise ApplicationHandlerStop

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
        self._check_inline_mode()
        await set_command_lists(self.bot, CATALOGUES)
        await self.application.start()
        updater = self.application.updater
        assert updater is not None
        if self.settings.telegram_webhook_url:
            self.webhook = WebhookServer(
                self.application, webhook_secret(self.settings), ALLOWED_UPDATES
            )
            await self.webhook.start(
                self.settings.telegram_webhook_listen,
                self.settings.telegram_webhook_port,
                self.settings.telegram_webhook_url,
            )
        elif self._polling_lease is not None:
            self.poller = LeasedPolling(
                self._polling_lease, start_polling=self._start_polling, stop_polling=updater.stop
            )
            await self.poller.start()
        else:
            await self._start_polling()
        self.connected = True
        # Telegram just answered getMe and setMyCommands; the first long poll may take its
        # full timeout to come back, and must not make a fresh start look unhealthy.
        self.poll_liveness.succeeded()
        log.info("connected to Telegram as @%s", self.bot.username)

    def _check_inline_mode(self) -> None:
        """getMe (run by `initialize`) says whether inline mode is on in BotFather; without it
        `@bot <prompt>` does nothing and results offer no Share button. Inline feedback (which
        sends `chosen_inline_result`) is not reported by the Bot API: the docs list both."""
        supported = bool(self.bot.bot.supports_inline_queries)
        self.inline.share = supported
        if not supported:
            log.warning(
                "inline mode is off for @%s: `@%s <prompt>` in other chats will not work and "
                "results have no Share button. Turn it on in @BotFather: /setinline, and "
                "/setinlinefeedback set to Enabled (see docs/telegram.md, Inline mode)",
                self.bot.username,
                self.bot.username,
            )

    async def _start_polling(self) -> None:
        updater = self.application.updater
        assert updater is not None
        await updater.start_polling(
            timeout=POLL_TIMEOUT, poll_interval=0.0, allowed_updates=ALLOWED_UPDATES
        )
        self.poll_liveness.succeeded()

    def healthy(self) -> bool:
        """Polling: the last getUpdates reached Telegram, recently. Webhook: the webhook
        server is up (whether Telegram reaches it is only visible to Telegram)."""
        updater = self.application.updater
        if self.poller is not None and self.connected and not self.poller.polling:
            return self.poller.alive  # waiting its turn to poll, delivering meanwhile
        if not self.connected or updater is None or not updater.running:
            return False
        return bool(self.settings.telegram_webhook_url) or self.poll_liveness.healthy()

    async def stop(self) -> None:
        self.connected = False
        await self.status.aclose()
        self.boards.close_all()
        if self.webhook is not None:
            await self.webhook.stop()
        if self.poller is not None:
            await self.poller.stop()
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()
        await self.downloads.close()
        for request in self._requests:  # idempotent; needed when initialize() failed
            await request.shutdown()

    # -- status edits: how this adapter edits a status reply ------------------------------------

    async def _edit_status(self, chat_id: int, message_id: int, text: str) -> None:
        """An intermediate status: spare budget only, and none in a busy group."""
        if self.boards.busy(chat_id):
            raise OverBudget
        await self.texts.edit(chat_id, message_id, text, STATUS)

    async def _edit_final(self, chat_id: int, message_id: int, text: str) -> None:
        await self.texts.edit(chat_id, message_id, text, REPLY)

    # -- ResultChannel: what the core calls with results -----------------------------------------

    async def show_status(self, generation: Generation, update: StatusUpdate) -> None:
        await self.delivery.show_status(generation, update)

    async def deliver(self, generation: Generation, image_path: Path) -> None:
        await self.delivery.deliver(generation, image_path)

    async def report_failure(self, generation: Generation) -> None:
        await self.delivery.report_failure(generation)
