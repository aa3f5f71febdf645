"""The buttons under a result, from what the core says it offers (`generation.follow_ups`).

Each button is a core button class (bot/core/requests/buttons.py) packed as Telegram
`callback_data`: `ib:<tag>:<generation id>[:<index>]`, at most 23 bytes (Telegram allows 64).
It names the request and the tile, nothing else, so a button keeps working after a restart
and is checked against the pressing person and chat at every press (buttons.py).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, SwitchInlineQueryChosenChat

from bot.core.models import Generation, Kind
from bot.core.requests.button_data import Button
from bot.core.requests.buttons import (
    PAN_ARROWS,
    RESULT_ACTIONS,
    TILE_ACTIONS,
    Delete,
    EditBack,
    EditByWords,
    EditImage,
    ImagineThis,
    MakeSquare,
    Pan,
    Share,
    VaryRegion,
    ZoomOut,
)


def _button(text: str, button: Button) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=button.pack("telegram"))


def _share(text: str, share: Share) -> InlineKeyboardButton:
    """Share: no callback; Telegram asks the user for a chat and opens inline mode there with
    `share:<id>` typed in, which the bot answers with the picture (bot/adapters/telegram/
    inline.py)."""
    chats = SwitchInlineQueryChosenChat(
        query=share.inline_query(),
        allow_user_chats=True,
        allow_bot_chats=False,
        allow_group_chats=True,
        allow_channel_chats=True,
    )
    return InlineKeyboardButton(text, switch_inline_query_chosen_chat=chats)


def _describe_keyboard(generation: Generation) -> InlineKeyboardMarkup:
    rows = [
        [_button(f"✨ Imagine this ({k})", ImagineThis(generation.id, k))]
        for k in range(1, len(generation.suggestions) + 1)
        if generation.follow_ups.imagine_suggestions
    ]
    return InlineKeyboardMarkup([*rows, [_button("🗑 Delete", Delete(generation.id))]])


def result_keyboard(
    generation: Generation, brush: InlineKeyboardButton | None = None, *, share: bool = False
) -> InlineKeyboardMarkup:
    """U1-U4 and V1-V4 for each tile (V only where a provider takes an image), then reroll,
    restyle, remix, then info and delete; an upscale offers vary, remix, info and delete.
    `brush`, the 🖌 link to the editor (web_edits.py), goes first in the last row. Share only
    with `share` (inline mode on in BotFather: the button opens it)."""
    if generation.kind is Kind.DESCRIBE:
        return _describe_keyboard(generation)
    gid = generation.id
    tiles = max(1, len(generation.images) or generation.count)
    rows: list[list[InlineKeyboardButton]] = []
    for tile in TILE_ACTIONS:
        if not tile.offered(generation):
            continue
        if tiles == 1:
            rows.append([_button(f"{tile.telegram_emoji} {tile.label}", tile(gid, 1))])
        else:
            rows.append([_button(f"{tile.short}{k}", tile(gid, k)) for k in range(1, tiles + 1)])
    grouped: dict[int, list[InlineKeyboardButton]] = {}
    for action in RESULT_ACTIONS:
        if not action.offered(generation) or (action is Share and not share):
            continue
        text = f"{action.telegram_emoji} {action.label}"
        made = _share(text, Share(gid)) if action is Share else _button(text, action(gid))
        grouped.setdefault(action.telegram_row, []).append(made)
    if brush is not None:
        grouped.setdefault(VaryRegion.telegram_row, []).insert(0, brush)
    rows.extend(grouped[row] for row in sorted(grouped))
    return InlineKeyboardMarkup(rows)


def edit_keyboard(generation: Generation, index: int) -> InlineKeyboardMarkup:
    """The Edit menu of image `index`, in place of the result's buttons: the edits the chain
    can make (`generation.follow_ups`), a picker of the image on a grid, and the way back."""
    gid, offers = generation.id, generation.follow_ups
    rows: list[list[InlineKeyboardButton]] = []
    if offers.outpaint:
        rows.append(
            [
                _button(f"🔍 Zoom out {factor:g}x", ZoomOut(gid, index, factor))
                for factor in (1.5, 2.0)
            ]
        )
        rows.append([_button(arrow, Pan(gid, index, way)) for way, arrow in PAN_ARROWS.items()])
    last = []
    if MakeSquare.offered(offers, generation.aspect):
        last.append(_button("⬜ Make square", MakeSquare(gid, index)))
    if offers.edit_words:
        last.append(_button("💬 Edit by words", EditByWords(gid, index)))
    if last:
        rows.append(last)
    tiles = len(generation.images)
    if tiles > 1:
        rows.append(
            [
                _button(f"· {k} ·" if k == index else str(k), EditImage(gid, k))
                for k in range(1, tiles + 1)
            ]
        )
    rows.append([_button("↩️ Back", EditBack(gid))])
    return InlineKeyboardMarkup(rows)
