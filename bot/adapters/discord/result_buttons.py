"""The buttons under a result, and the Remix modal.

A grid gets one row of U1-U4 (upscale) and, where some provider of the chain takes an
image, one row of V1-V4 (variations); then Reroll, Restyle, Remix, Edit, Info, Delete and
Share, five to a row. A single picture gets Upscale and Vary in one row. An upscale offers
Vary, Remix, Edit, Info, Delete and Share; a /describe one "Imagine this" per prompt idea. That
is at most four rows of at most five buttons, within Discord's five rows of five. Edit opens
the edits (`edit_view`) in an ephemeral menu, so the result's own buttons stay as few.

Every custom id names the generation (and the tile, for U, V and "Imagine this"), so the
component router answers a press after a restart without any view kept in memory; what a
press may do is checked by the core against the row it names.
"""

from __future__ import annotations

import discord

from bot.adapters.discord.labels import BUTTON_LABELS, PAN_WAYS
from bot.adapters.discord.render import say, truncate
from bot.core.language import Number, Text
from bot.core.models import Generation, Kind
from bot.core.requests.button_data import Button, Emphasis, ResultAction
from bot.core.requests.buttons import (
    PAN_ARROWS,
    RESULT_ACTIONS,
    TILE_ACTIONS,
    EditByWords,
    EditImage,
    EditWordsSubmit,
    ImagineThis,
    MakeSquare,
    Pan,
    RemixSubmit,
    Upscale,
    Vary,
    VaryRegion,
    ZoomOut,
)

NUMBER_EMOJI = ("1️⃣", "2️⃣", "3️⃣", "4️⃣")
ROW_WIDTH = 5  # buttons in one action row
TEXT_INPUT_MAX = 4000  # Discord's limit for a text input's value
PROMPT_INPUT = "prompt"
WORDS_INPUT = "words"
NEGATIVE_INPUT = "negative"
STYLES = {
    Emphasis.NORMAL: discord.ButtonStyle.secondary,
    Emphasis.PRIMARY: discord.ButtonStyle.primary,
    Emphasis.DANGER: discord.ButtonStyle.danger,
}


def _button(
    label: str,
    button: Button,
    *,
    style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    emoji: str | None = None,
    row: int,
) -> discord.ui.Button[discord.ui.View]:
    return discord.ui.Button(
        label=label, emoji=emoji, style=style, custom_id=button.pack("discord"), row=row
    )


def button_label(action: type[Button], locale: str) -> str:
    """The label of a result or tile button; a class added since (labels.py has no entry
    for it yet) shows its English `label` until it has one."""
    text = BUTTON_LABELS.get(action)
    return say(text, locale) if text else str(getattr(action, "label", ""))


def tile_label(action: type[Button], index: int, locale: str) -> str:
    """A grid's tile button: the action's letter and the image's number (U1, V3)."""
    if action is Upscale:
        return say(Text("U{number}", number=index), locale)
    if action is Vary:
        return say(Text("V{number}", number=index), locale)
    return f"{getattr(action, 'short', '')}{index}"


def _describe_buttons(view: discord.ui.View, generation: Generation) -> None:
    if not generation.follow_ups.imagine_suggestions:
        return
    for index, _text in enumerate(generation.suggestions[:4], start=1):
        view.add_item(
            _button(
                say(Text("Imagine this"), generation.locale),
                ImagineThis(generation.id, index),
                emoji=NUMBER_EMOJI[index - 1],
                style=discord.ButtonStyle.primary,
                row=0,
            )
        )


