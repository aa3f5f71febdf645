"""Slash-command sync by hash: register the command tree only when it changed.

The record of the last sync is kept through the core's `SyncState` port (the store
satisfies it), keyed on the application id and the guild.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import discord
from discord import app_commands

from bot.core.ports import SyncState

log = logging.getLogger(__name__)


async def commands_digest(tree: app_commands.CommandTree[Any], guild: discord.Object | None) -> str:
    """The hash of what `tree.sync` would send: with a translator, the translated payload, so
    a changed translation (name or description localizations) syncs once, and no more."""
    translator = tree.translator
    commands = tree.get_commands(guild=guild)
    if translator is None:
        payload = [command.to_dict(tree) for command in commands]
    else:
        payload = [await command.get_translated_payload(tree, translator) for command in commands]
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def registered(commands: list[dict[str, Any]]) -> dict[str, str]:
    """name -> "id/version" of commands as Discord returns them (the version changes on
    every edit, by us or anyone else holding the token)."""
    return {str(c["name"]): f"{c['id']}/{c.get('version', '')}" for c in commands}


async def sync_commands(
    tree: app_commands.CommandTree[Any],
    state: SyncState,
    application_id: int,
    guild_id: int | None,
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
    digest = await commands_digest(tree, guild)
    key = f"discord:commands:{application_id}:{guild_id or 'global'}"
    record = _load_record(await state.get_state(key))
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
    await state.set_state(key, json.dumps({"digest": digest, "registered": registered(now)}))
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
