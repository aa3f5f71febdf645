"""Permutations and compare lists: the parser is total (Hypothesis) and its refusals plain."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.errors import InvalidRequest, PromptSyntaxError, TooManyVariants
from bot.core.requests.variants import (
    MAX_VARIANTS,
    escape,
    expand,
    plain,
    style_names,
)

# Text rich in the characters the syntax gives meaning to.
SYNTAX_TEXT = st.text(alphabet=st.sampled_from("ab {},\\ \n\u202eé"), max_size=60) | st.text()
CHOICE = st.text(alphabet=st.characters(blacklist_characters="{},\\"), min_size=1).filter(
    lambda s: s.strip()
)


def test_a_group_expands_in_order_with_each_choice_as_the_label() -> None:
    expansion = expand("a {red, blue, golden} fox")
    assert expansion.prompts == ("a red fox", "a blue fox", "a golden fox")
    assert expansion.labels == ("red", "blue", "golden")


def test_two_groups_multiply_the_first_varying_slowest() -> None:
    expansion = expand("{big, small} {cat, dog}")
    assert expansion.prompts == ("big cat", "big dog", "small cat", "small dog")
    assert expansion.labels == ("big / cat", "big / dog", "small / cat", "small / dog")


def test_escaped_braces_and_commas_are_text() -> None:
    assert expand(r"a \{curly\} fox").prompts == ("a {curly} fox",)
    assert expand(r"a {red\, bright, blue} fox").prompts == ("a red, bright fox", "a blue fox")
    assert expand(r"C:\temp \\ x").prompts == (r"C:\temp \ x",)  # other backslashes stay


def test_a_prompt_without_braces_is_itself_and_permutes_nothing() -> None:
    expansion = expand("a lighthouse at dusk, oil painting")
    assert expansion.prompts == ("a lighthouse at dusk, oil painting",)
    assert not expansion.permutes and expansion.labels == ()


def test_one_choice_is_one_prompt_without_a_grid() -> None:
    assert expand("a {red} fox").prompts == ("a red fox",)
    assert not expand("a {red} fox").permutes


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("a {red, blue fox", "never closed"),
        ("a red} fox", "closes nothing"),
        ("a {red, {blue}} fox", "cannot hold other braces"),
        ("a {red,, blue} fox", "is empty"),
        ("a {} fox", "is empty"),
    ],
)
def test_broken_braces_are_refused_in_plain_words(text: str, said: str) -> None:
    with pytest.raises(PromptSyntaxError, match=said) as refused:
        expand(text)
    assert "\\{ for a brace itself" in refused.value.message or "\\} for" in refused.value.message


def test_too_many_combinations_are_refused_with_the_number() -> None:
    with pytest.raises(TooManyVariants, match=r"make 6 prompts; at most 4"):
        expand("{a, b, c} {d, e}")
    with pytest.raises(TooManyVariants, match="make 5 prompts"):
        expand("{a, b, c, d, e}")


@given(SYNTAX_TEXT)
def test_any_text_expands_or_is_refused_plainly(text: str) -> None:
    try:
        expansion = expand(text)
    except InvalidRequest as exc:
        assert exc.message and len(exc.message) < 300
        return
    assert 1 <= len(expansion.prompts) <= MAX_VARIANTS
    assert len(expansion.labels) == (len(expansion.prompts) if expansion.permutes else 0)
    assert plain(text) == expansion.prompts[0]


@given(st.text())
def test_escaped_text_stands_for_itself(text: str) -> None:
    assert expand(escape(text)).prompts == (text,)


@given(st.lists(CHOICE, min_size=1, max_size=4), st.text(alphabet="xyz .", max_size=10))
def test_every_choice_appears_in_its_own_prompt(choices: list[str], tail: str) -> None:
    text = "{" + ",".join(escape(c) for c in choices) + "}" + escape(tail)
    expansion = expand(text)
    assert expansion.prompts == tuple(" ".join(c.split()) + tail for c in choices)


def test_plain_keeps_a_row_written_before_braces_meant_choices() -> None:
    assert plain("an old {unclosed prompt") == "an old {unclosed prompt"


def test_style_names_split_a_compare_list() -> None:
    assert style_names(None) == ()
    assert style_names("anime") == ("anime",)
    assert style_names(" anime, pixel-art ,,Anime") == ("anime", "pixel-art")
    with pytest.raises(TooManyVariants, match="5 styles to compare; at most 4"):
        style_names("a,b,c,d,e")


@given(st.text())
def test_any_style_option_is_split_or_refused(option: str) -> None:
    try:
        names = style_names(option)
    except TooManyVariants:
        return
    assert len(names) <= MAX_VARIANTS and all(n and "," not in n for n in names)
