"""Telegram's command lists: the default one and one per language_code, the same English
names in each, descriptions translated, and English where a translation does not fit."""

from __future__ import annotations

from pathlib import Path

from bot.adapters.telegram.command_list import command_list, command_lists
from bot.adapters.telegram.render import COMMANDS
from bot.core.language import Catalogues
from tests.support.catalogues import catalogues_with

NAMES = [name for name, _ in COMMANDS]


def test_a_list_per_language_with_english_names_and_translated_descriptions() -> None:
    lists = dict(command_lists(Catalogues()))
    assert set(lists) == {None, "es", "pt", "de", "fr", "ru", "uk", "tr", "id", "ja", "zh", "ar"}
    english = {c.command: c.description for c in lists[None]}
    for code, commands in lists.items():
        assert [c.command for c in commands] == NAMES, code
        assert all(1 <= len(c.description) <= 256 for c in commands), code
        if code is not None:
            # Every description is the language's own, none left in English.
            assert all(c.description != english[c.command] for c in commands), code
    assert {c.command: c.description for c in lists["uk"]}["history"] == "Ваші останні зображення"


def test_a_description_that_does_not_fit_telegram_stays_english(tmp_path: Path) -> None:
    catalogues = catalogues_with(
        tmp_path,
        "ru",
        "telegram",
        {
            ("Your recent pictures", None): "я" * 257,
            ("Set or clear your default style", None): "Стиль",
        },
    )
    described = {c.command: c.description for c in command_list(catalogues, "ru")}
    assert described["history"] == "Your recent pictures"
    assert described["mystyle"] == "Стиль"
