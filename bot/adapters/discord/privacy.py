"""`/forget-me`: after a confirmation button, delete the member's history, pictures and
personal settings (Telegram's /forget_me does the same through the same core function).

The buttons carry the id of the member who asked (`ib:forget:<user id>`). The message is
ephemeral, but a client can send any custom id for any message, so each press is checked
against that id here before anything is deleted.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord.answers import reader_locale, tell
from bot.adapters.discord.identity import requester_of
from bot.adapters.discord.render import NO_MENTIONS, say
from bot.core.language import Plural, Text
from bot.core.requests.buttons import ForgetCancel, ForgetConfirm
from bot.core.requests.service import GenerationService

log = logging.getLogger(__name__)

QUESTION = Text(
    "This deletes your history, your pictures and your settings with this bot, everywhere. "
    "It cannot be undone. Sure?"
)
NOT_YOURS = Text("Only the person who asked can answer this.")


def confirm_view(user_id: str, locale: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(
        discord.ui.Button(
            label=say(Text("Delete my data"), locale),
            emoji="🗑",
            style=discord.ButtonStyle.danger,
            custom_id=ForgetConfirm(user_id).pack("discord"),
        )
    )
    view.add_item(
        discord.ui.Button(
            label=say(Text("Cancel"), locale),
            style=discord.ButtonStyle.secondary,
            custom_id=ForgetCancel(user_id).pack("discord"),
        )
    )
    return view


def register_forget_me(tree: app_commands.CommandTree[Any], service: GenerationService) -> None:
    @tree.command(
        name="forget-me",
        description="Delete your history, pictures and settings with this bot",
    )
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.allowed_installs(guilds=True, users=True)
    async def forget_me(interaction: discord.Interaction) -> None:
        locale = await reader_locale(service, interaction)
        await interaction.response.send_message(
            say(QUESTION, locale),
            view=confirm_view(str(interaction.user.id), locale),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


async def answer(
    service: GenerationService, interaction: discord.Interaction, owner_id: str, *, cancel: bool
) -> None:
    """A press of Delete my data or Cancel; only the member named in the button counts."""
    if owner_id != str(interaction.user.id):
        await tell(service, interaction, NOT_YOURS)
        return
    # Read before the deletion, which takes the person's own language with it.
    locale = await reader_locale(service, interaction)
    if cancel:
        nothing = say(Text("Nothing was deleted."), locale)
        await interaction.response.edit_message(content=nothing, view=None)
        return
    count = await service.forget_user(requester_of(interaction))
    done = Plural(
        "Deleted your history and settings ({count} picture).",
        "Deleted your history and settings ({count} pictures).",
        count,
    )
    await interaction.response.edit_message(content=say(done, locale), view=None)
