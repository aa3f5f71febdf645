"""The buttons after the first picture: U1-U4, V1-V4, Remix, Info, Delete, "Imagine this".

As with every button (bot/adapters/telegram/buttons.py), nothing in `callback_data` is
trusted: the core's `prepare_*` and `generation_for` check that the request was made in this
chat (and, for Delete, by this person) before anything is sent, and a refusal is answered
as an alert by `Answers.on_error`.

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
from bot.adapters.telegram.render import MESSAGE_LIMIT, escape, info_text, shorten
from bot.core.ports import DeliveryHandles
from bot.core.service import GenerationService, PreparedRequest

UPSCALE = re.compile(r"^ib:u:(?P<id>[0-9a-f]{1,32}):(?P<index>[1-4])$")
VARY = re.compile(r"^ib:v:(?P<id>[0-9a-f]{1,32}):(?P<index>[1-4])$")
REMIX = re.compile(r"^ib:m:(?P<id>[0-9a-f]{1,32})$")
INFO = re.compile(r"^ib:i:(?P<id>[0-9a-f]{1,32})$")
DELETE = re.compile(r"^ib:D:(?P<id>[0-9a-f]{1,32})$")
IMAGINE_THIS = re.compile(r"^ib:t:(?P<id>[0-9a-f]{1,32}):(?P<index>[1-4])$")


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

    async def _start(self, update: Update, prepared: PreparedRequest) -> None:
        query = callback_query(update)
        if isinstance(query.message, Message):
            await self.intake.may_post_pictures(query.message)  # refused as an alert
        await answer_press(query)
        if isinstance(query.message, Message):
            await self.intake.submit(query.message, prepared)

    async def upscale(self, update: Update, context: Context) -> None:
        prepared = await self.service.prepare_upscale(
            _id(context), _index(context), requester_of(update), scope_of(update)
        )
        await self._start(update, prepared)

    async def vary(self, update: Update, context: Context) -> None:
        prepared = await self.service.prepare_vary(
            _id(context), _index(context), requester_of(update), scope_of(update)
        )
        await self._start(update, prepared)

    async def imagine_this(self, update: Update, context: Context) -> None:
        prepared = await self.service.prepare_suggestion(
            _id(context), _index(context), requester_of(update), scope_of(update)
        )
        await self._start(update, prepared)

    async def remix(self, update: Update, context: Context) -> None:
        query = callback_query(update)
        requester = requester_of(update)
        original = await self.service.generation_for(_id(context), requester, scope_of(update))
        await answer_press(query)
        if not isinstance(query.message, Message):
            return
        prompt = await query.message.reply_text(
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
        info = await self.service.info(_id(context), requester_of(update), scope_of(update))
        text = info_text(info)
        if len(text) <= ALERT_LIMIT:
            await answer_press(query, text, alert=True)
            return
        await answer_press(query)
        if isinstance(query.message, Message):
            await query.message.reply_text(
                escape(shorten(text, MESSAGE_LIMIT - 100)),
                parse_mode=ParseMode.HTML,
                reply_parameters=ReplyParameters(
                    message_id=query.message.message_id, allow_sending_without_reply=True
                ),
            )

    async def delete(self, update: Update, context: Context) -> None:
        query = callback_query(update)
        await self.service.delete_generation(_id(context), requester_of(update), scope_of(update))
        await answer_press(query, "Deleted.")
        if isinstance(query.message, Message):
            await query.message.delete()
