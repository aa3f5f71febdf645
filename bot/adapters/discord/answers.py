"""Short private answers, refusals in the core's words, and the admin check every
server-settings command starts with."""

from __future__ import annotations

from typing import Protocol

import discord

from bot.adapters.discord.identity import is_server_admin, requester_of, scope_of
from bot.adapters.discord.render import NO_MENTIONS, error_text, truncate
from bot.core.errors import UserFacingError
from bot.core.models import Requester, Scope

ADMIN_ONLY = "Only server admins (Manage Server permission) can change these settings."
SERVER_ONLY = "Server settings only exist in a server."


async def reply(interaction: discord.Interaction, text: str) -> None:
    """A short ephemeral answer (or follow-up, if the interaction was already acknowledged)."""
    text = truncate(text, 2000)
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


class Readers(Protocol):
    """Who reads in which locale (the core's service)."""

    async def locale(self, requester: Requester, scope: Scope) -> str: ...


async def reader_locale(readers: Readers, interaction: discord.Interaction) -> str:
    """The locale the person behind `interaction` reads in (bot/core/language.py)."""
    return await readers.locale(requester_of(interaction), scope_of(interaction))


async def refuse(interaction: discord.Interaction, exc: UserFacingError, readers: Readers) -> None:
    """The core refused: its words in the reader's language, privately (the one place a
    refusal is rendered)."""
    await reply(interaction, error_text(exc, await reader_locale(readers, interaction)))


async def admin_only(interaction: discord.Interaction) -> bool:
    """True for a server admin; anyone else gets a plain refusal.

    Checked here, on the permissions Discord resolved for this member in this interaction:
    the command's `default_member_permissions` is only a hint server admins can override."""
    if interaction.guild_id is None:
        await reply(interaction, SERVER_ONLY)
        return False
    if not is_server_admin(interaction):
        await reply(interaction, ADMIN_ONLY)
        return False
    return True
