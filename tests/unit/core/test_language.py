"""The reader's locale and the rendering of catalogue messages (bot/core/language.py).

The rendering tests write their own small catalogue (a `.po` in the test's folder) so each
rule is checked against wording the test controls: Russian's three plural forms, a translation
with a wrong placeholder, Arabic around a Latin prompt.
"""

from __future__ import annotations

import html
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from hypothesis import given
from hypothesis import strategies as st

from bot.core.language import (
    FIRST_STRONG_ISOLATE,
    LANGUAGES,
    POP_DIRECTIONAL_ISOLATE,
    PSEUDO,
    Catalogues,
    Duration,
    Number,
    Plural,
    Text,
    UserText,
    choose_locale,
    community_locale,
    is_right_to_left,
    locale_from_tag,
)


def test_platform_tags_map_to_our_locales() -> None:
    cases = {
        "de": "de",
        "en-US": "en",
        "en-GB": "en",
        "es-ES": "es",
        "es-419": "es",
        "pt-BR": "pt_BR",
        "pt-br": "pt_BR",
        "pt": "pt_BR",
        "zh-CN": "zh_Hans",
        "zh-hans": "zh_Hans",
        "zh-TW": None,
        "zh-hant": None,
        "ru": "ru",
        "uk": "uk",
        "ar": "ar",
        "ko": None,
        "": None,
        "   ": None,
        "de\n": "de",
        "--": None,
    }
    assert {tag: locale_from_tag(tag) for tag in cases} == cases


@given(st.one_of(st.text(), st.none(), st.integers(), st.binary()))
def test_any_tag_gives_one_of_our_locales_or_none(tag: object) -> None:
    assert locale_from_tag(tag) in (*LANGUAGES, None)


def test_the_locale_a_person_reads_in_follows_the_documented_order() -> None:
    assert choose_locale(chosen="ja", from_client="de", community="fr") == "ja"
    assert choose_locale(chosen=None, from_client="de", community="fr") == "de"
    assert choose_locale(chosen=None, from_client="de", community="fr", members_win=False) == "fr"
    assert choose_locale(chosen=None, from_client="ko", community="fr") == "fr"
    assert choose_locale(chosen=None, from_client="ko", community=None) == "en"
    assert choose_locale(chosen=None, from_client="de", community=None, members_win=False) == "de"
    assert choose_locale(chosen="xx", from_client=None, community=None) == "en"


def test_shared_messages_use_the_community_language() -> None:
    assert community_locale(chosen="ru", platform_default="de") == "ru"
    assert community_locale(chosen=None, platform_default="pt-BR") == "pt_BR"
    assert community_locale(chosen=None, platform_default=None) == "en"


def test_arabic_is_the_right_to_left_language() -> None:
    assert is_right_to_left("ar")
    assert not is_right_to_left("de")


def _catalogue(tmp_path: Path, locale: str, messages: dict[object, object]) -> Catalogues:
    catalogue = Catalog(locale=locale if locale != PSEUDO else "en")
    for message_id, wording in messages.items():
        catalogue.add(message_id, wording)  # type: ignore[arg-type]
    folder = tmp_path / locale / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.po").open("wb") as handle:
        write_po(handle, catalogue)
    return Catalogues(tmp_path)


def test_russian_plurals_take_the_catalogue_s_three_forms(tmp_path: Path) -> None:
    catalogues = _catalogue(
        tmp_path,
        "ru",
        {
            ("{count} picture", "{count} pictures"): (
                "{count} картинка",
                "{count} картинки",
                "{count} картинок",
            )
        },
    )
    shown = [
        catalogues.render(Plural("{count} picture", "{count} pictures", n), "ru")
        for n in (1, 3, 5, 21)
    ]
    assert shown == ["1 картинка", "3 картинки", "5 картинок", "21 картинка"]


def test_a_translation_with_a_wrong_placeholder_falls_back_to_english(tmp_path: Path) -> None:
    catalogues = _catalogue(tmp_path, "de", {"Hello {name}": "Hallo {nmae}"})
    assert catalogues.render(Text("Hello {name}", name="Ada"), "de") == "Hello Ada"


def test_a_missing_message_is_shown_in_english(tmp_path: Path) -> None:
    catalogues = _catalogue(tmp_path, "de", {"Other": "Andere"})
    assert catalogues.render(Text("Not in the catalogue"), "de") == "Not in the catalogue"


def test_user_text_is_isolated_stripped_of_bidi_controls_and_escaped_alone(
    tmp_path: Path,
) -> None:
    catalogues = _catalogue(
        tmp_path, "ar", {"<b>{prompt}</b> is queued": "<b>{prompt}</b> في الطابور"}
    )
    hostile = "a \u202ecat\u202c <i>"
    shown = catalogues.render(
        Text("<b>{prompt}</b> is queued", prompt=UserText(hostile)), "ar", escape=html.escape
    )
    isolated = f"{FIRST_STRONG_ISOLATE}a cat &lt;i&gt;{POP_DIRECTIONAL_ISOLATE}"
    assert shown == f"<b>{isolated}</b> في الطابور"
    assert "\u202e" not in shown


def test_numbers_and_durations_are_formatted_for_the_locale(tmp_path: Path) -> None:
    catalogues = _catalogue(tmp_path, "de", {"{n} in {wait}": "{n} in {wait}"})
    shown = catalogues.render(Text("{n} in {wait}", n=Number(12345), wait=Duration(120)), "de")
    assert shown == "12.345 in 2 Minuten"
    assert catalogues.render(Text("seed {seed}", seed=123456), "de") == "seed 123456"


def test_a_text_inside_a_text_is_rendered_in_the_same_locale(tmp_path: Path) -> None:
    catalogues = _catalogue(tmp_path, "fr", {"Style: {style}": "Style : {style}", "Photo": "Photo"})
    assert catalogues.render(Text("Style: {style}", style=Text("Photo")), "fr") == "Style : Photo"


def test_english_needs_no_catalogue(tmp_path: Path) -> None:
    assert Catalogues(tmp_path).render(Text("Done in {s}", s=3), "en") == "Done in 3"


def test_the_shipped_catalogues_speak_every_language() -> None:
    catalogues = Catalogues()
    shown = {locale: catalogues.render(Text("Photo"), locale) for locale in LANGUAGES}
    assert shown["de"] == "Foto"
    assert shown["ja"] == "写真"
    assert shown["en"] == "Photo"
    assert catalogues.render(Text("Photo"), PSEUDO) == "⟦Phötö⟧"
