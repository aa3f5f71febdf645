"""Buttons and menus under results, routed by custom id so they survive restarts.

Custom ids look like `ib:<action>:<generation id>`, with `:<tile>` for the buttons of one
image (U1-U4, V1-V4, "Imagine this"). The Remix modal's submit comes back the same way,
as `ib:remix-submit:<generation id>`. No view or modal is kept in memory: after a
restart the same listener parses the id and looks the generation up in the history. The id
is never trusted: every action loads the row through `GenerationService.generation_for` (or a
call built on it), which checks platform, scope (this server or DM) and, where it matters,
the owner (bot/core/requests/access.py).

Then the message: a custom id can be put on any bot message (a crafted gateway event, a
replayed press), so the data of Alice's own picture pressed on Bob's picture names a row
Alice may use. Every button that acts on or from a message checks, with `the_row_message`,
that the pressed message is the one the row's delivery handle recorded (`message_id`; for
rows delivered before it was recorded, the message that carries the request's file); the
ephemeral restyle and history menus touch no message and must be ephemeral; the forget-me
buttons must be on the pressed message itself (`carries`). Delete removes the message first
and the row after.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import discord

from bot.adapters.discord import privacy
from bot.adapters.discord.answers import refuse, reply
from bot.adapters.discord.context import is_moderator, requester_of, scope_of
from bot.adapters.discord.images import DEFAULT_LIMIT, fit
from bot.adapters.discord.intake import Intake
from bot.adapters.discord.render import (
    NO_MENTIONS,
    info_text,
    parse_custom_id,
    parse_values,
    restyle_view,
    result_embed,
)
from bot.adapters.discord.result_buttons import (
    NEGATIVE_INPUT,
    PROMPT_INPUT,
    remix_modal,
    submitted_values,
)
from bot.core.errors import PermissionDenied, UserFacingError
from bot.core.models import Generation, Status
from bot.core.requests.access import Need
from bot.core.requests.service import GenerationService, PreparedRequest

log = logging.getLogger(__name__)

NOT_THIS_MESSAGE = "That button does not belong to this message."
RESULT_MESSAGE = "message_id"  # recorded by delivery.py when the result is shown
MESSAGE_GONE = 10008  # Discord's "Unknown Message"


class NotThisMessage(PermissionDenied):
    code = "not_this_message"


def the_row_message(interaction: discord.Interaction, generation: Generation) -> discord.Message:
    """The pressed message, when it is the one that shows this row's result; raises
    NotThisMessage otherwise (one check for every button that names a row)."""
    message = interaction.message
    if message is None or str(message.channel.id) != generation.chat_id:
        raise NotThisMessage(NOT_THIS_MESSAGE)
    recorded = generation.handle.get(RESULT_MESSAGE)
    if recorded is not None:
        if str(message.id) == str(recorded):
            return message
        raise NotThisMessage(NOT_THIS_MESSAGE)
    # Delivered before the message was recorded: the message must carry the row's file
    # (files are named after the generation id; only that request's messages have them).
    if any(a.filename.startswith(f"{generation.id}.") for a in message.attachments):
        return message
    raise NotThisMessage(NOT_THIS_MESSAGE)


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


class ComponentRouter:
    def __init__(self, service: GenerationService, intake: Intake) -> None:
        self.service = service
        self.intake = intake

    async def route(self, interaction: discord.Interaction) -> None:
        # A press is owed its answer until deferred: deliveries wait (core/acknowledgements.py).
        with self.service.acknowledgements.owed():
            await self._route(interaction)

    async def _route(self, interaction: discord.Interaction) -> None:
        if interaction.type not in (
            discord.InteractionType.component,
            discord.InteractionType.modal_submit,
        ):
            return
        data: dict[str, Any] = dict(interaction.data or {})
        parsed = parse_custom_id(str(data.get("custom_id", "")))
        if parsed is None:  # not ours, or altered: a plain answer, never silence
            await reply(interaction, "That button is no longer supported.")
            return
        action, generation_id, index = parsed
        values = parse_values(data.get("values"))
        try:
            await self._check_message(interaction, action, generation_id, str(data["custom_id"]))
            if interaction.type is discord.InteractionType.modal_submit:
                if action == "remix-submit":
                    await self.submit_remix(interaction, generation_id, submitted_values(data))
                else:
                    await reply(interaction, "That form is no longer supported.")
            elif index is not None and action in ("upscale", "vary", "imagine-this"):
                await self.tile(interaction, action, generation_id, index)
            elif action == "remix":
                await self.open_remix(interaction, generation_id)
            elif action == "info":
                await self.info(interaction, generation_id)
            elif action == "reroll":
                await self.variation(interaction, generation_id, None)
            elif action == "restyle":
                await self.offer_styles(interaction, generation_id)
            elif action == "restyle-pick" and values:
                await self.variation(interaction, generation_id, values[0])
            elif action == "delete":
                await self.delete(interaction, generation_id)
            elif action in (privacy.CONFIRM, privacy.CANCEL):
                await privacy.answer(self.service, interaction, action, generation_id)
            elif action == "show" and values:
                await self.show(interaction, values[0])
            else:
                await reply(interaction, "That button is no longer supported.")
        except UserFacingError as exc:
            await refuse(interaction, exc)

    async def _check_message(
        self, interaction: discord.Interaction, action: str, generation_id: str, custom_id: str
    ) -> None:
        """Refuse (NotThisMessage) a press whose message is not the one its data is about.
        The row is loaded with its scope checked first, so a press naming another chat's
        picture still hears that it belongs elsewhere."""
        if action in (privacy.CONFIRM, privacy.CANCEL):
            if not carries(interaction, custom_id):
                raise NotThisMessage(NOT_THIS_MESSAGE)
            return
        if action in ("restyle-pick", "show"):
            if not from_ephemeral_menu(interaction):  # these menus are only ever ephemeral
                raise NotThisMessage(NOT_THIS_MESSAGE)
            return
        if interaction.type is discord.InteractionType.modal_submit and interaction.message is None:
            raise NotThisMessage(NOT_THIS_MESSAGE)
        generation = await self.service.generation_for(
            generation_id, requester_of(interaction), scope_of(interaction), Need.SCOPE
        )
        the_row_message(interaction, generation)

    async def _follow(
        self, interaction: discord.Interaction, preparing: Coroutine[Any, Any, PreparedRequest]
    ) -> None:
        await self.intake.prepare_then_submit(interaction, asyncio.ensure_future(preparing))

    async def tile(
        self, interaction: discord.Interaction, action: str, generation_id: str, index: int
    ) -> None:
        """U<index> (a reply to the grid), V<index> (a new grid) or "Imagine this"."""
        who, where = requester_of(interaction), scope_of(interaction)
        service = self.service
        preparing: Coroutine[Any, Any, PreparedRequest]
        if action == "upscale":
            preparing = service.prepare_upscale(generation_id, index, who, where)
        elif action == "vary":
            preparing = service.prepare_vary(generation_id, index, who, where)
        else:
            preparing = service.prepare_suggestion(generation_id, index, who, where)
        await self._follow(interaction, preparing)

    async def open_remix(self, interaction: discord.Interaction, generation_id: str) -> None:
        """The modal, prefilled; only for a picture made here (checked before it opens).
        A modal must be the first answer to the press, so nothing is deferred before it."""
        original = await self.service.generation_for(
            generation_id, requester_of(interaction), scope_of(interaction)
        )
        modal = remix_modal(original, self.service.settings.max_prompt_chars)
        await interaction.response.send_modal(modal)

    async def submit_remix(
        self, interaction: discord.Interaction, generation_id: str, values: dict[str, str]
    ) -> None:
        """The edited prompt, run again with the same style, aspect and count."""
        preparing = self.service.prepare_remix(
            generation_id,
            values.get(PROMPT_INPUT, ""),
            values.get(NEGATIVE_INPUT) or None,
            requester_of(interaction),
            scope_of(interaction),
        )
        await self._follow(interaction, preparing)

    async def info(self, interaction: discord.Interaction, generation_id: str) -> None:
        info = await self.service.info(
            generation_id, requester_of(interaction), scope_of(interaction)
        )
        await reply(interaction, info_text(info))

    async def variation(
        self, interaction: discord.Interaction, generation_id: str, style: str | None
    ) -> None:
        """Reroll or restyle: a new request with its own new message."""
        prepare = asyncio.ensure_future(
            self.service.prepare_variation(
                generation_id, requester_of(interaction), scope_of(interaction), style=style
            )
        )
        await self.intake.prepare_then_submit(interaction, prepare)

    async def offer_styles(self, interaction: discord.Interaction, generation_id: str) -> None:
        scope = scope_of(interaction)
        original = await self.service.generation_for(
            generation_id, requester_of(interaction), scope
        )
        styles = await self.service.allowed_styles(scope)
        await interaction.response.send_message(
            "Pick a style for a new picture with the same prompt:",
            view=restyle_view(generation_id, styles, original.style),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    async def delete(self, interaction: discord.Interaction, generation_id: str) -> None:
        """The message first, the row after (the message was checked to be the row's)."""
        # Raises PermissionDenied (answered ephemerally) unless the picture was made in this
        # server (or DM) and the presser asked for it or moderates this server.
        generation = await self.service.deletable(
            generation_id,
            requester_of(interaction),
            scope_of(interaction),
            moderator=is_moderator(interaction),
        )
        await interaction.response.defer()
        gone_already = False
        try:
            # For a button press, the "original response" is the message the button is on,
            # which _check_message proved is the one this row recorded.
            await interaction.delete_original_response()
        except discord.NotFound as exc:
            if exc.code != MESSAGE_GONE:
                raise
            gone_already = True
        except discord.HTTPException:
            log.warning("generation %s: could not delete its message", generation_id)
            await reply(
                interaction, "Discord would not delete the message, so nothing was deleted."
            )
            return
        await self.service.erase_generation(generation)
        if gone_already:
            await reply(interaction, "Deleted from the history (the message was already gone).")

    async def show(self, interaction: discord.Interaction, generation_id: str) -> None:
        try:
            generation = await self.service.generation_for(
                generation_id, requester_of(interaction), scope_of(interaction), Need.OWNER_ANYWHERE
            )
        except PermissionDenied:
            await reply(interaction, "You can only look at your own pictures.")
            return
        if generation.status not in (Status.DONE, Status.DELIVERED) or not generation.image_path:
            await reply(interaction, "That picture is not available any more.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        limit = interaction.filesize_limit or DEFAULT_LIMIT
        try:
            data, extension = await asyncio.to_thread(fit, Path(generation.image_path), limit)
        except (OSError, ValueError):
            await interaction.followup.send(
                "That picture's file is gone.", ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        filename = f"{generation.id}.{extension}"
        style = self.service.styles.find(generation.style)
        await interaction.followup.send(
            embed=result_embed(generation, style, filename),
            file=discord.File(io.BytesIO(data), filename=filename),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
