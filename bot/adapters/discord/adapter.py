"""DiscordAdapter: builds the discord.py client and its parts, connects, and stops.

It is handed the core's service, two ports (bot/core/ports.py): where a request's
delivery handle is kept and where the slash-command sync record is kept, and the web
gallery's links (None without a gallery). The parts take
only the collaborators they use: commands and buttons the service and the intake, the
delivery the client, the status throttle, the style catalogue and the handles.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot.adapters.discord.attachments import AttachmentFetcher
from bot.adapters.discord.buttons import Buttons
from bot.adapters.discord.client import ClientHooks, build_client, configure_endpoints
from bot.adapters.discord.commands import register_commands
from bot.adapters.discord.identity import PLATFORM
from bot.adapters.discord.intake import Intake
from bot.adapters.discord.liveness import GatewayLiveness
from bot.adapters.discord.result_channel import DiscordDelivery
from bot.adapters.discord.sync import sync_commands
from bot.adapters.discord.translator import CatalogueTranslator
from bot.adapters.discord.web_edits import DiscordEditDesk
from bot.core.delivery.status_throttle import StatusThrottle
from bot.core.errors import english, failure_words
from bot.core.language import CATALOGUES, Text
from bot.core.models import Generation, Scope, StatusUpdate
from bot.core.ports import DeliveryHandles, SyncState
from bot.settings import ConfigError, Settings
from bot.startup import StartupError, host_of
from bot.web.access import GalleryAccess
from bot.web.links import EditorLinks

if TYPE_CHECKING:
    from bot.core.requests.service import GenerationService

log = logging.getLogger(__name__)

REMOVED_FROM_SERVER = Text(
    "The bot was removed from this server before the picture was made; nothing more was spent."
)
failure_words(REMOVED_FROM_SERVER)  # the row keeps the English; readers get their language

STATUS_EDIT_INTERVAL = 1.5  # seconds between status edits of one acknowledgement
STATUS_EDITS_PER_SECOND = 10  # per process: each costs CPU, and in a burst it is the acks' CPU
READY_TIMEOUT = 60.0
LOGIN_TIMEOUT = 30.0  # discord.py's HTTP client has no timeout of its own


class DiscordAdapter:
    platform = PLATFORM

    def __init__(
        self,
        settings: Settings,
        service: GenerationService,
        *,
        handles: DeliveryHandles,
        sync_state: SyncState,
        gallery: GalleryAccess | None = None,
        editor: EditorLinks | None = None,
    ) -> None:
        if settings.discord_token is None:
            raise ConfigError("DISCORD_TOKEN: not set")
        self.settings = settings
        self._sync_state = sync_state
        self.status: StatusThrottle[str] = StatusThrottle(
            interval=STATUS_EDIT_INTERVAL, per_second=STATUS_EDITS_PER_SECOND
        )
        self.liveness = GatewayLiveness()
        configure_endpoints(settings)
        self.client = build_client(
            settings,
            ClientHooks(
                setup=self.setup,
                interaction=self._route,
                liveness=self.liveness,
                removed=self._removed,
            ),
        )
        fetcher = AttachmentFetcher(self.client, settings)
        self._service = service
        self.intake = Intake(self.client, service, self.status, fetcher)
        # The brush editor (web_edits.py): only where the bot serves it and can repaint.
        editing = editor if editor is not None and service.edit_offers.region else None
        self.buttons = Buttons(service, self.intake, editing)
        self.delivery = DiscordDelivery(
            self.client, self.status, service.styles, handles, has_gallery=gallery is not None
        )
        self.delivery.brush = editing is not None
        self.edit_desk = DiscordEditDesk(service) if editing is not None else None
        register_commands(self.client.tree, service, self.intake, gallery)
        self._runner: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    async def setup(self) -> None:
        """Called by discord.py after login, before the gateway connects."""
        application_id = self.client.application_id
        assert application_id is not None
        # Native command names and descriptions (translator.py): part of what sync compares.
        await self.client.tree.set_translator(CatalogueTranslator(CATALOGUES))
        await sync_commands(
            self.client.tree, self._sync_state, application_id, self.settings.discord_guild_id
        )

    async def _route(self, interaction: discord.Interaction) -> None:
        await self.buttons.route(interaction)

    async def _removed(self, guild_id: int) -> None:
        """Removed from a server: its waiting requests would only spend provider calls."""
        scope = Scope(platform=PLATFORM, id=str(guild_id))
        await self._service.cancel_scope(scope, english(REMOVED_FROM_SERVER))

    async def start(self) -> None:
        try:
            await self._start()
        except (ConfigError, StartupError):
            raise
        except discord.LoginFailure:
            raise ConfigError(
                "Discord refused DISCORD_TOKEN; set it to the bot token from the Developer "
                "Portal (Bot, Reset Token)"
            ) from None
        except discord.PrivilegedIntentsRequired:
            raise ConfigError(
                "Discord refused the gateway intents this bot asked for; check the bot's "
                "Privileged Gateway Intents in the Developer Portal"
            ) from None
        except discord.ConnectionClosed as exc:
            if exc.code == 4004:  # the gateway's "authentication failed"
                raise ConfigError("Discord refused DISCORD_TOKEN at the gateway") from None
            raise StartupError(
                f"Discord closed the gateway connection (code {exc.code}); "
                "try again later, or check DISCORD_GATEWAY_URL if you set it"
            ) from None
        except discord.HTTPException as exc:
            raise StartupError(
                f"Discord answered HTTP {exc.status} at start-up; try again later, or check "
                "DISCORD_API_BASE if you set it"
            ) from None
        except (OSError, aiohttp.ClientError, TimeoutError, discord.GatewayNotFound):
            where = host_of(self.settings.discord_api_base, "discord.com")
            raise StartupError(
                f"Discord did not answer at {where}; check the network, or DISCORD_API_BASE "
                "and DISCORD_GATEWAY_URL if you set them"
            ) from None

    async def _start(self) -> None:
        assert self.settings.discord_token is not None
        await asyncio.wait_for(
            self.client.login(self.settings.discord_token.get_secret_value()), LOGIN_TIMEOUT
        )
        self._runner = asyncio.create_task(self._run(), name="discord-gateway")
        ready = asyncio.create_task(self.client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, self._runner}, timeout=READY_TIMEOUT, return_when="FIRST_COMPLETED"
        )
        if ready not in done:
            ready.cancel()
            if self._runner in done:
                self._runner.result()  # raises the connection error
            raise StartupError(
                f"Discord did not say the bot is ready within {READY_TIMEOUT:.0f}s; check the "
                "network, or DISCORD_GATEWAY_URL if you set it"
            )
        log.info("connected to Discord as %s", self.client.user)

    async def _run(self) -> None:
        await self.client.connect(reconnect=True)

    def healthy(self) -> bool:
        """Gateway connected and READY (every shard, for a sharded client)."""
        return self.liveness.healthy(self.client)

    async def stop(self) -> None:
        await self.intake.aclose()
        await self.status.aclose()
        await self.client.close()
        if self._runner is not None:
            self._runner.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self._runner

    # -- ResultChannel: what the core calls with results -----------------------------------------

    async def show_status(self, generation: Generation, update: StatusUpdate) -> None:
        await self.delivery.show_status(generation, update)

    async def deliver(self, generation: Generation, image_path: Path) -> None:
        await self.delivery.deliver(generation, image_path)

    async def report_failure(self, generation: Generation) -> None:
        await self.delivery.report_failure(generation)
