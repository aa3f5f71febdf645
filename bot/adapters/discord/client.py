"""The discord.py client: endpoints, intents, sharding and command sync by hash."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from bot.core.store import Store
from bot.settings import ConfigError, Settings

if TYPE_CHECKING:
    from bot.adapters.discord.adapter import DiscordAdapter

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


class _AdapterHooks:
    """Hooks shared by the plain and the auto-sharded client."""

    adapter: DiscordAdapter
    tree: app_commands.CommandTree[Any]

    async def setup_hook(self) -> None:
        await self.adapter.setup()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await self.adapter.components.route(interaction)


class ImagineClient(_AdapterHooks, discord.Client):
    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        super().__init__(intents=intents(), **options)
        self.adapter = adapter
        self.tree = app_commands.CommandTree(self)


class ShardedImagineClient(_AdapterHooks, discord.AutoShardedClient):
    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        super().__init__(intents=intents(), **options)
        self.adapter = adapter
        self.tree = app_commands.CommandTree(self)


def build_client(
    adapter: DiscordAdapter, settings: Settings
) -> ImagineClient | ShardedImagineClient:
    options: dict[str, Any] = {
        "allowed_mentions": discord.AllowedMentions.none(),
        "chunk_guilds_at_startup": False,
        "member_cache_flags": discord.MemberCacheFlags.none(),
        # READY waits this long after the last GUILD_CREATE (discord.py's default: 2 s) to
        # fill a member cache we do not keep; interactions never needed it.
        "guild_ready_timeout": 0.5,
    }
    shards = (settings.discord_shards or "").strip().lower()
    if not shards:
        return ImagineClient(adapter, **options)
    if shards == "auto":
        return ShardedImagineClient(adapter, **options)
    if not shards.isdigit() or int(shards) < 1:
        raise ConfigError("DISCORD_SHARDS: use 'auto' or a positive number of shards")
    return ShardedImagineClient(adapter, shard_count=int(shards), **options)


def commands_digest(tree: app_commands.CommandTree[Any], guild: discord.Object | None) -> str:
    payload = [command.to_dict(tree) for command in tree.get_commands(guild=guild)]
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def sync_commands(
    tree: app_commands.CommandTree[Any], store: Store, application_id: int, guild_id: int | None
) -> bool:
    """Sync only when the command definitions changed since the last sync; True if synced."""
    guild = discord.Object(id=guild_id) if guild_id else None
    if guild is not None:
        tree.copy_global_to(guild=guild)
    digest = commands_digest(tree, guild)
    key = f"discord:commands:{application_id}:{guild_id or 'global'}"
    if await store.get_state(key) == digest:
        log.info("slash commands unchanged; not syncing")
        return False
    synced = await tree.sync(guild=guild)
    await store.set_state(key, digest)
    where = f"server {guild_id}" if guild_id else "all servers (global)"
    log.info("synced %d slash command(s) to %s", len(synced), where)
    return True
