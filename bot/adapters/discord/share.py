"""/share: post a picture you made into the conversation you are in, without making it again
and without costing a limit (no request, no row: the stored file, re-sent).

It works wherever the command does, a user install included (a friend's DM, a group DM, a
server without the bot): the picture goes out as the interaction's own response, which needs
no channel permission. The picture option autocompletes the requester's own finished
pictures; whatever id is typed is checked (format, platform, owner) before anything is read.
The Share button under a result (bot/core/requests/buttons.py `Share`) answers, privately,
how to do it.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord.answers import reader_locale, tell
from bot.adapters.discord.identity import requester_of, scope_of
from bot.adapters.discord.images import DEFAULT_LIMIT, fit
from bot.adapters.discord.render import NO_MENTIONS, result_embed, say, truncate
from bot.core.errors import PermissionDenied, UserFacingError
from bot.core.language import Text, UserText
from bot.core.models import Generation, Status
from bot.core.requests.access import Need
from bot.core.requests.button_data import generation_id
from bot.core.requests.service import GenerationService

NOT_YOURS = Text("You can only share your own finished pictures: pick one from the list.")
GONE = Text("That picture's file is gone.")


def how_to_share(generation: Generation) -> Text:
    return Text(
        "📤 To post this picture in another chat or server, type `/share` there and pick "
        "“{prompt}”. It costs nothing and makes nothing new.",
        prompt=UserText(truncate(generation.prompt, 80)),
    )


async def own_picture(
    service: GenerationService, interaction: discord.Interaction, picture: str
) -> Generation | None:
    """The requester's own finished picture by id, or None (any text, any id)."""
    if generation_id(picture.strip().lower()) is None:
        return None
    try:
        found = await service.generation_for(
            picture.strip().lower(),
            requester_of(interaction),
            scope_of(interaction),
            Need.OWNER_ANYWHERE,
        )
    except (PermissionDenied, UserFacingError):
        return None
    finished = found.status in (Status.DONE, Status.DELIVERED) and found.image_path
    return found if finished else None


def register_share(tree: app_commands.CommandTree[Any], service: GenerationService) -> None:
    async def choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        rows = await service.history(requester_of(interaction), limit=50)
        words = current.lower().strip()
        return [
            app_commands.Choice(name=truncate(g.prompt, 100), value=g.id)
            for g in rows
            if g.status in (Status.DONE, Status.DELIVERED)
            and g.image_path
            and (not words or words in g.prompt.lower() or g.id.startswith(words))
        ][:25]

    @tree.command(name="share", description="Post a picture you made here (free, nothing new)")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.describe(picture="One of your pictures (start typing its prompt)")
    @app_commands.autocomplete(picture=choices)
    async def share(interaction: discord.Interaction, picture: str) -> None:
        generation = await own_picture(service, interaction, picture)
        if generation is None or generation.image_path is None:
            await tell(service, interaction, NOT_YOURS)
            return
        locale = await reader_locale(service, interaction)
        await interaction.response.defer(thinking=True)
        limit = interaction.filesize_limit or DEFAULT_LIMIT
        try:
            data, extension = await asyncio.to_thread(fit, Path(generation.image_path), limit)
        except (OSError, ValueError):
            await interaction.edit_original_response(content=say(GONE, locale))
            return
        filename = f"{generation.id}.{extension}"
        style = service.styles.find(generation.style)
        await interaction.followup.send(
            embed=result_embed(generation, style, filename, locale),
            file=discord.File(io.BytesIO(data), filename=filename),
            allowed_mentions=NO_MENTIONS,
        )
