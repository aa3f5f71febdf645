"""The catalogues' command (bot/catalogues.py) and the install-time compilation (hatch_build.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bot import catalogues
from bot.core.language import LANGUAGES, PSEUDO, Catalogues, Text, placeholders
from tests.support import ROOT


def test_every_catalogue_has_every_message_with_english_placeholders() -> None:
    assert catalogues.check() == []


def test_the_template_holds_what_the_code_and_the_styles_show() -> None:
    """A message added in code (or a style added to styles.yaml) without running
    `python -m bot.catalogues update` fails here, naming the command."""
    for domain in catalogues.DOMAINS:
        extracted = {message.id for message in catalogues.extract(domain) if message.id}
        kept = {m.id for m in catalogues.read(catalogues.template_path(domain)) if m.id}
        assert extracted == kept, f"{domain}: run `python -m bot.catalogues update`"


def test_a_catalogue_missing_a_message_or_a_placeholder_is_named(
    tmp_path: Path, monkeypatch
) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(ROOT / "bot" / "locales", locales)
    monkeypatch.setattr(catalogues, "LOCALES_DIR", locales)
    source = locales / "de" / "LC_MESSAGES" / "styles.po"
    text = source.read_text(encoding="utf-8")
    text = text.replace('msgstr "Foto"', 'msgstr ""').replace('msgstr "Aquarell"', 'msgstr "{x}"')
    source.write_text(text, encoding="utf-8")
    assert set(catalogues.problems("de")) == {
        "de: 'Photo': not translated",
        "de: 'Watercolor': placeholders ['x'] != []",
    }


def test_a_message_two_areas_word_differently_is_named(tmp_path: Path, monkeypatch) -> None:
    """A locale's areas are read as one catalogue, so two wordings of one message would show
    one adapter the other's words."""
    locales = tmp_path / "locales"
    shutil.copytree(ROOT / "bot" / "locales", locales)
    monkeypatch.setattr(catalogues, "LOCALES_DIR", locales)
    source = locales / "de" / "LC_MESSAGES" / "telegram.po"
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace('msgstr "Remix"', 'msgstr "Neu mischen"'), encoding="utf-8")
    assert catalogues.problems("de") == ["de: 'Remix': worded differently in discord and telegram"]


@given(st.text())
def test_the_pseudo_locale_keeps_every_placeholder(message: str) -> None:
    assert placeholders(catalogues.pseudo(message)) == placeholders(message) or (
        "<unparseable>" in placeholders(message)
    )


def test_the_build_hook_compiles_catalogues_gettext_reads(tmp_path: Path) -> None:
    from hatch_build import compile_catalogues

    locales = tmp_path / "locales"
    shutil.copytree(ROOT / "bot" / "locales", locales, ignore=shutil.ignore_patterns("*.mo"))
    written = compile_catalogues(locales)
    assert {path.parts[-3] for path in written} == {*LANGUAGES[1:], PSEUDO}
    for path in written:
        path.with_suffix(".po").unlink()  # only the compiled file is left to read
    assert Catalogues(locales).render(Text("Space"), "uk") == "Космос"


def test_the_web_templates_words_are_extracted_with_their_template_placeholders() -> None:
    found = {message.id for message in catalogues.extract("web") if message.id}
    assert {"Copy prompt", "Pictures by %(name)s", "Sending…"} <= found  # a script's word too
    assert "The mask must be a PNG." in found  # and the Python side's `Text`s


def test_the_pseudo_locale_keeps_a_templates_placeholders() -> None:
    assert catalogues.pseudo("Picture %(index)s of %(total)s") == "⟦Pîçtüré %(index)s öf %(total)s⟧"
