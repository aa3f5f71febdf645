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

    # Gateway state for /healthz (sharded clients also get the on_shard_* events).
    async def on_ready(self) -> None:
        if not isinstance(self, discord.AutoShardedClient):
            self.adapter.liveness.up()

    async def on_resumed(self) -> None:
        if not isinstance(self, discord.AutoShardedClient):
            self.adapter.liveness.up()

    async def on_disconnect(self) -> None:
        if not isinstance(self, discord.AutoShardedClient):
            self.adapter.liveness.down()

    async def on_shard_ready(self, shard_id: int) -> None:
        self.adapter.liveness.up(shard_id)

    async def on_shard_resumed(self, shard_id: int) -> None:
        self.adapter.liveness.up(shard_id)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        self.adapter.liveness.down(shard_id)


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


def registered(commands: list[dict[str, Any]]) -> dict[str, str]:
    """name -> "id/version" of commands as Discord returns them (the version changes on
    every edit, by us or anyone else holding the token)."""
    return {str(c["name"]): f"{c['id']}/{c.get('version', '')}" for c in commands}


async def sync_commands(
    tree: app_commands.CommandTree[Any], store: Store, application_id: int, guild_id: int | None
) -> bool:
    """Sync only when needed; True if synced.

    Skipping needs two things: the definitions hash to what this application last synced
    (the record is keyed on the application id and the guild), and Discord still holds
    exactly the commands that sync registered (one GET). A record alone is not trusted:
    the same DATA_DIR may meet another application, or commands deleted or overwritten
    since."""
    guild = discord.Object(id=guild_id) if guild_id else None
    if guild is not None:
        tree.copy_global_to(guild=guild)
    digest = commands_digest(tree, guild)
    key = f"discord:commands:{application_id}:{guild_id or 'global'}"
    record = _load_record(await store.get_state(key))
    if record is not None and record.get("digest") == digest:
        http = tree.client.http
        try:
            if guild_id:
                current = await http.get_guild_commands(application_id, guild_id)
            else:
                current = await http.get_global_commands(application_id)
        except discord.HTTPException as exc:
            log.info("could not list the registered commands (HTTP %s); syncing", exc.status)
            current = None
        if current is not None and registered(current) == record.get("registered"):
            log.info("slash commands unchanged; not syncing")
            return False
        log.info("Discord no longer has the commands last synced; syncing again")
    synced = await tree.sync(guild=guild)
    # tree.sync returns AppCommand objects, which drop the version: read it back raw.
    if guild_id:
        now = await tree.client.http.get_guild_commands(application_id, guild_id)
    else:
        now = await tree.client.http.get_global_commands(application_id)
    await store.set_state(key, json.dumps({"digest": digest, "registered": registered(now)}))
    where = f"server {guild_id}" if guild_id else "all servers (global)"
    log.info("synced %d slash command(s) to %s", len(synced), where)
    return True


def _load_record(value: str | None) -> dict[str, Any] | None:
    """The stored sync record; a bare digest (older format) or junk counts as none."""
    if not value:
        return None
    try:
        record = json.loads(value)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None
