"""Telegram button presses (`callback_data`), parsed by the core's button classes and each
answered by the one handler its class names here, checked before it acts.

`callback_data` comes back from the client, and a modified client can send any bytes for any
bot message, so nothing in it is trusted: `BUTTONS.parse` (bot/core/requests/buttons.py) reads it
totally, and data it does not know gets "no longer valid". What a button names is checked
against where and by whom it was pressed, in the core (`GenerationService.generation_for`,
bot/core/requests/access.py): a generation must have been made on Telegram in this very chat; a
forget-me button only works for the identity it names. Then the message: a press acts only
on a message the row recorded (`pressed.row_message`), and a forget-me answer only on a
message that carries that very button (`pressed.carries_data`). A mismatch gets a short
refusal and changes nothing; every press is answered (`answer_press`), errors as alerts by
`Answers.on_error`. Delete removes the message first and the row after (removal.py).

Every `FollowUp` (reroll, restyle pick, U, V, "Imagine this") runs the same way: the row's
message, the class's own core call, then the request is submitted under that message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import ForceReply, Message, ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler

from bot.adapters.telegram.admins import may_act_for, require_admin
from bot.adapters.telegram.answers import (
    ALERT_LIMIT,
    Answers,
    Context,
    Refused,
    answer_press,
    callback_query,
)
from bot.adapters.telegram.delivery_handle import REMIX_MARK, TelegramHandle
from bot.adapters.telegram.edit_buttons import EditButtons, moderates
from bot.adapters.telegram.identity import requester_of, scope_of
from bot.adapters.telegram.images import for_file, read_existing
from bot.adapters.telegram.intake import Intake
from bot.adapters.telegram.languages import LanguageCommands
from bot.adapters.telegram.pressed import carries_data, menu_record, row_message
from bot.adapters.telegram.removal import NotRemoved, Removal, remove_message
from bot.adapters.telegram.render import (
    MESSAGE_LIMIT,
    escape,
    info_text,
    say,
    say_plain,
    shorten,
    style_keyboard,
    style_label,
)
from bot.core.language import Plural, Text
from bot.core.models import Generation, Requester
from bot.core.ports import DeliveryHandles
from bot.core.requests.button_data import (
    Button,
    FollowUp,
    ModeratedFollowUp,
    On,
    Presser,
    RowButton,
)
from bot.core.requests.buttons import (
    BUTTONS,
    ChatDefault,
    Delete,
    EditBack,
    EditByWords,
    EditImage,
    EditMenu,
    ForgetAnswer,
    ForgetCancel,
    ForgetConfirm,
    FullSize,
    Info,
    LanguagePick,
    MyDefault,
    Remix,
    RestyleMenu,
    RestylePick,
)
from bot.core.requests.service import GenerationService

log = logging.getLogger(__name__)

ONLY_THEM = Text("Only the person who asked can answer this.")
NO_LONGER_VALID = Text("This button is no longer valid.")
# What Delete says happened (removal.py), in the presser's words.
REMOVALS = {
    Removal.DELETED: Text("Deleted."),
    Removal.ALREADY_GONE: Text("Deleted (the message was already gone)."),
    Removal.REPLACED: Text(
        "Deleted from the history. Telegram lets bots delete messages for 48 hours only, "
        "so the picture was replaced by a placeholder."
    ),
}

Handler = Callable[[Update, Context, Any], Awaitable[None]]


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
        edits = self.edits = EditButtons(service, handles)
        # One handler per button class; every `FollowUp` shares `follow_up`.
        self.handlers: dict[type[Button], Handler] = {
            EditMenu: edits.open_menu,
            EditImage: edits.pick_image,
            EditBack: edits.back,
            EditByWords: edits.ask_words,
            RestyleMenu: self.offer_styles,
            Remix: self.remix,
            Info: self.info,
            Delete: self.delete,
            FullSize: self.full_size,
            MyDefault: self.my_default,
            ChatDefault: self.chat_default,
            LanguagePick: LanguageCommands(service, answers).pick,
            ForgetConfirm: self.forget,
            ForgetCancel: self.forget,
        }

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        # One handler for every press: which action it is comes from the registry, not from
        # the order handlers were added in.
        application.add_handler(CallbackQueryHandler(self.press))

    def handler_for(self, button: Button) -> Handler | None:
        if isinstance(button, FollowUp):
            return self.follow_up
        return self.handlers.get(type(button))

    async def press(self, update: Update, context: Context) -> None:
        query = callback_query(update)
        button = BUTTONS.parse("telegram", query.data or "")
        handler = None if button is None else self.handler_for(button)
        if button is None or handler is None:
            await answer_press(query, say_plain(NO_LONGER_VALID, await self.answers.reader(update)))
            return
        await self._may_press(update, context, button)
        await handler(update, context, button)

    async def _may_press(self, update: Update, context: Context, button: Button) -> None:
        """What the class declares about who presses and where, for buttons that name no row
        (those that do are checked by the core against the row, then `row_message`)."""
        if button.presser is Presser.ADMIN:
            await require_admin(update, context.bot)
        if button.presser is Presser.NAMED:
            assert isinstance(button, ForgetAnswer)  # the one class that names a person
            if not await may_act_for(update, context.bot, button.who):
                raise Refused(ONLY_THEM)
        if button.acts_on("telegram") is On.CARRYING_IT:
            carries_data(callback_query(update))  # the message the bot asked on, not any

    async def _pressed_row(self, update: Update, button: RowButton) -> tuple[Generation, Message]:
        """The row the data names, if the presser may use it here, and its own message."""
        generation = await self.service.generation_for(
            button.generation_id, requester_of(update), scope_of(update)
        )
        return generation, row_message(callback_query(update), generation)

    async def follow_up(self, update: Update, context: Context, button: FollowUp) -> None:
        assert isinstance(button, RowButton)
        generation, message = await self._pressed_row(update, button)
        requester, scope = requester_of(update), scope_of(update)
        if isinstance(button, ModeratedFollowUp):  # the edits: the requester or an admin
            moderator = await moderates(update, context, generation)
            prepared = await button.prepare_as(self.service, requester, scope, moderator=moderator)
        else:
            prepared = await button.prepare(self.service, requester, scope)
        await self.intake.may_post_pictures(message)  # refused as an alert
        await answer_press(callback_query(update))
        await self.intake.submit(message, prepared)

    async def offer_styles(self, update: Update, context: Context, button: RestyleMenu) -> None:
        query = callback_query(update)
        scope = scope_of(update)
        generation, message = await self._pressed_row(update, button)
        await answer_press(query)
        styles = await self.service.allowed_styles(scope)
        locale = await self.answers.reader(update)

        def pick(style: str) -> RestylePick:
            return RestylePick(generation.id, style)

        menu = await self.answers.reply(
            message,
            say(Text("Pick a style for a new version:"), locale),
            reply_markup=style_keyboard(styles, pick, locale),
        )
        # The menu is the row's too: a pick pressed on it is a press on this request.
        await self.handles.update_handle(generation.id, menu_record(menu))

    async def full_size(self, update: Update, context: Context, button: FullSize) -> None:
        query = callback_query(update)
        generation, message = await self._pressed_row(update, button)
        await answer_press(query)
        (data,) = await asyncio.to_thread(read_existing, [generation.image_path])
        if data is not None:
            upload = await asyncio.to_thread(for_file, data)  # within the document limit
            await message.reply_document(
                upload.data, filename=f"{generation.id}.{upload.extension}", do_quote=True
            )

    async def remix(self, update: Update, context: Context, button: Remix) -> None:
        query = callback_query(update)
        requester = requester_of(update)
        original, message = await self._pressed_row(update, button)
        await answer_press(query)
        locale = await self.answers.reader(update)
        ask = Text(
            "Remix {id}: reply to this message with the new prompt (add --no ... for things to "
            "avoid). Same style, aspect and number of pictures.",
            id=original.id,
        )
        placeholder = say_plain(Text("The new prompt"), locale)
        prompt = await message.reply_text(
            # The mark first, outside the catalogue: picture_requests.py knows a Remix prompt by it.
            f"{REMIX_MARK} {say_plain(ask, locale)}",
            reply_markup=ForceReply(input_field_placeholder=placeholder[:64]),
            do_quote=True,
        )
        await self.handles.update_handle(
            original.id, TelegramHandle(remix_prompts={prompt.message_id: requester.user_id})
        )

    async def info(self, update: Update, context: Context, button: Info) -> None:
        query = callback_query(update)
        _, message = await self._pressed_row(update, button)
        info = await self.service.info(button.generation_id, requester_of(update), scope_of(update))
        style = self.service.styles.find(info.style)  # its name in the reader's words
        text = info_text(info, await self.answers.reader(update), style)
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

    async def delete(self, update: Update, context: Context, button: Delete) -> None:
        """The message first, the row after: the row goes only when the picture no longer
        shows (deleted, or replaced by a placeholder when older than 48 hours)."""
        query = callback_query(update)
        generation = await self.service.deletable(
            button.generation_id, requester_of(update), scope_of(update)
        )
        message = row_message(query, generation)
        try:
            removal = await remove_message(
                context.bot, int(generation.chat_id), message, generation.locale
            )
        except NotRemoved:
            kept = Text("Telegram would not remove the message, so nothing was deleted.")
            await answer_press(
                query, say_plain(kept, await self.answers.reader(update)), alert=True
            )
            return
        await self.service.erase_generation(generation)
        said = say_plain(REMOVALS[removal], await self.answers.reader(update))
        await answer_press(query, said, alert=len(said) > 40)

    async def chat_default(self, update: Update, context: Context, button: ChatDefault) -> None:
        query = callback_query(update)
        default = await self.service.set_scope_default(scope_of(update), button.style or "")
        locale = await self.answers.reader(update)
        answer = (
            Text("This chat's default style is now {style}.", style=style_label(default, locale))
            if default
            else Text("Cleared.")
        )
        await answer_press(query, say_plain(answer, locale))

    async def my_default(self, update: Update, context: Context, button: MyDefault) -> None:
        query = callback_query(update)
        chosen = await self.service.set_user_style(
            requester_of(update), button.style or "", scope_of(update)
        )
        locale = await self.answers.reader(update)
        answer = (
            Text("Your default style is now {style}.", style=style_label(chosen, locale))
            if chosen
            else Text("Cleared.")
        )
        await answer_press(query, say_plain(answer, locale))

    async def forget(self, update: Update, context: Context, button: ForgetAnswer) -> None:
        query = callback_query(update)
        message = carries_data(query)  # checked in `_may_press`: the confirmation asked
        locale = await self.answers.reader(update)  # read before their language is forgotten
        if isinstance(button, ForgetCancel):
            await answer_press(query, say_plain(Text("Nothing was deleted."), locale))
            return
        count = await self.service.forget_user(
            Requester(platform="telegram", user_id=button.who, display_name="")
        )
        await answer_press(query, say_plain(Text("Done."), locale))
        deleted = Plural(
            "Deleted your history and settings ({count} picture).",
            "Deleted your history and settings ({count} pictures).",
            count,
        )
        await message.edit_text(say(deleted, locale), parse_mode=ParseMode.HTML)
