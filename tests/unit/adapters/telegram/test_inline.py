"""Inline queries are outside text: reading one as `/imagine` is total (a command or a
ParseError, whose words become a refusal result), and the results fit Telegram's limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.telegram.inline import MAKE, REFUSED, command_of, make_result, refusal
from bot.adapters.telegram.parsing import ParseError


@given(st.text(max_size=300))
def test_any_query_is_a_command_or_a_parse_error(text: str) -> None:
    try:
        command = command_of(text)
    except ParseError as exc:
        result = refusal(exc.words("en", markup=False), "en")
        assert result.id == REFUSED and len(result.description or "") <= 200
        return
    assert command.prompt.strip()
    made = make_result(None, command.prompt, "en")
    assert made.id == MAKE and made.reply_markup is not None  # else no inline_message_id
    content = made.input_message_content
    assert 1 <= len(content.message_text) <= 4096  # type: ignore[union-attr]


def test_options_parse_as_in_imagine_and_strength_is_refused() -> None:
    command = command_of("a lighthouse at dusk style:anime --ar 16:9 count:2")
    assert (command.prompt, command.style, command.aspect, command.count) == (
        "a lighthouse at dusk",
        "anime",
        "16:9",
        2,
    )
    with pytest.raises(ParseError, match="needs a picture"):
        command_of("a cat strength:0.5")


def test_user_text_in_the_placeholder_is_escaped() -> None:
    made = make_result(None, "<b>@everyone</b>", "en")
    text = made.input_message_content.message_text  # type: ignore[union-attr]
    assert "<b>@everyone" not in text and "&lt;b&gt;" in text
