"""What Telegram shows in a press's answer (an alert or a toast: `answerCallbackQuery` takes
0-200 characters) and in a ForceReply's input field (`input_field_placeholder`, 1-64), in
every language: a translation that does not fit would fail the call or be cut."""

from __future__ import annotations

import pytest

from bot.adapters.telegram.answers import ALERT_LIMIT
from bot.adapters.telegram.buttons import NO_LONGER_VALID, ONLY_THEM, REMOVALS
from bot.adapters.telegram.inline import NOT_HERE, NOT_THIS_MESSAGE, NOT_YOURS
from bot.core.language import CATALOGUES, LANGUAGES, PSEUDO, Text
from bot.core.requests.edits import NO_EDITS_TEXT

PRESS_ANSWERS = [
    NO_LONGER_VALID,
    ONLY_THEM,
    *REMOVALS.values(),
    NOT_HERE,
    NOT_YOURS,
    NOT_THIS_MESSAGE,
    NO_EDITS_TEXT,
    Text("Telegram would not remove the message, so nothing was deleted."),
    Text("⏳ On it: this message changes when the picture is ready."),
    Text("That edit is not available here."),
    Text("Nothing was deleted."),
]
PLACEHOLDERS = [Text("The new prompt"), Text("What to change")]
PLACEHOLDER_LIMIT = 64


@pytest.mark.parametrize("locale", [*LANGUAGES, PSEUDO])
def test_press_answers_and_reply_placeholders_fit_telegram_in_every_language(locale: str) -> None:
    for text in PRESS_ANSWERS:
        shown = CATALOGUES.render(text, locale)
        assert 1 <= len(shown) <= ALERT_LIMIT, (locale, shown)
        assert locale == "en" or shown != text.message, (locale, "not translated", shown)
    for text in PLACEHOLDERS:
        shown = CATALOGUES.render(text, locale)
        assert 1 <= len(shown) <= PLACEHOLDER_LIMIT, (locale, shown)
