"""Short private answers in the reader's language, refusals in the core's words, and the
admin check every server-settings command starts with."""

from __future__ import annotations

import discord

from bot.adapters.discord.identity import is_server_admin, requester_of, scope_of
from bot.adapters.discord.render import NO_MENTIONS, error_text, say, truncate
from bot.core.errors import UserFacingError
from bot.core.language import Text
from bot.core.requests.service import GenerationService

ADMIN_ONLY = Text("Only server admins (Manage Server permission) can change these settings.")
SERVER_ONLY = Text("Server settings only exist in a server.")


async def reader_locale(service: GenerationService, interaction: discord.Interaction) -> str:
    """The locale of whoever pressed or typed (one read of their scope's settings): for an
    interaction that has no request, whose row would carry it."""
    return await service.locale(requester_of(interaction), scope_of(interaction))


async def tell(service: GenerationService, interaction: discord.Interaction, text: Text) -> None:
    """`reply` with a catalogue text, in the reader's locale."""
    await reply(interaction, say(text, await reader_locale(service, interaction)))


async def reply(interaction: discord.Interaction, text: str) -> None:
    """A short ephemeral answer (or follow-up, if the interaction was already acknowledged)."""
    text = truncate(text, 2000)
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def refuse(interaction: discord.Interaction, exc: UserFacingError) -> None:
    """The core refused: its words, privately (the one place a refusal is rendered)."""
    await reply(interaction, error_text(exc))


async def admin_only(interaction: discord.Interaction, service: GenerationService) -> bool:
    """True for a server admin; anyone else gets a plain refusal.

    Checked here, on the permissions Discord resolved for this member in this interaction:
    the command's `default_member_permissions` is only a hint server admins can override."""
    if interaction.guild_id is None:
        await tell(service, interaction, SERVER_ONLY)
        return False
    if not is_server_admin(interaction):
        await tell(service, interaction, ADMIN_ONLY)
        return False
    return True
