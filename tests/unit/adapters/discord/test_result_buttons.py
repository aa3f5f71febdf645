"""The buttons under a result and the Remix modal stay within Discord's limits, as the fake
Discord enforces them (five rows of five, custom ids of at most 100 characters and unique,
a modal's title, labels and lengths), and every custom id reads back to what it names."""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.discord.privacy import confirm_view
from bot.adapters.discord.render import describe_embed, history_view, info_text, restyle_view
from bot.adapters.discord.result_buttons import (
    WORDS_INPUT,
    edit_view,
    edit_words_modal,
    remix_modal,
    result_view,
    submitted_values,
)
from bot.core.language import ENGLISH, LANGUAGES, PSEUDO
from bot.core.models import FollowUps, Info, Kind, StoredImage
from bot.core.requests.button_data import TileAction
from bot.core.requests.buttons import BUTTONS, EditWordsSubmit, RemixSubmit, VaryRegion
from bot.core.requests.styles import load_catalogue
from tests.fakes.discord_api import ApiError, validate_message, validate_modal
from tests.support.generations import generation

EVERYTHING = FollowUps(
    upscale=True,
    vary=True,
    remix=True,
    reroll=True,
    restyle=True,
    info=True,
    delete=True,
    share=True,
)


def grid(count: int, offers: FollowUps = EVERYTHING) -> Any:
    images = tuple(
        StoredImage(index=i, path=f"/x-{i}.png", width=1024, height=1024, seed=100 + i)
        for i in range(1, count + 1)
    )
    return generation("a lighthouse").model_copy(
        update={"images": images, "count": count, "follow_ups": offers}
    )


def components(view: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = view.to_components()
    return rows


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_the_fullest_result_fits_discords_limits(count: int) -> None:
    g = grid(count)
    rows = components(result_view(g))
    validate_message({"components": rows}, create=False)  # raises what Discord would refuse
    ids = [item["custom_id"] for row in rows for item in row["components"]]
    parsed = [BUTTONS.parse("discord", i) for i in ids]
    tiles = [
        (b.discord, b.index)
        for b in parsed
        if isinstance(b, TileAction) and b.generation_id == g.id
    ]
    assert sorted(tiles) == sorted(
        [("upscale", i) for i in range(1, count + 1)] + [("vary", i) for i in range(1, count + 1)]
    )
    # U/V (one row for one picture, else a row each), then six result actions: five and one.
    assert len(rows) == (3 if count == 1 else 4)


def test_without_an_image_taking_provider_there_is_no_v_row() -> None:
    offers = EVERYTHING.model_copy(update={"vary": False})
    rows = components(result_view(grid(4, offers)))
    assert [len(r["components"]) for r in rows] == [4, 5, 1]
    assert not any("vary" in c["custom_id"] for r in rows for c in r["components"])


def test_a_describe_offers_one_imagine_this_per_idea() -> None:
    g = generation("").model_copy(
        update={
            "kind": Kind.DESCRIBE,
            "suggestions": ("one", "two", "three", "four"),
            "follow_ups": FollowUps(info=True, delete=True, imagine_suggestions=True),
        }
    )
    rows = components(result_view(g))
    validate_message({"components": rows}, create=False)
    assert [c["custom_id"] for c in rows[0]["components"]] == [
        f"ib:imagine-this:{g.id}:{i}" for i in range(1, 5)
    ]
    embed = describe_embed(g, "x.png").to_dict()
    assert embed["description"].index("one") < embed["description"].index("four")


@pytest.mark.parametrize(
    "rows",
    [
        [
            {"type": 1, "components": [{"type": 2, "style": 2, "custom_id": f"b{i}"}]}
            for i in range(6)
        ],
        [
            {
                "type": 1,
                "components": [{"type": 2, "style": 2, "custom_id": f"b{i}"} for i in range(6)],
            }
        ],
        [{"type": 1, "components": [{"type": 2, "style": 2, "custom_id": "x" * 101}]}],
        [{"type": 1, "components": [{"type": 2, "style": 2, "custom_id": "same"}] * 2}],
    ],
    ids=["six rows", "six buttons in a row", "custom id of 101", "duplicate custom ids"],
)
def test_the_fake_refuses_what_discord_refuses(rows: list[dict[str, Any]]) -> None:
    with pytest.raises(ApiError):
        validate_message({"components": rows}, create=False)


@pytest.mark.parametrize("limit", [1000, 32000])
def test_the_remix_modal_is_prefilled_and_within_the_modal_limits(limit: int) -> None:
    g = generation("p" * 1000).model_copy(update={"negative_prompt": "blur"})
    payload = remix_modal(g, limit, "en").to_dict()
    validate_modal(payload)
    inputs = [row["components"][0] for row in payload["components"]]
    assert [(i["custom_id"], i.get("value")) for i in inputs] == [
        ("prompt", "p" * 1000),
        ("negative", "blur"),
    ]
    assert all(i["max_length"] == min(limit, 4000) for i in inputs)
    submitted = {
        "custom_id": payload["custom_id"],
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "prompt", "value": "new"}]},
            {"type": 18, "component": {"type": 4, "custom_id": "negative", "value": ""}},
        ],
    }
    assert submitted_values(submitted) == {"prompt": "new", "negative": ""}
    assert BUTTONS.parse("discord", payload["custom_id"]) == RemixSubmit(g.id)


