"""Telegram button presses (`callback_data` = `ib:<action>:<args>`), checked before they act.

`callback_data` comes back from the client, and a modified client can send any bytes for any
bot message, so nothing in it is trusted. What a button names is checked against where and
by whom it was pressed, in the core (`GenerationService.generation_for`, bot/core/access.py):
a generation must have been made on Telegram in this very chat; a forget-me button only
works for the identity it names. A mismatch gets a short refusal and changes nothing.

| data | action | who may press |
|---|---|---|
| `ib:r:<id>` | reroll | anyone in the chat where the picture was made |
| `ib:s:<id>` / `ib:S:<id>:<style>` | restyle menu / pick | same |
| `ib:f:<id>` | full-size file | same |
| `ib:d:<style>` | my default style | anyone (sets their own) |
| `ib:A:<style>` | chat default style | the chat's admins |
| `ib:F:<who>` / `ib:X:<who>` | forget me / cancel | `<who>` themself, or an admin of the chat `<who>` names (an anonymous admin's identity) |
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from telegram import CallbackQuery, Message, Update
from telegram.error import TelegramError

from bot.adapters.telegram.identity import ADMIN_STATUSES, requester_of, scope_of
from bot.adapters.telegram.images import read_existing
from bot.adapters.telegram.render import plain, style_keyboard
from bot.core.errors import UserFacingError
from bot.core.models import Requester

if TYPE_CHECKING:
    from bot.adapters.telegram.handlers import Context, Handlers

log = logging.getLogger(__name__)

ONLY_THEM = "Only the person who asked can answer this."


class Buttons:
    def __init__(self, handlers: Handlers) -> None:
        self.handlers = handlers
        self.service = handlers.service

    async def press(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None or query.data is None:
            return
        parts = query.data.split(":")
        action, args = parts[1] if len(parts) > 1 else "", parts[2:]
        try:
            if action in ("r", "S") and args:
                style = args[1] if action == "S" and len(args) > 1 else None
                await self.variation(update, query, args[0], style)
            elif action == "s" and args:
                await self.offer_styles(update, query, args[0])
            elif action == "f" and args:
                await self.full_size(update, query, args[0])
            elif action == "A" and args:
                await self.chat_default(update, context, query, args[0])
            elif action == "d" and args:
                chosen = await self.service.set_user_style(requester_of(update), args[0])
                await query.answer(
                    f"Your default style is now {chosen.label}." if chosen else "Cleared."
                )
            elif action in ("F", "X") and args:
                await self.forget(update, context, query, action, args[0])
            else:
                await query.answer("This button is no longer valid.")
        except UserFacingError as exc:
            await query.answer(plain(exc.message)[:200], show_alert=True)

    async def variation(
        self, update: Update, query: CallbackQuery, generation_id: str, style: str | None
    ) -> None:
        # Checks the generation was made in this chat before anything is sent.
        prepared = await self.service.prepare_variation(
            generation_id, requester_of(update), scope_of(update), style=style
        )
        await query.answer()
        if isinstance(query.message, Message):
            await self.handlers.submit(query.message, prepared)

    async def offer_styles(self, update: Update, query: CallbackQuery, generation_id: str) -> None:
        scope = scope_of(update)
        await self.service.generation_for(generation_id, requester_of(update), scope)
        await query.answer()
        styles = await self.service.allowed_styles(scope)
        if isinstance(query.message, Message):
            await self.handlers.reply(
                query.message,
                "Pick a style for a new version:",
                reply_markup=style_keyboard(styles, f"ib:S:{generation_id}:"),
            )

    async def full_size(self, update: Update, query: CallbackQuery, generation_id: str) -> None:
        generation = await self.service.generation_for(
            generation_id, requester_of(update), scope_of(update)
        )
        await query.answer()
        (data,) = await asyncio.to_thread(read_existing, [generation.image_path])
        if data is not None and isinstance(query.message, Message):
            await query.message.reply_document(data, filename=f"{generation.id}.png", do_quote=True)

    async def chat_default(
        self, update: Update, context: Context, query: CallbackQuery, style: str
    ) -> None:
        if not await self.handlers.is_admin(update, context):
            await query.answer("Only this chat's admins can change its settings.", show_alert=True)
            return
        default = await self.service.set_scope_default(scope_of(update), style)
        await query.answer(
            f"This chat's default style is now {default.label}." if default else "Cleared."
        )

    async def may_act_for(self, update: Update, context: Context, who: str) -> bool:
        """The presser is `who`, or `who` is a chat (an anonymous admin or a channel identity)
        and the presser administers that chat."""
        user = update.effective_user
        if user is None:
            return False
        if who == str(user.id):
            return True
        if not who.startswith("-"):
            return False  # another person's id
        try:
            member = await context.bot.get_chat_member(int(who), user.id)
        except (TelegramError, ValueError):
            return False
        return member.status in ADMIN_STATUSES

    async def forget(
        self, update: Update, context: Context, query: CallbackQuery, action: str, who: str
    ) -> None:
        if not await self.may_act_for(update, context, who):
            await query.answer(ONLY_THEM, show_alert=True)
            return
        if action == "X":
            await query.answer("Nothing was deleted.")
            return
        count = await self.service.forget_user(
            Requester(platform="telegram", user_id=who, display_name="")
        )
        await query.answer("Done.")
        if isinstance(query.message, Message):
            await query.message.edit_text(f"Deleted your history and settings ({count} pictures).")
