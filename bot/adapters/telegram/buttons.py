"""Telegram button presses (`callback_data` = `ib:<action>:<args>`), checked before they act.

`callback_data` comes back from the client, and a modified client can send any bytes for any
bot message, so nothing in it is trusted. What a button names is checked against where and
by whom it was pressed, in the core (`GenerationService.generation_for`, bot/core/requests/access.py):
a generation must have been made on Telegram in this very chat; a forget-me button only
works for the identity it names. Then the message: a press acts only on a message the row
recorded (`pressed.row_message`), and a forget-me answer only on a message that carries that
very button (`pressed.carries_data`). A mismatch gets a short refusal and changes nothing.

Each action is its own `CallbackQueryHandler` with a `pattern`, as python-telegram-bot's
examples do; data no pattern matches gets "no longer valid". Errors are answered as alerts
by `Answers.on_error`.

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
import re

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.adapters.telegram.admins import may_act_for, require_admin
from bot.adapters.telegram.answers import Answers, Context, Refused, answer_press, callback_query
from bot.adapters.telegram.identity import requester_of, scope_of
from bot.adapters.telegram.images import for_file, read_existing
from bot.adapters.telegram.intake import Intake
from bot.adapters.telegram.pressed import carries_data, menu_record, row_message
from bot.adapters.telegram.render import style_keyboard
from bot.core.models import Requester
from bot.core.ports import DeliveryHandles
from bot.core.requests.service import GenerationService

log = logging.getLogger(__name__)

ONLY_THEM = "Only the person who asked can answer this."

# `ib:<action>:<args>`: ids are lower-case hex, styles a style id, `<who>` a Telegram id
# (ASCII digits, maybe signed); all bounded. Data that fits no pattern is "no longer valid".
_ID = r"(?P<id>[0-9a-f]{1,32})"
REROLL = re.compile(rf"^ib:r:{_ID}\Z")
RESTYLE_PICK = re.compile(rf"^ib:S:{_ID}:(?P<style>[a-z0-9][a-z0-9-]{{0,40}})\Z")
RESTYLE_MENU = re.compile(rf"^ib:s:{_ID}\Z")
FULL_SIZE = re.compile(rf"^ib:f:{_ID}\Z")
CHAT_DEFAULT = re.compile(r"^ib:A:(?P<style>[a-z0-9][a-z0-9-]{0,40})?\Z")
MY_DEFAULT = re.compile(r"^ib:d:(?P<style>[a-z0-9][a-z0-9-]{0,40})?\Z")
FORGET = re.compile(r"^ib:(?P<action>[FX]):(?P<who>-?[0-9]{1,20})\Z")
ANY = re.compile(r"^ib:")


def _field(context: Context, name: str) -> str | None:
    match = context.match
    assert match is not None
    return match.group(name)


class Buttons:
    def __init__(
        self,
        service: GenerationService,
        answers: Answers,
        intake: Intake,
        handles: DeliveryHandles,
    ) -> None:
        self.service = service
        self.answers = answers
        self.intake = intake
        self.handles = handles

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        for pattern, callback in (
            (REROLL, self.reroll),
            (RESTYLE_PICK, self.restyle),
            (RESTYLE_MENU, self.offer_styles),
            (FULL_SIZE, self.full_size),
            (CHAT_DEFAULT, self.chat_default),
            (MY_DEFAULT, self.my_default),
            (FORGET, self.forget),
            (ANY, self.unknown),  # last: the first handler whose pattern matches answers
        ):
            application.add_handler(CallbackQueryHandler(callback, pattern=pattern))

    async def reroll(self, update: Update, context: Context) -> None:
        await self._variation(update, str(_field(context, "id")), None)

    async def restyle(self, update: Update, context: Context) -> None:
        await self._variation(update, str(_field(context, "id")), _field(context, "style"))

    async def _variation(self, update: Update, generation_id: str, style: str | None) -> None:
        query = callback_query(update)
        requester, scope = requester_of(update), scope_of(update)
        # The row was made in this chat, and the press came from its message (or its menu).
        message = row_message(
            query, await self.service.generation_for(generation_id, requester, scope)
        )
        prepared = await self.service.prepare_variation(
            generation_id, requester, scope, style=style
        )
        await self.intake.may_post_pictures(message)  # refused as an alert
        await answer_press(query)
        await self.intake.submit(message, prepared)

    async def offer_styles(self, update: Update, context: Context) -> None:
        query = callback_query(update)
        generation_id = str(_field(context, "id"))
        scope = scope_of(update)
        generation = await self.service.generation_for(generation_id, requester_of(update), scope)
        message = row_message(query, generation)
        await answer_press(query)
        styles = await self.service.allowed_styles(scope)
        menu = await self.answers.reply(
            message,
            "Pick a style for a new version:",
            reply_markup=style_keyboard(styles, f"ib:S:{generation_id}:"),
        )
        # The menu is the row's too: a pick pressed on it is a press on this request.
        await self.handles.update_handle(generation.id, menu_record(menu))

    async def full_size(self, update: Update, context: Context) -> None:
        query = callback_query(update)
        generation = await self.service.generation_for(
            str(_field(context, "id")), requester_of(update), scope_of(update)
        )
        message = row_message(query, generation)
        await answer_press(query)
        (data,) = await asyncio.to_thread(read_existing, [generation.image_path])
        if data is not None:
            upload = await asyncio.to_thread(for_file, data)  # within the document limit
            await message.reply_document(
                upload.data, filename=f"{generation.id}.{upload.extension}", do_quote=True
            )

    async def chat_default(self, update: Update, context: Context) -> None:
        query = callback_query(update)
        await require_admin(update, context.bot)
        default = await self.service.set_scope_default(
            scope_of(update), _field(context, "style") or ""
        )
        await answer_press(
            query, f"This chat's default style is now {default.label}." if default else "Cleared."
        )

    async def my_default(self, update: Update, context: Context) -> None:
        query = callback_query(update)
        chosen = await self.service.set_user_style(
            requester_of(update), _field(context, "style") or ""
        )
        await answer_press(
            query, f"Your default style is now {chosen.label}." if chosen else "Cleared."
        )

    async def forget(self, update: Update, context: Context) -> None:
        query = callback_query(update)
        who = str(_field(context, "who"))
        if not await may_act_for(update, context.bot, who):
            raise Refused(ONLY_THEM)
        message = carries_data(query)  # the confirmation the bot asked, not any message
        if _field(context, "action") == "X":
            await answer_press(query, "Nothing was deleted.")
            return
        count = await self.service.forget_user(
            Requester(platform="telegram", user_id=who, display_name="")
        )
        await answer_press(query, "Done.")
        await message.edit_text(f"Deleted your history and settings ({count} pictures).")

    async def unknown(self, update: Update, context: Context) -> None:
        await answer_press(callback_query(update), "This button is no longer valid.")
