"""A community style's words: slugs, codes derived from the definition, and the YAML export,
whose parser is total (any text is a draft or a plain refusal, never another exception)."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.core.requests.style_recipes import (
    CODE,
    BadStyleText,
    StyleDraft,
    code_of,
    digest,
    export_text,
    parse_export,
    slug,
)

NOIR = StyleDraft(
    name="Neon Noir",
    description="Rain, neon, night.",
    template="{prompt}, neon noir, rain-soaked streets",
    negative="daylight",
    aspect="16:9",
    count=2,
)


def test_slugs_are_what_members_type() -> None:
    assert slug("Neon Noir") == "neon-noir"
    assert slug("  Pixel!!Art  2 ") == "pixel-art-2"
    assert slug("🎨🎨") == ""


def test_the_code_follows_the_look_not_the_name() -> None:
    renamed = NOIR.model_copy(update={"name": "Rainy", "hidden": True, "private": True})
    other = NOIR.model_copy(update={"negative": "sunshine"})
    assert code_of(digest(NOIR)) == code_of(digest(renamed))
    assert code_of(digest(NOIR)) != code_of(digest(other))
    # A reference picture is part of the look.
    assert digest(NOIR) != digest(NOIR, ["ab" * 32])
    assert CODE.match(code_of(digest(NOIR))) and len(code_of(digest(NOIR))) == 5
    assert len(code_of(digest(NOIR), 6)) == 7


def test_an_export_reads_back_as_the_same_draft() -> None:
    text = export_text(NOIR, "#k3f9", references=2)
    data = yaml.safe_load(text)
    assert data["recipe"] == NOIR.template and data["code"] == "#k3f9"
    assert data["reference_pictures"] == 2
    assert parse_export(text) == NOIR


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "not a style exported"),
        ("[1, 2]", "not a style exported"),
        ("imaginebot_style: 1\nname: x", "needs `recipe`"),
        ("imaginebot_style: 1\nname: x\nrecipe: '{prompt}'\ncount: 9", "count must be 1 to 4"),
        ("imaginebot_style: 1\nname: x\nrecipe: '{prompt}'\naspect: '5:1'", "aspect must be"),
        # YAML 1.1 reads 5:1 as a number (sexagesimal): refused, not crashed on.
        ("imaginebot_style: 1\nname: x\nrecipe: '{prompt}'\naspect: 5:1", "aspect` is not"),
        ("imaginebot_style: 1\nname: x\nrecipe: '{prompt}'\nevil: 1", "unknown keys: evil"),
        ("imaginebot_style: 1\nname: x\nrecipe: !!python/object:os.system ls", "not valid YAML"),
        ("imaginebot_style: 1\nb: " + "[" * 1500, "not valid YAML"),
        ("a: &a [*a, *a]\n", "not a style exported"),
        ("x" * 9000, "too long"),
    ],
)
def test_bad_exports_get_plain_words(text: str, words: str) -> None:
    with pytest.raises(BadStyleText, match=words.replace("(", r"\(")):
        parse_export(text)


YAMLISH = st.text(
    alphabet=st.one_of(st.sampled_from(list("{}[]:&*!|>-#'\"\n %@`,?")), st.characters()),
    max_size=300,
)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        YAMLISH,
        st.builds(
            lambda body: "imaginebot_style: 1\n" + body,
            YAMLISH,
        ),
        st.dictionaries(
            st.sampled_from(["imaginebot_style", "name", "recipe", "count", "aspect", "x"]),
            st.one_of(st.integers(), st.text(max_size=20), st.none(), st.booleans(), st.floats()),
        ).map(yaml.safe_dump),
    )
)
@example("imaginebot_style: 1\nname: x\nrecipe: '{prompt}'\ncount: true")
@example("imaginebot_style: 1\nname: [x]\nrecipe: '{prompt}'")
def test_the_export_parser_is_total(text: str) -> None:
    try:
        draft = parse_export(text)
    except BadStyleText as exc:
        assert exc.message and len(exc.message) < 200
        return
    assert isinstance(draft.name, str) and isinstance(draft.template, str)
    assert draft.count is None or 1 <= draft.count <= 4
