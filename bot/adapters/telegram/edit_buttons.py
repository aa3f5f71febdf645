"""The Edit menu under a result (docs/editing.md): Zoom out, Pan, Make square and Edit by
words, on Telegram.

🪄 Edit swaps the picture's own keyboard for the edits of image 1 (`result_buttons.
edit_keyboard`: a picker of the image on a grid, ↩️ Back restores the result's buttons), so
the chat gets no extra message and every edit is pressed on the picture itself: the row's
recorded message (`pressed.row_message`), and the new picture replies to it. Each swap is one
`editMessageReplyMarkup`, which Telegram's flood control counts (flood.py counts it too).

Only the picture's requester, or an admin of the chat, may open the menu or edit: checked
here against the row (`check_access`, `Need.OWNER_OR_MODERATOR`) before the keyboard changes,
and again by the core when an edit is prepared. Edit by words asks with a ForceReply, as
Remix does: the prompt message is recorded in the row's handle with who may answer it, and
the answer (picture_requests.py) is taken once, from that person only.
"""

from __future__ import annotations

from collections.abc import Callable

from telegram import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest

from bot.adapters.telegram.admins import is_admin
from bot.adapters.telegram.answers import Context, answer_press, callback_query
from bot.adapters.telegram.delivery_handle import EDIT_MARK, TelegramHandle
from bot.adapters.telegram.identity import requester_of, scope_of
from bot.adapters.telegram.pressed import row_message
from bot.adapters.telegram.render import say_plain
from bot.adapters.telegram.result_buttons import edit_keyboard, result_keyboard
from bot.core.language import Text
from bot.core.models import Generation
from bot.core.ports import DeliveryHandles
from bot.core.requests.access import Need, check_access
from bot.core.requests.button_data import RowButton
from bot.core.requests.buttons import EditBack, EditByWords, EditImage, EditMenu
from bot.core.requests.edits import NO_EDITS_TEXT
from bot.core.requests.service import GenerationService

NOT_MODIFIED = "message is not modified"


def edit_words_prompt(generation_id: str, index: int, locale: str) -> str:
    """The ForceReply prompt; picture_requests.py knows it by its first character and reads
    the request's id back from it."""
    ask = Text(
        "Edit image {index} of {id}: reply to this message with what to change (for example: "
        "make it night, remove the hat).",
        index=index,
        id=generation_id,
    )
    return f"{EDIT_MARK} {say_plain(ask, locale)}"


def editing(index: int) -> Text:
    return Text("Edit image {index}", index=index)


async def moderates(update: Update, context: Context, generation: Generation) -> bool:
    """Whether someone other than the requester administers the chat (asked only then)."""
    requester = requester_of(update)
    return generation.user_id != requester.user_id and await is_admin(update, context.bot)


class EditButtons:
    def __init__(self, service: GenerationService, handles: DeliveryHandles) -> None:
        self.service = service
        self.handles = handles
        # The result's own buttons, as delivery makes them (the 🖌 link made afresh where the
        # bot serves the editor, Share where inline mode is on): "Back" puts them back.
        self.result_keyboard: Callable[[Generation], InlineKeyboardMarkup] = result_keyboard

    async def editable_row(
        self, update: Update, context: Context, button: RowButton
    ) -> tuple[Generation, Message]:
        """The row, if the presser may edit it here, with its offers; and its own message."""
        requester, scope = requester_of(update), scope_of(update)
        generation = await self.service.generation_for(button.generation_id, requester, scope)
        message = row_message(callback_query(update), generation)
        moderator = await moderates(update, context, generation)
        check_access(generation, requester, scope, Need.OWNER_OR_MODERATOR, moderator=moderator)
        offers = self.service.follow_ups(generation)
        return generation.model_copy(update={"follow_ups": offers}), message

    async def open_menu(self, update: Update, context: Context, button: EditMenu) -> None:
        generation, _ = await self.editable_row(update, context, button)
        query, locale = callback_query(update), generation.locale
        if not generation.follow_ups.edits:
            await answer_press(query, say_plain(NO_EDITS_TEXT, locale), alert=True)
            return
        await self._show(query, edit_keyboard(generation, 1), say_plain(editing(1), locale))

    async def pick_image(self, update: Update, context: Context, button: EditImage) -> None:
        generation, _ = await self.editable_row(update, context, button)
        index = button.index if generation.image(button.index) else 1
        note = say_plain(editing(index), generation.locale)
        await self._show(callback_query(update), edit_keyboard(generation, index), note)

    async def back(self, update: Update, context: Context, button: EditBack) -> None:
        generation, _ = await self.editable_row(update, context, button)
        await self._show(callback_query(update), self.result_keyboard(generation), None)

    @staticmethod
    async def _show(query: CallbackQuery, keyboard: InlineKeyboardMarkup, note: str | None) -> None:
        try:
            await query.edit_message_reply_markup(reply_markup=keyboard)
        except BadRequest as exc:
            if NOT_MODIFIED not in exc.message.lower():  # pressed twice: already showing
                raise
        await answer_press(query, note)

    async def ask_words(self, update: Update, context: Context, button: EditByWords) -> None:
        """A ForceReply asking what to change, replying to the picture."""
        generation, message = await self.editable_row(update, context, button)
        locale = generation.locale
        if generation.image(button.index) is None or not generation.follow_ups.edit_words:
            unavailable = Text("That edit is not available here.")
            await answer_press(callback_query(update), say_plain(unavailable, locale))
            return
        await answer_press(callback_query(update))
        placeholder = say_plain(Text("What to change"), locale)[:64]
        prompt = await message.reply_text(
            edit_words_prompt(generation.id, button.index, locale),
            reply_markup=ForceReply(selective=True, input_field_placeholder=placeholder),
            do_quote=True,
        )
        await self.handles.update_handle(
            generation.id,
            TelegramHandle(
                words_prompts={(prompt.message_id, button.index): requester_of(update).user_id}
            ),
        )
