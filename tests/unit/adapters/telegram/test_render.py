"""Captions are always valid for Telegram whatever the prompt (checked by the fake's parser),
show the prompt as typed and carry no bidi control."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.telegram.render import (
    CAPTION_LIMIT,
    HELP,
    caption,
    describe_text,
    error_text,
    queued_text,
    say,
    status_text,
    styles_text,
)
from bot.core.errors import ProviderRateLimited, retrying_detail
from bot.core.language import LANGUAGES, PSEUDO
from bot.core.models import Status, StatusUpdate
from bot.core.requests.styles import load_catalogue
from bot.core.text import BIDI_CONTROLS
from tests.fakes.telegram_api import visible_text
from tests.support.generations import generation
from tests.support.pseudo import assert_pseudo_localised

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


@pytest.mark.parametrize("locale", [*LANGUAGES, PSEUDO])
def test_a_long_caption_with_its_notes_fits_in_every_language(locale: str) -> None:
    text = caption(
        generation("a fox " * 400),
        STYLES.find("anime"),
        "https://gallery.example/g/abc",
        reduced=True,
        locale=locale,
    )
    assert len(visible_text(text, "HTML")) <= CAPTION_LIMIT


def test_statuses_descriptions_and_the_style_list_are_catalogue_text() -> None:
    """Each wording of the texts render.py builds, read in the pseudo-locale."""
    statuses = [
        StatusUpdate(status=Status.RUNNING, position=position, eta_seconds=eta)
        for position in (None, 3)
        for eta in (None, 40.0)
    ]
    statuses.append(
        StatusUpdate(status=Status.RUNNING, detail=retrying_detail(ProviderRateLimited.code))
    )
    described = generation("x").model_copy(update={"suggestions": ("a <b>fox</b>", "an owl")})
    texts = [
        *(("status", status_text(update, PSEUDO)) for update in statuses),
        ("queued", queued_text(1, PSEUDO)),
        ("queued", queued_text(4, PSEUDO)),
        ("describe", describe_text(described, PSEUDO)),
        ("describe", describe_text(generation("x"), PSEUDO)),
        ("styles", styles_text(list(STYLES), "anime", "photo", PSEUDO)),
        ("help", say(HELP, PSEUDO)),
    ]
    assert_pseudo_localised(texts, verbatim=("a <b>fox</b>", "an owl", *STYLES.ids))
