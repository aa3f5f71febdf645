"""The buttons under a result, from what the core says it offers (`generation.follow_ups`).

Every `callback_data` is `ib:<action>:<generation id>[:<index>]`, at most 23 bytes (Telegram
allows 64): it names the request and the tile, nothing else, so a button keeps working after
a restart and is checked against the pressing person and chat at every press
(bot/adapters/telegram/follow_up_buttons.py).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.models import Generation, Kind

CALLBACK_LIMIT = 64  # bytes, Telegram's limit for callback_data


def _button(text: str, data: str) -> InlineKeyboardButton:
    assert len(data.encode()) <= CALLBACK_LIMIT, data
    return InlineKeyboardButton(text, callback_data=data)


def result_keyboard(generation: Generation) -> InlineKeyboardMarkup:
    """U1-U4 and V1-V4 for each tile (V only where a provider takes an image), then reroll,
    restyle, remix, info and delete; an upscale offers vary, remix, info and delete."""
    offers = generation.follow_ups
    gid = generation.id
    tiles = max(1, len(generation.images) or generation.count)
    rows: list[list[InlineKeyboardButton]] = []
    if generation.kind is Kind.DESCRIBE:
        rows = [
            [_button(f"✨ Imagine this ({k})", f"ib:t:{gid}:{k}")]
            for k in range(1, len(generation.suggestions) + 1)
            if offers.imagine_suggestions
        ]
        return InlineKeyboardMarkup([*rows, [_button("🗑 Delete", f"ib:D:{gid}")]])
    if offers.upscale:
        if tiles == 1:
            rows.append([_button("⬆️ Upscale", f"ib:u:{gid}:1")])
        else:
            rows.append([_button(f"U{k}", f"ib:u:{gid}:{k}") for k in range(1, tiles + 1)])
    if offers.vary:
        if tiles == 1:
            rows.append([_button("🔀 Vary", f"ib:v:{gid}:1")])
        else:
            rows.append([_button(f"V{k}", f"ib:v:{gid}:{k}") for k in range(1, tiles + 1)])
    again: list[InlineKeyboardButton] = []
    if offers.reroll:
        again.append(_button("🔁 Reroll", f"ib:r:{gid}"))
    if offers.restyle:
        again.append(_button("🎨 Restyle", f"ib:s:{gid}"))
    if offers.remix:
        again.append(_button("✏️ Remix", f"ib:m:{gid}"))
    if again:
        rows.append(again)
    last: list[InlineKeyboardButton] = []
    if offers.info:
        last.append(_button("ℹ️ Info", f"ib:i:{gid}"))
    if offers.delete:
        last.append(_button("🗑 Delete", f"ib:D:{gid}"))
    if last:
        rows.append(last)
    return InlineKeyboardMarkup(rows)
