"""Every parser of outside data is total (issue 26.7, 26.8): for any input it gives an answer
or its own plain refusal, never an exception; numbers are ASCII digits within their range.
Property-based, with Hypothesis, over the parsers of button data, custom ids, select values,
modal values, command options, gallery cursors and the number readers they share."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.adapters.discord.render import parse_values
from bot.adapters.discord.result_buttons import submitted_values
from bot.adapters.telegram.parsing import ParseError, parse_imagine
from bot.core.numbers import decimal, whole_number
from bot.core.requests.button_data import RowButton, TileButton
from bot.core.requests.buttons import BUTTONS, ForgetAnswer
from bot.web.queries import BadCursor, listing_cursor, search_cursor

ASCII_DIGITS = re.compile(r"[0-9]+")
# Text that hits the edges: our separators, digits from other scripts, huge numbers.
EDGY = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("ib:_-.tre0123456789abcdefSsDFXAdmuvf ²³٣１\u00a0\n")),
        st.characters(),
    ),
    max_size=120,
)
SETTINGS = settings(max_examples=400, deadline=None)


@SETTINGS
@given(st.one_of(EDGY, st.from_regex(r"ib:[a-z-]{1,12}:[0-9a-f]{1,20}(:.{0,25})?", fullmatch=True)))
def test_discord_custom_ids_parse_to_an_answer(value: str) -> None:
    assert_bounded(BUTTONS.parse("discord", value), value)


def assert_bounded(button: object, data: str) -> None:
    """What a parsed button carries is ASCII, bounded, and came from the data."""
    if isinstance(button, RowButton):
        assert button.generation_id.isascii() and len(button.generation_id) <= 32
        assert button.generation_id in data
    if isinstance(button, TileButton):
        assert 1 <= button.index <= 4 and str(button.index) in data
    if isinstance(button, ForgetAnswer):
        assert button.who.isascii() and len(button.who) <= 21 and button.who in data


@SETTINGS
@given(st.one_of(st.lists(EDGY, max_size=30), EDGY, st.none(), st.integers()))
def test_discord_select_values_are_bounded_ascii(values: object) -> None:
    for value in parse_values(values):
        assert value.isascii() and 1 <= len(value) <= 64


@SETTINGS
@given(
    st.recursive(
        st.one_of(st.none(), st.integers(), EDGY),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(
                st.sampled_from(["components", "component", "type", "custom_id", "value"]),
                inner,
                max_size=4,
            ),
        ),
        max_leaves=20,
    )
)
def test_discord_modal_values_parse_from_any_shape(data: object) -> None:
    found = submitted_values({"components": data})
    assert all(isinstance(v, str) and len(v) <= 4000 for v in found.values())


@SETTINGS
@given(st.one_of(EDGY, st.from_regex(r"ib:[a-zA-Z]:[0-9a-f-]{0,20}(:.{0,12})?", fullmatch=True)))
@example("ib:r:abc\n")
@example("ib:u:abc:\u00b2")
def test_telegram_callback_data_fields_are_bounded_ascii(data: str) -> None:
    button = BUTTONS.parse("telegram", data)
    assert_bounded(button, data)
    if button is not None:
        assert "\n" not in data and len(data.encode()) <= 64


@SETTINGS
@given(st.text(max_size=300))
def test_telegram_imagine_options_parse_or_refuse_in_words(text: str) -> None:
    try:
        parsed = parse_imagine(text)
    except ParseError as exc:
        assert exc.message
        return
    assert 1 <= parsed.count <= 4
    assert parsed.seed is None or 0 <= parsed.seed <= 2**32 - 1
    assert parsed.strength is None or 0 <= parsed.strength <= 1


@pytest.mark.parametrize(
    "option", ["count:²", "count:٣", "count:１", "--seed ²", "--seed 99999999999999999999999"]
)
def test_unicode_digits_in_options_are_refused_in_words(option: str) -> None:
    with pytest.raises(ParseError):
        parse_imagine(f"a cat {option}")


@SETTINGS
@given(EDGY, st.integers(-10, 10), st.integers(-10, 10**20))
def test_whole_numbers_are_ascii_digits_in_range(text: str, low: int, high: int) -> None:
    value = whole_number(text, low, high)
    if value is not None:
        assert ASCII_DIGITS.fullmatch(text) and low <= value <= high


@SETTINGS
@given(EDGY)
def test_decimals_are_finite_ascii(text: str) -> None:
    value = decimal(text, 0.0, 1e30)
    if value is not None:
        assert text.isascii() and math.isfinite(value)


@SETTINGS
@given(st.one_of(EDGY, st.from_regex(r"[tr][0-9e.+-]{0,30}(_[0-9a-f]{0,70})?", fullmatch=True)))
def test_gallery_cursors_parse_or_are_bad(cursor: str) -> None:
    for parse in (listing_cursor, search_cursor):
        try:
            value = parse(cursor)
        except BadCursor:
            continue
        if isinstance(value, int):
            assert 0 <= value <= 2**63 - 1
        else:
            assert value is not None and math.isfinite(value[0])
