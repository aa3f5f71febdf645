"""Captions are always valid for Telegram whatever the prompt (checked by the fake's parser),
show the prompt as typed and carry no bidi control."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.telegram.render import CAPTION_LIMIT, caption, error_text
from bot.core.requests.styles import load_catalogue
from bot.core.text import BIDI_CONTROLS
from tests.fakes.telegram_api import visible_text
from tests.support.generations import generation

STYLES = load_catalogue()
BIDI = sorted(BIDI_CONTROLS)
MARKUP = st.sampled_from(
    ["<b>", "</b>", "<a href='x'>", "&", "&amp;", "<", ">", "*_`[", "@everyone", "🦄", *BIDI]
)


def without_bidi(text: str) -> str:
    return "".join(c for c in text if c not in BIDI_CONTROLS)


def as_shown(text: str) -> str:
    """User text as the bot shows it: no bidi control, no @username Telegram would ping."""
    return without_bidi(text).replace("@", "@\u2060")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(MARKUP, st.text(max_size=50)), max_size=120).map("".join))
def test_caption_is_valid_html_within_the_limit(prompt: str) -> None:
    text = caption(generation(prompt or "x"), STYLES.find("anime"))
    shown = visible_text(text, "HTML")  # raises like Telegram on broken markup
    assert len(shown) <= CAPTION_LIMIT
    assert "Anime" in shown and "42" in shown
    assert not BIDI_CONTROLS & set(text)
    # The prompt line shows the prompt as typed (cut with an ellipsis when long).
    assert as_shown(prompt or "x").startswith(shown.split("\n🎨 ", 1)[0].removesuffix("…"))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(MARKUP, st.text(max_size=50)), max_size=200).map("".join))
def test_error_text_is_valid_html(reason: str) -> None:
    text = error_text(reason)
    shown = visible_text(text, "HTML")
    assert len(shown) <= 4096 and not BIDI_CONTROLS & set(text)
    assert as_shown(reason).startswith(shown.removeprefix("❌ ").removesuffix("…"))
