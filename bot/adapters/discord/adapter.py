"""DiscordAdapter: connects the discord.py client to the core and posts results."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from contextlib import suppress
from pathlib import Path

import aiohttp
import discord

from bot.adapters.discord.client import build_client, configure_endpoints, sync_commands
from bot.adapters.discord.commands import register_commands
from bot.adapters.discord.components import ComponentRouter
from bot.adapters.discord.context import PLATFORM, age_restricted
from bot.adapters.discord.images import DEFAULT_LIMIT, fit
from bot.adapters.discord.liveness import GatewayLiveness
from bot.adapters.discord.render import (
    error_text,
    only_user,
    queued_text,
    result_embed,
    result_view,
    shown,
    status_text,
    truncate,
)
from bot.adapters.discord.status import StatusBoard
from bot.adapters.discord.webhook import InteractionLink
from bot.bootstrap import BotApp
from bot.core.errors import DeliveryError, UserFacingError
from bot.core.models import Generation, HandleValue, ReplyTarget, StatusUpdate
from bot.core.service import PreparedRequest
from bot.settings import ConfigError, Settings
from bot.startup import StartupError, host_of

log = logging.getLogger(__name__)

TOKEN_LIFETIME = 15 * 60
TOKEN_MARGIN = 60  # stop using a token a minute early: a slow upload must not straddle expiry
READY_TIMEOUT = 60.0
LOGIN_TIMEOUT = 30.0  # discord.py's HTTP client has no timeout of its own
FALLBACK_MARKER = "fallback_sent_at"
FAILURE_MARKER = "failure_notice_sent_at"


def delivery_error(exc: discord.HTTPException) -> DeliveryError:
    """Sort Discord's refusals into retry-later and give-up, with a reason for the history."""
    if exc.status == 429 or exc.status >= 500:
        retry_after = getattr(exc, "retry_after", None)
        return DeliveryError(
            f"Discord is busy or failing (HTTP {exc.status})",
            retryable=True,
            retry_after=retry_after,
        )
    if exc.status == 403:
        return DeliveryError("missing permission to post in this channel", retryable=False)
    if exc.status == 413 or exc.code == 40005:
        return DeliveryError("the picture is too large for this channel", retryable=False)
    return DeliveryError(
        f"Discord refused the message (HTTP {exc.status}, code {exc.code})", retryable=False
    )


