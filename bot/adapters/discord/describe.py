"""`/describe image:<attachment>`: up to four prompt ideas for a picture, each with an
"Imagine this" button (result_buttons.py); the picture's own generation parameters first
when it carries them. The file is fetched after the acknowledgement (intake.py)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord.identity import requester_of, scope_of
from bot.adapters.discord.intake import Intake
from bot.core.requests.service import GenerationService, PreparedRequest


def register_describe(
    tree: app_commands.CommandTree[Any], service: GenerationService, intake: Intake
) -> None:
    @tree.command(name="describe", description="Prompt ideas for a picture you attach")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.describe(image="The picture to describe (PNG, JPEG, WebP or GIF)")
    async def describe(interaction: discord.Interaction, image: discord.Attachment) -> None:
        who, where = requester_of(interaction), scope_of(interaction)

        async def described(data: bytes) -> PreparedRequest:
            return await service.prepare_describe(data, who, where)

        await intake.with_picture(interaction, image, described)
