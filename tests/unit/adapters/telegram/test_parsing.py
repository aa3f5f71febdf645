from __future__ import annotations

import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.telegram.parsing import (
    USAGE,
    ParsedImagine,
    ParseError,
    parse_imagine,
    strip_command,
)
from bot.core.language import CATALOGUES

# The usage as a reader sees it in plain text (English: the catalogue's `&lt;` shown as `<`).
USAGE_SHOWN = html.unescape(CATALOGUES.render(USAGE, "en"))
FSI, PDI = "\u2068", "\u2069"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a cat", ParsedImagine(prompt="a cat")),
        ("a cat style:anime", ParsedImagine(prompt="a cat", style="anime")),
        ("style:Pixel-Art a cat", ParsedImagine(prompt="a cat", style="Pixel-Art")),
        ("a cat --style sketch", ParsedImagine(prompt="a cat", style="sketch")),
        ("a cat --ar 16:9", ParsedImagine(prompt="a cat", aspect="16:9")),
        ("a cat --aspect 2:3", ParsedImagine(prompt="a cat", aspect="2:3")),
        (
            "a cat --no dogs, text --seed 7",
            ParsedImagine(prompt="a cat", negative_prompt="dogs, text", seed=7),
        ),
        (
            "--seed 1 a --no x y style:comic cat",
            ParsedImagine(prompt="a cat", negative_prompt="x y", style="comic", seed=1),
        ),
        ("  many   spaces\nand lines ", ParsedImagine(prompt="many spaces and lines")),
        ("@everyone <b>hi</b>", ParsedImagine(prompt="@everyone <b>hi</b>")),
        ("four teapots count:4", ParsedImagine(prompt="four teapots", count=4)),
        ("COUNT:2 a cat --no dogs", ParsedImagine(prompt="a cat", count=2, negative_prompt="dogs")),
        ("this at night strength:0.4", ParsedImagine(prompt="this at night", strength=0.4)),
        ("a --no x count:3 cat", ParsedImagine(prompt="a cat", negative_prompt="x", count=3)),
        ("a harbour style_ref", ParsedImagine(prompt="a harbour", style_ref=True)),
        (
            "STYLE_REF: a harbour --no fog",
            ParsedImagine(prompt="a harbour", negative_prompt="fog", style_ref=True),
        ),
        ("a fox style:anime,pixel-art", ParsedImagine(prompt="a fox", style="anime,pixel-art")),
        ("a {red, blue} fox", ParsedImagine(prompt="a {red, blue} fox")),
    ],
)
def test_parses(text: str, expected: ParsedImagine) -> None:
    assert parse_imagine(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Please describe the picture"),
        ("style:anime", "Please describe the picture"),
        ("a cat --bogus 1", f"Unknown option {FSI}--bogus{PDI}"),
        ("a cat --ar 4:3", "Aspect ratio must be one of"),
        ("a cat --seed -3", "--seed must be a whole number"),
        ("a cat --seed --no x", "--seed needs a value"),
        ("a cat --seed x", "--seed must be a whole number"),
        ("a cat --seed 99999999999", "--seed must be a whole number"),
        ("a cat --style", "--style needs a value"),
        ("a cat style:", "style: needs a style name"),
        ("a cat count:5", "count: must be a whole number from 1 to 4"),
        ("a cat count:0", "count: must be a whole number from 1 to 4"),
        ("a cat count:two", "count: must be a whole number from 1 to 4"),
        ("a cat strength:1.5", "strength: must be a number from 0.1 to 1.0"),
        ("a cat strength:nan", "strength: must be a number from 0.1 to 1.0"),
        ("a cat strength:", "strength: must be a number from 0.1 to 1.0"),
    ],
)
def test_errors_explain_and_show_usage(text: str, problem: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_imagine(text)
    assert problem in caught.value.message
    assert caught.value.message.endswith(USAGE_SHOWN)


def test_strip_command_handles_bot_names() -> None:
    assert strip_command("/imagine@imagine_test_bot a cat") == "a cat"
    assert strip_command("/imagine") == ""
    assert strip_command("a cat") == "a cat"


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=400))
def test_any_text_parses_or_explains(text: str) -> None:
    try:
        parsed = parse_imagine(text)
    except ParseError as exc:
        assert exc.message.endswith(USAGE_SHOWN)
        return
    assert parsed.prompt and parsed.prompt == parsed.prompt.strip()
    assert parsed.aspect in ("1:1", "3:2", "2:3", "16:9", "9:16")
    assert parsed.seed is None or 0 <= parsed.seed <= 2**32 - 1
