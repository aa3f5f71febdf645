"""Which message a button press may act on: the one the row recorded, never "the message the
press came from".

A custom id can be put on any bot message (a crafted gateway event, a replayed press), so the
data of Alice's own picture pressed on Bob's picture names a row Alice may use. Every button
that acts on or from a message checks, with `the_row_message`, that the pressed message is
the one the row's delivery handle recorded (`message_id`; for rows delivered before it was
recorded, the message that carries the request's file); the ephemeral restyle and history
menus touch no message and must be ephemeral (`from_ephemeral_menu`); the forget-me buttons
must be on the pressed message itself (`carries`).
"""

from __future__ import annotations

import discord

from bot.adapters.discord.delivery_handle import DiscordHandle
from bot.core.errors import NotThisMessage
from bot.core.models import Generation


def the_row_message(interaction: discord.Interaction, generation: Generation) -> discord.Message:
    """The pressed message, when it is the one that shows this row's result; raises
    NotThisMessage otherwise (one check for every button that names a row)."""
    message = interaction.message
    if message is None or str(message.channel.id) != generation.chat_id:
        raise NotThisMessage()
    recorded = DiscordHandle.of(generation.handle).message_id  # set by result_channel.py
    if recorded is not None:
        if str(message.id) == str(recorded):
            return message
        raise NotThisMessage()
    # Delivered before the message was recorded: the message must carry the row's file
    # (files are named after the generation id; only that request's messages have them).
    if any(a.filename.startswith(f"{generation.id}.") for a in message.attachments):
        return message
    raise NotThisMessage()


def carries(interaction: discord.Interaction, custom_id: str) -> bool:
    """Whether the pressed message itself has a component with this custom id."""
    message = interaction.message
    if message is None:
        return False
    return any(
        getattr(child, "custom_id", None) == custom_id
        for row in message.components
        for child in getattr(row, "children", [row])
    )


def from_ephemeral_menu(interaction: discord.Interaction) -> bool:
    message = interaction.message
    return message is not None and message.flags.ephemeral
