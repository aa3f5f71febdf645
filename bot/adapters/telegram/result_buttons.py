"""The buttons under a result, from what the core says it offers (`generation.follow_ups`).

Each button is a core button class (bot/core/requests/buttons.py) packed as Telegram
`callback_data`: `ib:<tag>:<generation id>[:<index>]`, at most 23 bytes (Telegram allows 64).
It names the request and the tile, nothing else, so a button keeps working after a restart
and is checked against the pressing person and chat at every press (buttons.py).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, SwitchInlineQueryChosenChat

from bot.adapters.telegram.render import say_plain
from bot.core.language import Number, Text
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
    EditMenu,
    ImagineThis,
    Info,
    MakeSquare,
    Pan,
    Remix,
    Reroll,
    RestyleMenu,
    Share,
    Upscale,
    Vary,
    VaryRegion,
    ZoomOut,
)

# Each button's words in the catalogue (the core's classes name them in English for the logs
# and the docs); a class missing here shows its English label, which the pseudo-locale test
# catches.
LABELS: dict[type[Button], Text] = {
    Reroll: Text("Reroll"),
    RestyleMenu: Text("Restyle"),
    Remix: Text("Remix"),
    EditMenu: Text("Edit"),
    Info: Text("Info"),
    Delete: Text("Delete"),
    Share: Text("Share"),
    Upscale: Text("Upscale"),
    Vary: Text("Vary"),
    VaryRegion: Text("Vary (Region)"),
}
# A grid's tile buttons: the action's letter and the tile's number (U1 upscales tile 1).
TILE_SHORT: dict[type[Button], Text] = {Upscale: Text("U{number}"), Vary: Text("V{number}")}


def _tile_short(tile: type[Button], number: int, locale: str) -> str:
    short = TILE_SHORT.get(tile)
    if short is None:
        return f"{getattr(tile, 'short', '')}{number}"
    return say_plain(Text(short.message, number=number), locale)


def label(action: type[Button], emoji: str, locale: str) -> str:
    """A button's text: its emoji and its words in `locale`."""
    words = LABELS.get(action) or Text(str(getattr(action, "label", "")))
    return f"{emoji} {say_plain(words, locale)}"


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
    locale = generation.locale
    rows = [
        [
            _button(
                say_plain(Text("✨ Imagine this ({number})", number=k), locale),
                ImagineThis(generation.id, k),
            )
        ]
        for k in range(1, len(generation.suggestions) + 1)
        if generation.follow_ups.imagine_suggestions
    ]
    delete = _button(label(Delete, "🗑", locale), Delete(generation.id))
    return InlineKeyboardMarkup([*rows, [delete]])


def result_keyboard(
    generation: Generation, brush: InlineKeyboardButton | None = None, *, share: bool = False
) -> InlineKeyboardMarkup:
    """U1-U4 and V1-V4 for each tile (V only where a provider takes an image), then reroll,
    restyle, remix, then info and delete; an upscale offers vary, remix, info and delete.
    `brush`, the 🖌 link to the editor (web_edits.py), goes first in the last row. Share only
    with `share` (inline mode on in BotFather: the button opens it)."""
    if generation.kind is Kind.DESCRIBE:
        return _describe_keyboard(generation)
    gid, locale = generation.id, generation.locale
    tiles = max(1, len(generation.images) or generation.count)
    rows: list[list[InlineKeyboardButton]] = []
    for tile in TILE_ACTIONS:
        if not tile.offered(generation):
            continue
        if tiles == 1:
            rows.append([_button(label(tile, tile.telegram_emoji, locale), tile(gid, 1))])
        else:
            rows.append(
                [_button(_tile_short(tile, k, locale), tile(gid, k)) for k in range(1, tiles + 1)]
            )
    grouped: dict[int, list[InlineKeyboardButton]] = {}
    for action in RESULT_ACTIONS:
        if not action.offered(generation) or (action is Share and not share):
            continue
        text = label(action, action.telegram_emoji, locale)
        made = _share(text, Share(gid)) if action is Share else _button(text, action(gid))
        grouped.setdefault(action.telegram_row, []).append(made)
    if brush is not None:
        grouped.setdefault(VaryRegion.telegram_row, []).insert(0, brush)
    rows.extend(grouped[row] for row in sorted(grouped))
    return InlineKeyboardMarkup(rows)


def edit_keyboard(generation: Generation, index: int) -> InlineKeyboardMarkup:
    """The Edit menu of image `index`, in place of the result's buttons: the edits the chain
    can make (`generation.follow_ups`), a picker of the image on a grid, and the way back."""
    gid, offers, locale = generation.id, generation.follow_ups, generation.locale
    rows: list[list[InlineKeyboardButton]] = []
    if offers.outpaint:
        rows.append(
            [
                _button(
                    say_plain(Text("🔍 Zoom out {factor}x", factor=Number(factor)), locale),
                    ZoomOut(gid, index, factor),
                )
                for factor in (1.5, 2.0)
            ]
        )
        rows.append([_button(arrow, Pan(gid, index, way)) for way, arrow in PAN_ARROWS.items()])
    last = []
    if MakeSquare.offered(offers, generation.aspect):
        last.append(_button(say_plain(Text("⬜ Make square"), locale), MakeSquare(gid, index)))
    if offers.edit_words:
        words = say_plain(Text("💬 Edit by words"), locale)
        last.append(_button(words, EditByWords(gid, index)))
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
    rows.append([_button(say_plain(Text("↩️ Back"), locale), EditBack(gid))])
    return InlineKeyboardMarkup(rows)
