"""Buttons and menus under results, parsed by the core's button classes and each answered by
the handler its class names here, so they survive restarts.

Custom ids are the core's button classes packed for Discord (bot/core/requests/buttons.py):
`ib:<action>:<generation id>`, with `:<tile>` for the buttons of one image (U1-U4, V1-V4,
"Imagine this"); the Remix modal's submit comes back as `ib:remix-submit:<generation id>`.
No view or modal is kept in memory: after a restart the same listener parses the id and
looks the generation up in the history. The id is never trusted: every action loads the row
through `GenerationService.generation_for` (or a call built on it), which checks platform,
scope (this server or DM) and, where it matters, the owner (bot/core/requests/access.py). Before
that, the message the press came from is checked against what the button's class says it
acts on (pressed.py). Every `FollowUp` runs the same way: its own core call, then the
request is submitted. Delete removes the message first and the row after.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import discord

from bot.adapters.discord import privacy
from bot.adapters.discord.answers import refuse, reply
from bot.adapters.discord.delivery_handle import DiscordHandle
from bot.adapters.discord.edit_buttons import EditButtons
from bot.adapters.discord.identity import is_moderator, requester_of, scope_of
from bot.adapters.discord.images import DEFAULT_LIMIT, fit
from bot.adapters.discord.intake import Intake
from bot.adapters.discord.pressed import carries, from_ephemeral_menu, the_row_message
from bot.adapters.discord.render import (
    NO_MENTIONS,
    info_text,
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
from bot.adapters.discord.share import how_to_share
from bot.adapters.discord.web_edits import open_editor
from bot.core.errors import NotThisMessage, PermissionDenied, UserFacingError
from bot.core.models import Status
from bot.core.requests.access import Need
from bot.core.requests.button_data import Button, FollowUp, ModeratedFollowUp, On, RowButton
from bot.core.requests.buttons import (
    BUTTONS,
    Delete,
    EditByWords,
    EditImage,
    EditMenu,
    EditWordsSubmit,
    ForgetAnswer,
    ForgetCancel,
    ForgetConfirm,
    Info,
    Remix,
    RemixSubmit,
    RestyleMenu,
    Share,
    Show,
    VaryRegion,
)
from bot.core.requests.service import GenerationService
from bot.web.links import EditorLinks

log = logging.getLogger(__name__)

MESSAGE_GONE = 10008  # Discord's "Unknown Message"
NOT_SUPPORTED = "That button is no longer supported."

Handler = Callable[[discord.Interaction, Any], Awaitable[None]]


class Buttons:
    def __init__(
        self, service: GenerationService, intake: Intake, editor: EditorLinks | None = None
    ) -> None:
        self.service = service
        self.intake = intake
        self.editor = editor
        edits = EditButtons(service, intake)
        # One handler per button class; every `FollowUp` shares `follow_up`.
        self.handlers: dict[type[Button], Handler] = {
            EditMenu: edits.open_menu,
            EditImage: edits.pick_image,
            EditByWords: edits.ask_words,
            EditWordsSubmit: edits.submit_words,
            Remix: self.open_remix,
            RemixSubmit: self.submit_remix,
            Info: self.info,
            RestyleMenu: self.offer_styles,
            Delete: self.delete,
            ForgetConfirm: self.forget,
            ForgetCancel: self.forget,
            Show: self.show,
            VaryRegion: self.open_editor,
            Share: self.share,
        }

    def handler_for(self, button: Button) -> Handler | None:
        if isinstance(button, FollowUp):
            return self.follow_up
        return self.handlers.get(type(button))

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
        custom_id = data.get("custom_id")
        values = parse_values(data.get("values"))
        button = BUTTONS.parse(
            "discord",
            custom_id if isinstance(custom_id, str) else "",
            values[0] if values else None,
        )
        handler = None if button is None else self.handler_for(button)
        if button is None or handler is None:  # not ours, or altered: a plain answer
            await reply(interaction, NOT_SUPPORTED)
            return
        try:
            await self._check_message(interaction, button, str(custom_id))
            is_modal = interaction.type is discord.InteractionType.modal_submit
            if button.modal != is_modal:
                await reply(
                    interaction, "That form is no longer supported." if is_modal else NOT_SUPPORTED
                )
                return
            await handler(interaction, button)
        except UserFacingError as exc:
            await refuse(interaction, exc, self.service)

    async def _check_message(
        self, interaction: discord.Interaction, button: Button, custom_id: str
    ) -> None:
        """Refuse (NotThisMessage) a press whose message is not the one its data is about.
        The row is loaded with its scope checked first, so a press naming another chat's
        picture still hears that it belongs elsewhere."""
        acts_on = button.acts_on("discord")
        if acts_on is On.CARRYING_IT:
            if not carries(interaction, custom_id):
                raise NotThisMessage()
            return
        if acts_on is On.EPHEMERAL_MENU:
            if not from_ephemeral_menu(interaction):  # these menus are only ever ephemeral
                raise NotThisMessage()
            return
        if interaction.type is discord.InteractionType.modal_submit and interaction.message is None:
            raise NotThisMessage()
        assert isinstance(button, RowButton)
        generation = await self.service.generation_for(
            button.generation_id, requester_of(interaction), scope_of(interaction), Need.SCOPE
        )
        the_row_message(interaction, generation)

    async def follow_up(self, interaction: discord.Interaction, button: FollowUp) -> None:
        """Reroll, a restyle pick, U<k> (a reply to the grid), V<k> (a new grid) or "Imagine
        this": the button's own core call, then a new request under its own message."""
        requester, scope = requester_of(interaction), scope_of(interaction)
        if isinstance(button, ModeratedFollowUp):  # the edits: the requester or a moderator
            moderator = is_moderator(interaction)
            preparing = button.prepare_as(self.service, requester, scope, moderator=moderator)
        else:
            preparing = button.prepare(self.service, requester, scope)
        reply_to = None
        if isinstance(button, RowButton) and from_ephemeral_menu(interaction):
            # The menu is about the row's picture: a late fallback replies to that message.
            reply_to = await self._row_message_id(button)
        await self.intake.prepare_then_submit(
            interaction, asyncio.ensure_future(preparing), reply_to=reply_to
        )

    async def _row_message_id(self, button: RowButton) -> str | None:
        try:
            generation = await self.service.generation(button.generation_id)
        except UserFacingError:
            return None  # the prepare answers it
        recorded = DiscordHandle.of(generation.handle).message_id
        return None if recorded is None else str(recorded)

    async def forget(self, interaction: discord.Interaction, button: ForgetAnswer) -> None:
        await privacy.answer(
            self.service, interaction, button.who, cancel=isinstance(button, ForgetCancel)
        )

    async def open_remix(self, interaction: discord.Interaction, button: Remix) -> None:
        """The modal, prefilled; only for a picture made here (checked before it opens).
        A modal must be the first answer to the press, so nothing is deferred before it."""
        original = await self.service.generation_for(
            button.generation_id, requester_of(interaction), scope_of(interaction)
        )
        modal = remix_modal(original, self.service.settings.max_prompt_chars)
        await interaction.response.send_modal(modal)

    async def submit_remix(self, interaction: discord.Interaction, button: RemixSubmit) -> None:
        """The edited prompt, run again with the same style, aspect and count."""
        values = submitted_values(dict(interaction.data or {}))
        preparing = self.service.prepare_remix(
            button.generation_id,
            values.get(PROMPT_INPUT, ""),
            values.get(NEGATIVE_INPUT) or None,
            requester_of(interaction),
            scope_of(interaction),
        )
        await self.intake.prepare_then_submit(interaction, asyncio.ensure_future(preparing))

    async def info(self, interaction: discord.Interaction, button: Info) -> None:
        info = await self.service.info(
            button.generation_id, requester_of(interaction), scope_of(interaction)
        )
        await reply(interaction, info_text(info))

    async def offer_styles(self, interaction: discord.Interaction, button: RestyleMenu) -> None:
        scope = scope_of(interaction)
        original = await self.service.generation_for(
            button.generation_id, requester_of(interaction), scope
        )
        styles = await self.service.allowed_styles(scope)
        await interaction.response.send_message(
            "Pick a style for a new picture with the same prompt:",
            view=restyle_view(button.generation_id, styles, original.style),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    async def delete(self, interaction: discord.Interaction, button: Delete) -> None:
        """The message first, the row after (the message was checked to be the row's)."""
        # Raises PermissionDenied (answered ephemerally) unless the picture was made in this
        # server (or DM) and the presser asked for it or moderates this server.
        generation = await self.service.deletable(
            button.generation_id,
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
            log.warning("generation %s: could not delete its message", button.generation_id)
            await reply(
                interaction, "Discord would not delete the message, so nothing was deleted."
            )
            return
        await self.service.erase_generation(generation)
        if gone_already:
            await reply(interaction, "Deleted from the history (the message was already gone).")

    async def open_editor(self, interaction: discord.Interaction, button: VaryRegion) -> None:
        """🖌: the presser's own signed editor link, ephemeral (web_edits.py)."""
        if self.editor is None:  # offered by an earlier run that served the editor
            await reply(interaction, "The brush editor is not available on this bot any more.")
            return
        await open_editor(self.service, self.editor, interaction, button)

    async def share(self, interaction: discord.Interaction, button: Share) -> None:
        """How to post the picture elsewhere (`/share`), told privately to its owner."""
        generation = await self.service.generation_for(
            button.generation_id, requester_of(interaction), scope_of(interaction), Need.OWNER
        )
        await reply(interaction, how_to_share(generation))

    async def show(self, interaction: discord.Interaction, button: Show) -> None:
        try:
            generation = await self.service.generation_for(
                button.generation_id,
                requester_of(interaction),
                scope_of(interaction),
                Need.OWNER_ANYWHERE,
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
