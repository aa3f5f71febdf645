"""Text messages in HTML mode, sent and edited through the flood limiter (`Spend` says how
urgent each call is); an edit to the text already shown is not an error."""

from __future__ import annotations

from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ExtBot

from bot.adapters.telegram.flood import Spend


class Texts:
    def __init__(self, bot: ExtBot[Spend]) -> None:
        self.bot = bot

    async def send(self, chat_id: int, text: str, topic: int | None = None) -> int:
        """Sends `text` (into a forum topic when given: without one it lands in General);
        its message id."""
        message = await self.bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, message_thread_id=topic
        )
        return message.message_id

    async def edit(self, chat_id: int, message_id: int, text: str, spend: Spend) -> None:
        try:
            await self.bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                rate_limit_args=spend,
            )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise
