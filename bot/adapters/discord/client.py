"""The discord.py client: endpoints, intents, sharding, and the hooks it calls into."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from bot.adapters.discord.liveness import GatewayLiveness
from bot.settings import ConfigError, Settings

log = logging.getLogger(__name__)


def configure_endpoints(settings: Settings) -> None:
    """Point discord.py at another API / gateway (a proxy, or a local test server)."""
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    if settings.discord_gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


# The bot never joins voice: discord.py's start-up warnings about missing voice libraries
# (PyNaCl, davey) would only be noise in front of what the operator needs to read.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


def intents() -> discord.Intents:
    # Slash commands and components arrive without any intent; `guilds` keeps the guild
    # cache current. Nothing privileged (members, presences, message content) is needed.
    return discord.Intents(guilds=True)


@dataclass(frozen=True)
class ClientHooks:
    """What the client calls into: set-up after login, every interaction (for the buttons
    and menus, which are routed by custom id), and the gateway state for /healthz."""

    setup: Callable[[], Awaitable[None]]
    interaction: Callable[[discord.Interaction], Awaitable[None]]
    liveness: GatewayLiveness
    # The bot was removed from a guild (GUILD_DELETE without `unavailable`): its id.
    removed: Callable[[int], Awaitable[None]] | None = None


class _Hooks:
    """Event handlers shared by the plain and the auto-sharded client."""

    hooks: ClientHooks
    tree: app_commands.CommandTree[Any]

    async def setup_hook(self) -> None:
        await self.hooks.setup()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await self.hooks.interaction(interaction)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        # discord.py sends this for GUILD_DELETE without `unavailable` only (an outage is
        # `on_guild_unavailable`): the bot was kicked or the server deleted.
        if self.hooks.removed is not None:
            await self.hooks.removed(guild.id)

    # Gateway state for /healthz (sharded clients also get the on_shard_* events).
    async def on_ready(self) -> None:
        if not isinstance(self, discord.AutoShardedClient):
            self.hooks.liveness.up()

    async def on_resumed(self) -> None:
        if not isinstance(self, discord.AutoShardedClient):
            self.hooks.liveness.up()

    async def on_disconnect(self) -> None:
        if not isinstance(self, discord.AutoShardedClient):
            self.hooks.liveness.down()

    async def on_shard_ready(self, shard_id: int) -> None:
        self.hooks.liveness.up(shard_id)

    async def on_shard_resumed(self, shard_id: int) -> None:
        self.hooks.liveness.up(shard_id)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        self.hooks.liveness.down(shard_id)


class ImagineClient(_Hooks, discord.Client):
    def __init__(self, hooks: ClientHooks, **options: Any) -> None:
        super().__init__(intents=intents(), **options)
        self.hooks = hooks
        self.tree = app_commands.CommandTree(self)


class ShardedImagineClient(_Hooks, discord.AutoShardedClient):
    def __init__(self, hooks: ClientHooks, **options: Any) -> None:
        super().__init__(intents=intents(), **options)
        self.hooks = hooks
        self.tree = app_commands.CommandTree(self)


def build_client(settings: Settings, hooks: ClientHooks) -> ImagineClient | ShardedImagineClient:
    options: dict[str, Any] = {
        "allowed_mentions": discord.AllowedMentions.none(),
        "chunk_guilds_at_startup": False,
        "member_cache_flags": discord.MemberCacheFlags.none(),
        # READY waits this long after the last GUILD_CREATE (discord.py's default: 2 s) to
        # fill a member cache we do not keep; interactions never needed it.
        "guild_ready_timeout": 0.5,
    }
    if settings.discord_shard_count is not None:
        # This process runs its share of the shards (all of them without DISCORD_SHARD_IDS).
        ids = settings.shard_ids or list(range(settings.discord_shard_count))
        return ShardedImagineClient(
            hooks, shard_count=settings.discord_shard_count, shard_ids=ids, **options
        )
    shards = (settings.discord_shards or "").strip().lower()
    if not shards:
        return ImagineClient(hooks, **options)
    if shards == "auto":
        return ShardedImagineClient(hooks, **options)
    if not shards.isdigit() or int(shards) < 1:
        raise ConfigError("DISCORD_SHARDS: use 'auto' or a positive number of shards")
    return ShardedImagineClient(hooks, shard_count=int(shards), **options)
