"""The Edit menu under a result (docs/editing.md): Zoom out, Pan, Make square and Edit by
words, on Discord.

🪄 Edit answers with an ephemeral menu (`result_buttons.edit_view`) for the presser alone, so
the result's message keeps its few buttons and nobody else sees the menu; on a grid its
picker swaps the menu for another image's (an update of the ephemeral message). An edit
pressed there is a `ModeratedFollowUp`, run by `Buttons.follow_up` like U and V: the new
picture is the press's own response, posted in the channel where the picture is. Edit by
words opens a modal (a modal must be the first answer to a press, so nothing is deferred
before it); its submit is prepared and queued the same way.

Only the picture's requester, or a moderator of the server (Manage Messages), may open the
menu or edit: checked by the core against the row (`Need.OWNER_OR_MODERATOR`) at each press.
"""

from __future__ import annotations

import asyncio

import discord

from bot.adapters.discord.answers import reader_locale, tell
from bot.adapters.discord.identity import is_moderator, requester_of, scope_of
from bot.adapters.discord.intake import Intake
from bot.adapters.discord.render import NO_MENTIONS, say
from bot.adapters.discord.result_buttons import (
    WORDS_INPUT,
    edit_view,
    edit_words_modal,
    submitted_values,
)
from bot.core.language import Text
from bot.core.models import EditRequest, Generation
from bot.core.requests.access import Need
from bot.core.requests.button_data import RowButton
from bot.core.requests.buttons import EditByWords, EditImage, EditMenu, EditWordsSubmit
from bot.core.requests.edits import NO_EDITS_TEXT
from bot.core.requests.service import GenerationService

NOT_AVAILABLE = Text("That edit is not available for this picture.")


def menu_text(index: int, locale: str) -> str:
    menu = Text("🪄 Edit image {index}. The new picture is posted in this channel.", index=index)
    return say(menu, locale)


class EditButtons:
    def __init__(self, service: GenerationService, intake: Intake) -> None:
        self.service = service
        self.intake = intake

    async def _editable(self, interaction: discord.Interaction, button: RowButton) -> Generation:
        """The row, if the presser may edit it here, with the edits the chain offers."""
        generation = await self.service.generation_for(
            button.generation_id,
            requester_of(interaction),
            scope_of(interaction),
            Need.OWNER_OR_MODERATOR,
            moderator=is_moderator(interaction),
        )
        return generation.model_copy(update={"follow_ups": self.service.follow_ups(generation)})

    async def open_menu(self, interaction: discord.Interaction, button: EditMenu) -> None:
        generation = await self._editable(interaction, button)
        if not generation.follow_ups.edits:
            await tell(self.service, interaction, NO_EDITS_TEXT)
            return
        locale = await reader_locale(self.service, interaction)
        await interaction.response.send_message(
            menu_text(1, locale),
            view=edit_view(generation, 1, locale),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    async def pick_image(self, interaction: discord.Interaction, button: EditImage) -> None:
        generation = await self._editable(interaction, button)
        index = button.index if generation.image(button.index) else 1
        locale = await reader_locale(self.service, interaction)
        await interaction.response.edit_message(
            content=menu_text(index, locale), view=edit_view(generation, index, locale)
        )

    async def ask_words(self, interaction: discord.Interaction, button: EditByWords) -> None:
        generation = await self._editable(interaction, button)
        if generation.image(button.index) is None or not generation.follow_ups.edit_words:
            await tell(self.service, interaction, NOT_AVAILABLE)
            return
        limit = self.service.settings.max_prompt_chars
        locale = await reader_locale(self.service, interaction)
        modal = edit_words_modal(generation.id, button.index, limit, locale)
        await interaction.response.send_modal(modal)

    async def submit_words(self, interaction: discord.Interaction, button: EditWordsSubmit) -> None:
        """The instruction, as the new request's prompt, on that image."""
        values = submitted_values(dict(interaction.data or {}))
        preparing = self.service.prepare_edit(
            button.generation_id,
            button.index,
            EditRequest(action="words"),
            requester_of(interaction),
            scope_of(interaction),
            prompt=values.get(WORDS_INPUT, ""),
            moderator=is_moderator(interaction),
        )
        await self.intake.prepare_then_submit(interaction, asyncio.ensure_future(preparing))
