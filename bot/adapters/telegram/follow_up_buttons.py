"""The buttons after the first picture: U1-U4, V1-V4, Remix, Info, Delete, "Imagine this".

As with every button (bot/adapters/telegram/buttons.py), nothing in `callback_data` is
trusted: the core's `prepare_*` and `generation_for` check that the request was made in this
chat (and, for Delete, by this person), and `pressed.row_message` that the press came from a
message the row recorded, before anything is sent; a refusal is answered as an alert by
`Answers.on_error`. Delete removes the message first and the row after (removal.py).

| data | action | who may press |
|---|---|---|
| `ib:u:<id>:<k>` | U<k>: image k upscaled (or the original file) | anyone in the chat where it was made |
| `ib:v:<id>:<k>` | V<k>: a new grid made from image k | same |
| `ib:m:<id>` | Remix: a ForceReply asking for the new prompt | same; only the presser may answer |
| `ib:i:<id>` | Info: an alert, or a reply when it does not fit | same |
| `ib:D:<id>` | Delete the picture and its history row | the person who asked |
| `ib:t:<id>:<k>` | "Imagine this": suggestion k of a /describe | anyone in the chat |
"""

from __future__ import annotations

import re

from telegram import ForceReply, Message, ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler

from bot.adapters.telegram.answers import (
    ALERT_LIMIT,
    Answers,
    Context,
    answer_press,
    callback_query,
)
from bot.adapters.telegram.identity import requester_of, scope_of
from bot.adapters.telegram.intake import Intake
from bot.adapters.telegram.picture_requests import remix_key
from bot.adapters.telegram.pressed import row_message
from bot.adapters.telegram.removal import NotRemoved, remove_message
from bot.adapters.telegram.render import MESSAGE_LIMIT, escape, info_text, shorten
from bot.core.models import Generation
from bot.core.ports import DeliveryHandles
from bot.core.requests.service import GenerationService, PreparedRequest

UPSCALE = re.compile(r"^ib:u:(?P<id>[0-9a-f]{1,32}):(?P<index>[1-4])\Z")
VARY = re.compile(r"^ib:v:(?P<id>[0-9a-f]{1,32}):(?P<index>[1-4])\Z")
REMIX = re.compile(r"^ib:m:(?P<id>[0-9a-f]{1,32})\Z")
INFO = re.compile(r"^ib:i:(?P<id>[0-9a-f]{1,32})\Z")
DELETE = re.compile(r"^ib:D:(?P<id>[0-9a-f]{1,32})\Z")
IMAGINE_THIS = re.compile(r"^ib:t:(?P<id>[0-9a-f]{1,32}):(?P<index>[1-4])\Z")


def _id(context: Context) -> str:
    assert context.match is not None
    return str(context.match.group("id"))


def _index(context: Context) -> int:
    assert context.match is not None
    return int(context.match.group("index"))


class FollowUpButtons:
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
            (UPSCALE, self.upscale),
            (VARY, self.vary),
            (REMIX, self.remix),
            (INFO, self.info),
            (DELETE, self.delete),
            (IMAGINE_THIS, self.imagine_this),
        ):
            application.add_handler(CallbackQueryHandler(callback, pattern=pattern))

    async def _pressed_row(self, update: Update, context: Context) -> tuple[Generation, Message]:
        """The row the data names, if the presser may use it here, and its own message."""
        generation = await self.service.generation_for(
            _id(context), requester_of(update), scope_of(update)
        )
        return generation, row_message(callback_query(update), generation)

    async def _start(self, update: Update, message: Message, prepared: PreparedRequest) -> None:
        await self.intake.may_post_pictures(message)  # refused as an alert
        await answer_press(callback_query(update))
        await self.intake.submit(message, prepared)

    async def upscale(self, update: Update, context: Context) -> None:
        _, message = await self._pressed_row(update, context)
        prepared = await self.service.prepare_upscale(
            _id(context), _index(context), requester_of(update), scope_of(update)
        )
        await self._start(update, message, prepared)

    async def vary(self, update: Update, context: Context) -> None:
        _, message = await self._pressed_row(update, context)
        prepared = await self.service.prepare_vary(
            _id(context), _index(context), requester_of(update), scope_of(update)
        )
        await self._start(update, message, prepared)

    async def imagine_this(self, update: Update, context: Context) -> None:
        _, message = await self._pressed_row(update, context)
        prepared = await self.service.prepare_suggestion(
            _id(context), _index(context), requester_of(update), scope_of(update)
        )
        await self._start(update, message, prepared)

    async def remix(self, update: Update, context: Context) -> None:
        query = callback_query(update)
        requester = requester_of(update)
        original, message = await self._pressed_row(update, context)
        await answer_press(query)
        prompt = await message.reply_text(
            f"✏️ Remix {original.id}: reply to this message with the new prompt "
            f"(add --no ... for things to avoid). Same style, aspect and number of pictures.",
            reply_markup=ForceReply(input_field_placeholder="The new prompt"),
            do_quote=True,
        )
        await self.handles.update_handle(
            original.id, {remix_key(prompt.message_id): requester.user_id}
        )

    async def info(self, update: Update, context: Context) -> None:
        query = callback_query(update)
        _, message = await self._pressed_row(update, context)
        info = await self.service.info(_id(context), requester_of(update), scope_of(update))
        text = info_text(info)
        if len(text) <= ALERT_LIMIT:
            await answer_press(query, text, alert=True)
            return
        await answer_press(query)
        await message.reply_text(
            escape(shorten(text, MESSAGE_LIMIT - 100)),
            parse_mode=ParseMode.HTML,
            reply_parameters=ReplyParameters(
                message_id=message.message_id, allow_sending_without_reply=True
            ),
        )

    async def delete(self, update: Update, context: Context) -> None:
        """The message first, the row after: the row goes only when the picture no longer
        shows (deleted, or replaced by a placeholder when older than 48 hours)."""
        query = callback_query(update)
        generation = await self.service.deletable(
            _id(context), requester_of(update), scope_of(update)
        )
        message = row_message(query, generation)
        try:
            removal = await remove_message(context.bot, int(generation.chat_id), message)
        except NotRemoved:
            await answer_press(
                query, "Telegram would not remove the message, so nothing was deleted.", alert=True
            )
            return
        await self.service.erase_generation(generation)
        await answer_press(query, removal.value, alert=len(removal.value) > 40)