@pytest.mark.parametrize("value", ["ib:upscale:abc:0", "ib:upscale:abc:5", "ib:vary:abc:x"])
def test_tile_indexes_outside_1_to_4_are_not_ours(value: str) -> None:
    assert BUTTONS.parse("discord", value) is None


def test_info_names_every_seed_the_provider_and_the_crop() -> None:
    info = Info(
        generation_id="g1",
        kind=Kind.VARY,
        prompt="a *bold* fox",
        negative_prompt=None,
        style="anime",
        aspect="16:9",
        seeds=(11, 22),
        sizes=((1536, 864), (1536, 864)),
        provider="openai",
        model="gpt-image-1",
        seconds=3.25,
        crop_note="made at 1536x1024, cropped to 16:9",
        strength=0.6,
        parent_id="g0",
        parent_index=2,
    )
    text = info_text(info, "en")
    for part in ("1: 11", "2: 22", "1536x864 (each)", "openai (gpt-image-1)", "3.2 s"):
        assert part in text
    assert "cropped to 16:9" in text and "image 2 of `g0`" in text and r"\*bold\*" in text


def test_info_says_what_a_translated_prompt_was_sent_as_escaped_and_isolated() -> None:
    info = Info(
        generation_id="g1",
        kind=Kind.IMAGINE,
        prompt="кот в *шляпе*",
        negative_prompt=None,
        style="none",
        aspect="1:1",
        seeds=(1,),
        sizes=((1024, 1024),),
        provider="sdwebui",
        model="sdxl",
        seconds=None,
        crop_note=None,
        strength=None,
        parent_id=None,
        parent_index=None,
    )
    assert "Sent in English" not in info_text(info, ENGLISH)
    translated = info.model_copy(update={"prompt_sent": "a cat in a *hat*"})
    text = info_text(translated, ENGLISH)
    assert "🌐 Sent in English: \u2068a cat in a \\*hat\\*\u2069" in text
    assert "кот в \\*шляпе\\*" in text  # the user's own words stay beside it
    german = info_text(translated, "de")
    assert "🌐 Auf Englisch gesendet: \u2068a cat in a \\*hat\\*\u2069" in german


EDITS = EVERYTHING.model_copy(update={"edit_region": True, "outpaint": True, "edit_words": True})


