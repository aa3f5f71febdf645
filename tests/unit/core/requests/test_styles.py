from __future__ import annotations

import pytest

from bot.core.errors import UnknownStyle
from bot.core.requests.styles import CatalogueError, load_catalogue, parse_catalogue

ORIGINAL_FIVE = {"pixel-art", "storybook-3d", "space", "abstract", "dark"}
REQUIRED = {
    "anime",
    "photo",
    "watercolor",
    "oil-painting",
    "comic",
    "cyberpunk",
    "sketch",
    "low-poly",
    "fantasy",
}


def test_shipped_catalogue_has_the_required_styles() -> None:
    catalogue = load_catalogue()
    assert len(catalogue) >= 14
    assert ORIGINAL_FIVE | REQUIRED <= set(catalogue.ids)
    for style in catalogue:
        assert len(style.id.encode()) <= 32
        assert "{prompt}" in style.template
        assert style.emoji and style.name and style.description


def test_lookup_by_id_name_and_loose_spelling() -> None:
    catalogue = load_catalogue()
    assert catalogue.get("pixel-art").id == "pixel-art"
    assert catalogue.get("Pixel Art").id == "pixel-art"
    assert catalogue.get("pixelart").id == "pixel-art"
    assert catalogue.get(" ANIME ").id == "anime"


def test_unknown_style_suggests_three_closest() -> None:
    catalogue = load_catalogue()
    with pytest.raises(UnknownStyle) as caught:
        catalogue.get("anmie")
    assert caught.value.suggestions[0] == "anime"
    assert len(caught.value.suggestions) == 3
    assert "anime" in caught.value.message


def test_render_keeps_braces_in_user_text() -> None:
    style = load_catalogue().get("anime")
    rendered = style.render("a {weird} prompt {0}")
    assert rendered.startswith("a {weird} prompt {0}, anime style")


VALID = """
styles:
  - id: one
    name: One
    emoji: "1"
    description: d
    template: "{prompt} one"
"""


def test_valid_minimal_file_parses() -> None:
    assert parse_catalogue(VALID).ids == ["one"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (VALID + "    colour: red\n", "unknown keys: colour"),
        (VALID + VALID.split("styles:\n", 1)[1], "duplicate style id 'one'"),
        (VALID.replace("{prompt} one", "no placeholder"), "no {prompt} placeholder"),
        (VALID.replace("id: one", "id: Not A Slug"), "lowercase slug"),
        (VALID.replace("id: one", "id: " + "x" * 33), "at most 32 bytes"),
        ("styles: []", "empty"),
        ("other: 1", "one key, 'styles'"),
    ],
)
def test_invalid_files_are_start_up_errors(text: str, message: str) -> None:
    with pytest.raises(
        CatalogueError, match=message.replace("{", r"\{").replace("}", r"\}").replace("(", r"\(")
    ):
        parse_catalogue(text)