def result_view(generation: Generation, *, brush: bool = False) -> discord.ui.View:
    """The buttons `generation.follow_ups` allows, for as many tiles as it has images; with
    `brush` (the bot serves the brush editor and can repaint a region), 🖌 too. Labelled in
    the requester's locale: the result is theirs, whoever else reads it."""
    gid, locale = generation.id, generation.locale
    view = discord.ui.View(timeout=None)
    if generation.kind is Kind.DESCRIBE:
        _describe_buttons(view, generation)
    else:
        tiles = max(1, len(generation.images))
        for row, tile in enumerate(TILE_ACTIONS):
            if not tile.offered(generation):
                continue
            if tiles == 1:  # one picture: Upscale and Vary share the first row
                view.add_item(_button(button_label(tile, locale), tile(gid, 1), row=0))
                continue
            for index in range(1, tiles + 1):
                label = tile_label(tile, index, locale)
                view.add_item(_button(label, tile(gid, index), row=row))
    offered: list[type[ResultAction]] = [a for a in RESULT_ACTIONS if a.offered(generation)]
    if brush and VaryRegion.offered(generation):
        offered.append(VaryRegion)
    for position, action in enumerate(offered):
        style = STYLES[action.emphasis]
        emoji = action.discord_emoji
        # Below one row per tile action, five to a row (Discord's limit).
        row = len(TILE_ACTIONS) + position // ROW_WIDTH
        label = button_label(action, locale)
        view.add_item(_button(label, action(gid), emoji=emoji, style=style, row=row))
    # Stopped: nothing is stored in the client's view store; the router answers the clicks.
    view.stop()
    return view


def remix_modal(generation: Generation, max_chars: int, locale: str) -> discord.ui.Modal:
    """The prompt and negative prompt, prefilled, to edit and run again. Stopped before it
    is sent, so discord.py keeps nothing: the router takes the submit by its custom id."""
    limit = min(max_chars, TEXT_INPUT_MAX)
    modal = discord.ui.Modal(
        title=say(Text("Remix: edit the prompt"), locale),
        custom_id=RemixSubmit(generation.id).pack("discord"),
    )
    modal.add_item(
        discord.ui.TextInput(
            label=say(Text("Prompt"), locale),
            custom_id=PROMPT_INPUT,
            style=discord.TextStyle.paragraph,
            default=truncate(generation.prompt, limit),
            max_length=limit,
            required=True,
        )
    )
    modal.add_item(
        discord.ui.TextInput(
            label=say(Text("Negative prompt (what it should not show)"), locale),
            custom_id=NEGATIVE_INPUT,
            style=discord.TextStyle.paragraph,
            default=truncate(generation.negative_prompt or "", limit) or None,
            max_length=limit,
            required=False,
        )
    )
    modal.stop()
    return modal


def edit_view(generation: Generation, index: int, locale: str) -> discord.ui.View:
    """The Edit menu of image `index` (ephemeral): the edits the chain can make
    (`generation.follow_ups`), and on a grid a picker of the image."""
    gid, offers = generation.id, generation.follow_ups
    view = discord.ui.View(timeout=None)
    if offers.outpaint:
        for factor in (1.5, 2.0):
            zoom = ZoomOut(gid, index, factor)
            label = say(Text("Zoom out {factor}x", factor=Number(factor)), locale)
            view.add_item(_button(label, zoom, emoji="🔍", row=0))
        for way, arrow in PAN_ARROWS.items():
            label = say(PAN_WAYS[way], locale)
            view.add_item(_button(label, Pan(gid, index, way), emoji=arrow, row=1))
    if MakeSquare.offered(offers, generation.aspect):
        label = say(Text("Make square"), locale)
        view.add_item(_button(label, MakeSquare(gid, index), emoji="⬜", row=0))
    if offers.edit_words:
        words = EditByWords(gid, index)
        primary = discord.ButtonStyle.primary
        label = say(Text("Edit by words"), locale)
        view.add_item(_button(label, words, emoji="💬", style=primary, row=0))
    tiles = len(generation.images)
    for k in range(1, tiles + 1) if tiles > 1 else ():
        style = discord.ButtonStyle.primary if k == index else discord.ButtonStyle.secondary
        label = say(Text("Image {number}", number=k), locale)
        view.add_item(_button(label, EditImage(gid, k), style=style, row=2))
    view.stop()
    return view


def edit_words_modal(
    generation_id: str, index: int, max_chars: int, locale: str
) -> discord.ui.Modal:
    """What to change in image `index`, in words (stopped: the router takes the submit)."""
    modal = discord.ui.Modal(
        title=say(Text("Edit image {index} by words", index=index), locale),
        custom_id=EditWordsSubmit(generation_id, index).pack("discord"),
    )
    modal.add_item(
        discord.ui.TextInput(
            label=say(Text("What to change"), locale),
            custom_id=WORDS_INPUT,
            style=discord.TextStyle.paragraph,
            placeholder=say(Text("make it night; remove the hat"), locale),
            max_length=min(max_chars, TEXT_INPUT_MAX),
            required=True,
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