@pytest.mark.parametrize("count", [1, 4])
def test_the_edit_button_and_its_menu_fit_discords_limits(count: int) -> None:
    g = grid(count, EDITS).model_copy(update={"aspect": "16:9"})
    rows = components(result_view(g))
    validate_message({"components": rows}, create=False)
    assert f"ib:edit:{g.id}" in [c["custom_id"] for r in rows for c in r["components"]]
    menu = components(edit_view(g, count, "en"))
    validate_message({"components": menu, "flags": 64}, create=False)
    ids = [c["custom_id"] for r in menu for c in r["components"]]
    assert all(BUTTONS.parse("discord", i) is not None for i in ids)
    assert len([i for i in ids if i.startswith("ib:edit-image:")]) == (4 if count == 4 else 0)
    assert f"ib:zoom:{g.id}:{count}:1.5" in ids and f"ib:square:{g.id}:{count}" in ids


def test_the_edit_menu_offers_only_what_the_chain_can() -> None:
    outpaint_only = EVERYTHING.model_copy(update={"outpaint": True})
    ids = [
        c["custom_id"]
        for r in components(edit_view(grid(1, outpaint_only), 1, "en"))
        for c in r["components"]
    ]
    assert not [i for i in ids if i.startswith("ib:edit-words")]
    assert not [i for i in ids if i.startswith("ib:square")]  # a 1:1 picture is square already
    words_only = EVERYTHING.model_copy(update={"edit_words": True})
    ids = [
        c["custom_id"]
        for r in components(edit_view(grid(1, words_only), 1, "en"))
        for c in r["components"]
    ]
    assert ids == [f"ib:edit-words:{grid(1).id}:1"]
    assert not any(
        "edit" in c["custom_id"] for r in components(result_view(grid(1))) for c in r["components"]
    )


def test_the_edit_by_words_modal_reads_back_its_words() -> None:
    modal = edit_words_modal("0123abcd", 2, 300, "en").to_dict()
    validate_modal(modal)
    assert BUTTONS.parse("discord", modal["custom_id"]) == EditWordsSubmit("0123abcd", 2)
    submit = {
        "components": [
            {
                "type": 1,
                "components": [{"type": 4, "custom_id": WORDS_INPUT, "value": "make it night"}],
            }
        ]
    }
    assert submitted_values(submit) == {WORDS_INPUT: "make it night"}


@pytest.mark.parametrize("count", [1, 4])
def test_the_brush_fits_beside_the_fullest_result_and_names_the_request(count: int) -> None:
    g = grid(count, EDITS)
    rows = components(result_view(g, brush=True))
    validate_message({"components": rows}, create=False)
    ids = [item["custom_id"] for row in rows for item in row["components"]]
    assert ids[-1] == f"ib:brush:{g.id}" and BUTTONS.parse("discord", ids[-1]) == VaryRegion(g.id)
    without = [
        item["custom_id"] for row in components(result_view(g)) for item in row["components"]
    ]
    assert without == ids[:-1]
    nothing_takes_pictures = grid(count, EDITS.model_copy(update={"edit_region": False}))
    shown = [
        i["custom_id"]
        for r in components(result_view(nothing_takes_pictures, brush=True))
        for i in r["components"]
    ]
    assert f"ib:brush:{g.id}" not in shown


@pytest.mark.parametrize("locale", [*LANGUAGES, PSEUDO])
def test_every_language_fits_discords_limits_on_buttons_menus_and_modals(locale: str) -> None:
    """A translation longer than Discord allows (a modal title of 45, a button label of 80)
    would have the whole answer refused: each language's buttons, menus and modals pass."""
    g = grid(4, EDITS).model_copy(update={"aspect": "16:9", "locale": locale})
    for view in (
        result_view(g, brush=True),
        edit_view(g, 4, locale),
        restyle_view(g.id, list(load_catalogue())[:25], g.style, locale),
        history_view([g.model_copy(update={"image_path": "/x.png"})], locale),
        confirm_view("42", locale),
    ):
        validate_message({"components": components(view)}, create=False)
    for modal in (remix_modal(g, 4000, locale), edit_words_modal(g.id, 4, 4000, locale)):
        validate_modal(modal.to_dict())
    labels = [c.get("label") for r in components(result_view(g)) for c in r["components"]]
    if locale != "en":  # every label is the catalogue's, none left in English
        assert not {"Reroll", "Restyle", "Delete", "Share"} & set(labels)
