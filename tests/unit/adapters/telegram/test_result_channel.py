"""Telegram's reasons for a delivery that failed (result_channel.py, inline_results.py) and
for requests cancelled when the bot left a chat (chat_changes.py): the row keeps them in
English, and the requester reads them back in their own language."""

from __future__ import annotations

from telegram.error import BadRequest, Forbidden, RetryAfter, TimedOut

from bot.adapters.telegram.chat_changes import BLOCKED
from bot.adapters.telegram.inline_results import NO_STORAGE
from bot.adapters.telegram.result_channel import delivery_error
from bot.core.errors import english, failure_text
from bot.core.language import CATALOGUES
from bot.core.requests.scope_changes import REMOVED_CODE


def read_back(code: str, reason: str, locale: str) -> str:
    return CATALOGUES.render(failure_text(code, reason), locale)


def test_telegrams_refusals_are_kept_in_english_and_read_back_in_the_requesters_language() -> None:
    gone = delivery_error(Forbidden("Forbidden: bot was kicked from the group chat"))
    assert (gone.reason, gone.retryable) == ("the bot may not post in this chat any more", False)
    assert read_back("delivery_failed", gone.reason, "ru") == "боту больше нельзя писать в этот чат"
    refused = delivery_error(BadRequest("Wrong file identifier"))
    assert refused.reason == "Telegram refused the picture (Wrong file identifier)"
    assert read_back("delivery_failed", refused.reason, "de") == (
        "Telegram hat das Bild abgelehnt (Wrong file identifier)"
    )
    assert delivery_error(RetryAfter(3)).retryable
    assert delivery_error(TimedOut()).reason == "Telegram did not answer (TimedOut)"


def test_an_inline_picture_nowhere_to_store_and_a_blocked_bot_read_back_translated() -> None:
    stored = english(NO_STORAGE)
    assert read_back("delivery_failed", stored, "ar").startswith("لا يستطيع تيليجرام")
    assert read_back(REMOVED_CODE, english(BLOCKED), "uk").startswith("Ви заблокували бота")
