"""The buttons under a result, and the Remix modal.

A grid gets one row of U1-U4 (upscale) and, where some provider of the chain takes an
image, one row of V1-V4 (variations); then Reroll, Restyle, Remix, Info and Delete. A single
picture gets Upscale and Vary in one row. An upscale offers Vary, Remix, Info and Delete; a
/describe one "Imagine this" per prompt idea. That is at most three rows of at most five
buttons, within Discord's five rows of five.

Every custom id names the generation (and the tile, for U, V and "Imagine this"), so the
component router answers a press after a restart without any view kept in memory; what a
press may do is checked by the core against the row it names.
"""

from __future__ import annotations

import discord

from bot.adapters.discord.render import custom_id, truncate
from bot.core.models import Generation, Kind

NUMBER_EMOJI = ("1️⃣", "2️⃣", "3️⃣", "4️⃣")
TEXT_INPUT_MAX = 4000  # Discord's limit for a text input's value
PROMPT_INPUT = "prompt"
NEGATIVE_INPUT = "negative"


def _button(
    label: str,
    action: str,
    generation_id: str,
    index: int | None = None,
    *,
    style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    emoji: str | None = None,
    row: int,
) -> discord.ui.Button[discord.ui.View]:
    return discord.ui.Button(
        label=label,
        emoji=emoji,
        style=style,
        custom_id=custom_id(action, generation_id, index),
        row=row,
    )


def result_view(generation: Generation) -> discord.ui.View:
    """The buttons `generation.follow_ups` allows, for as many tiles as it has images."""
    offers = generation.follow_ups
    gid = generation.id
    view = discord.ui.View(timeout=None)
    if generation.kind is Kind.DESCRIBE:
        if offers.imagine_suggestions:
            for index, _text in enumerate(generation.suggestions[:4], start=1):
                view.add_item(
                    _button(
                        "Imagine this",
                        "imagine-this",
                        gid,
                        index,
                        emoji=NUMBER_EMOJI[index - 1],
                        style=discord.ButtonStyle.primary,
                        row=0,
                    )
                )
    else:
        tiles = max(1, len(generation.images))
        per_tile = [("U", "Upscale", "upscale", offers.upscale), ("V", "Vary", "vary", offers.vary)]
        for row, (short, long, action, offered) in enumerate(per_tile):
            if not offered:
                continue
            if tiles == 1:  # one picture: Upscale and Vary share the first row
                view.add_item(_button(long, action, gid, 1, row=0))
                continue
            for index in range(1, tiles + 1):
                view.add_item(_button(f"{short}{index}", action, gid, index, row=row))
    actions = [
        ("Reroll", "reroll", "🎲", offers.reroll, discord.ButtonStyle.primary),
        ("Restyle", "restyle", "🎨", offers.restyle, discord.ButtonStyle.secondary),
        ("Remix", "remix", "✏️", offers.remix, discord.ButtonStyle.secondary),
        ("Info", "info", "ℹ️", offers.info, discord.ButtonStyle.secondary),
        ("Delete", "delete", "🗑️", offers.delete, discord.ButtonStyle.danger),
    ]
    for label, action, emoji, offered, style in actions:
        if offered:
            view.add_item(_button(label, action, gid, emoji=emoji, style=style, row=2))
    # Stopped: nothing is stored in the client's view store; the router answers the clicks.
    view.stop()
    return view


def remix_modal(generation: Generation, max_chars: int) -> discord.ui.Modal:
    """The prompt and negative prompt, prefilled, to edit and run again. Stopped before it
    is sent, so discord.py keeps nothing: the router takes the submit by its custom id."""
    limit = min(max_chars, TEXT_INPUT_MAX)
    modal = discord.ui.Modal(
        title="Remix: edit the prompt", custom_id=custom_id("remix-submit", generation.id)
    )
    modal.add_item(
        discord.ui.TextInput(
            label="Prompt",
            custom_id=PROMPT_INPUT,
            style=discord.TextStyle.paragraph,
            default=truncate(generation.prompt, limit),
            max_length=limit,
            required=True,
        )
    )
    modal.add_item(
        discord.ui.TextInput(
            label="Negative prompt (what it should not show)",
            custom_id=NEGATIVE_INPUT,
            style=discord.TextStyle.paragraph,
            default=truncate(generation.negative_prompt or "", limit) or None,
            max_length=limit,
            required=False,
        )
    )
    modal.stop()
    return modal


MODAL_VALUE_LIMIT = 4000  # Discord's own cap on a text input


def submitted_values(data: dict[str, object]) -> dict[str, str]:
    """A modal submit's text inputs by custom id (rows of inputs, or labels around them)."""
    values: dict[str, str] = {}
    rows = data.get("components")
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        items = [row.get("component")] if row.get("type") == 18 else row.get("components")
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and isinstance(item.get("custom_id"), str):
                values[item["custom_id"]] = str(item.get("value") or "")[:MODAL_VALUE_LIMIT]
    return values