class DiscordAdapter:
    platform = PLATFORM

    def __init__(self, settings: Settings, app: BotApp) -> None:
        if settings.discord_token is None:
            raise ConfigError("DISCORD_TOKEN: not set")
        self.settings = settings
        self.app = app
        self.status = StatusBoard()
        self.components = ComponentRouter(self)
        self.liveness = GatewayLiveness()
        configure_endpoints(settings)
        self.client = build_client(self, settings)
        register_commands(self.client.tree, self)
        self._runner: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    async def setup(self) -> None:
        """Called by discord.py after login, before the gateway connects."""
        application_id = self.client.application_id
        assert application_id is not None
        await sync_commands(
            self.client.tree, self.app.store, application_id, self.settings.discord_guild_id
        )

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
        await self.status.close()
        await self.client.close()
        if self._runner is not None:
            self._runner.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self._runner

    # -- acknowledgement ------------------------------------------------------------------------

    def _handle(self, interaction: discord.Interaction) -> dict[str, HandleValue]:
        return {
            "application_id": str(interaction.application_id),
            "interaction_id": str(interaction.id),
            "token": interaction.token,
            "expires_at": time.time() + TOKEN_LIFETIME - TOKEN_MARGIN,
            "requester_id": str(interaction.user.id),
            "guild_id": str(interaction.guild_id) if interaction.guild_id else None,
            "size_limit": int(interaction.filesize_limit or DEFAULT_LIMIT),
            # The core allows NSFW output only where the chat may show it: on Discord, a
            # channel marked age-restricted, on top of the server's /settings nsfw switch.
            "nsfw_ok": age_restricted(interaction),
        }

    async def submit(self, interaction: discord.Interaction, prepared: PreparedRequest) -> None:
        """After `defer()`: write and enqueue the request, then show its queue position."""
        target = ReplyTarget(
            platform=PLATFORM, chat_id=str(interaction.channel_id), handle=self._handle(interaction)
        )
        link = InteractionLink(self.client, interaction.application_id, interaction.token)
        try:
            ticket = await self.app.service.submit(prepared, target)
        except UserFacingError as exc:
            await link.edit_original(content=error_text(exc))
            return
        await self.status.show(
            ticket.generation_id, queued_text(ticket.position), self._editor(link)
        )

    @staticmethod
    def _editor(link: InteractionLink) -> StatusEditor:
        return StatusEditor(link)

    # -- ResultChannel --------------------------------------------------------------------------

    def _link(self, generation: Generation) -> InteractionLink | None:
        handle = generation.handle
        token, app_id = handle.get("token"), handle.get("application_id")
        expires_at = handle.get("expires_at")
        if not isinstance(token, str) or app_id is None:
            return None
        if not isinstance(expires_at, int | float) or time.time() >= expires_at:
            return None
        return InteractionLink(self.client, int(str(app_id)), token)

    async def show_status(self, generation: Generation, update: StatusUpdate) -> None:
        link = self._link(generation)
        if link is None:
            return
        await self.status.show(generation.id, status_text(update), self._editor(link))

    async def deliver(self, generation: Generation, image_path: Path) -> None:
        async with self.status.finishing(generation.id):
            await self._deliver(generation, image_path)

    async def _deliver(self, generation: Generation, image_path: Path) -> None:
        if generation.handle.get(FALLBACK_MARKER):
            # A channel message was (or may have been) posted by an earlier attempt; posting
            # again could show the picture twice, so this counts as delivered.
            log.info("generation %s: fallback message already sent", generation.id)
            return
        limit = generation.handle.get("size_limit")
        size_limit = limit if isinstance(limit, int) and limit > 0 else DEFAULT_LIMIT
        try:
            data, extension = await asyncio.to_thread(fit, image_path, size_limit)
        except (OSError, ValueError) as exc:
            raise DeliveryError(
                f"the picture could not be prepared: {exc}", retryable=False
            ) from exc
        filename = f"{generation.id}.{extension}"
        embed = result_embed(generation, self.app.service.styles.find(generation.style), filename)
        link = self._link(generation)
        if link is not None:
            try:
                await link.edit_original(
                    content=None,
                    embed=embed,
                    attachments=[discord.File(io.BytesIO(data), filename=filename)],
                    view=result_view(generation.id),
                )
                return
            except discord.HTTPException as exc:
                if exc.status not in (401, 404):
                    raise delivery_error(exc) from exc
                log.info("generation %s: interaction token no longer valid", generation.id)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                raise DeliveryError(
                    f"Discord unreachable ({exc.__class__.__name__})", retryable=True
                ) from exc
        await self._fallback(generation, data, filename, embed)

    def _requester_id(self, generation: Generation) -> int:
        value = generation.handle.get("requester_id") or generation.user_id
        return int(str(value))

    async def _fallback(
        self, generation: Generation, data: bytes, filename: str, embed: discord.Embed
    ) -> None:
        """The token expired: post a new channel message that pings only the requester."""
        # Marked before sending: if the process dies mid-send, a retry must not post twice.
        await self.app.store.update_handle(generation.id, {FALLBACK_MARKER: time.time()})
        requester = self._requester_id(generation)
        channel = self.client.get_partial_messageable(int(generation.chat_id))
        try:
            await channel.send(
                content=f"<@{requester}> your picture is ready.",
                embed=embed,
                file=discord.File(io.BytesIO(data), filename=filename),
                view=result_view(generation.id),
                allowed_mentions=only_user(requester),
            )
        except discord.HTTPException as exc:
            # Discord answered, so nothing was posted: the marker must not block a retry.
            await self.app.store.update_handle(generation.id, {FALLBACK_MARKER: None})
            raise delivery_error(exc) from exc
        log.info("generation %s: posted as a channel message (token expired)", generation.id)

    async def report_failure(self, generation: Generation) -> None:
        async with self.status.finishing(generation.id):
            reason = generation.failure_reason or "The picture could not be made."
            text = truncate(f"❌ “{shown(generation.prompt, 80)}”: {shown(reason, 1500)}", 2000)
            link = self._link(generation)
            if link is not None:
                try:
                    # The public "queued" message goes; the reason is shown to the requester only.
                    await link.send_ephemeral(text)
                    await link.delete_original()
                    return
                except discord.HTTPException as exc:
                    if exc.status not in (401, 404):
                        raise
            if generation.handle.get(FAILURE_MARKER):
                return
            await self.app.store.update_handle(generation.id, {FAILURE_MARKER: time.time()})
            requester = self._requester_id(generation)
            channel = self.client.get_partial_messageable(int(generation.chat_id))
            await channel.send(
                content=f"<@{requester}> {text}", allowed_mentions=only_user(requester)
            )


class StatusEditor:
    """Edits one acknowledgement message's text (used by the throttled StatusBoard)."""

    def __init__(self, link: InteractionLink) -> None:
        self.link = link

    async def __call__(self, text: str) -> None:
        await self.link.edit_original(content=text)
