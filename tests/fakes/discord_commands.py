"""What Discord checks in an application command at registration (bulk overwrite), names and
localizations included, for the fake Discord (`discord_api.py`).

From Discord's documentation ("Application command object", "Localization"):

- a chat-input name is 1-32 characters matching `^[-_\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$`, and
  lowercase where the letter has a lowercase variant (chat-input commands and their options);
- a chat-input command's or option's description is 1-100 characters; a choice's name 1-100;
- `name_localizations` and `description_localizations` are keyed by Discord's locales (the list
  below); each localized name follows the name rules, each localized description the
  description's lengths, and a localized choice name 1-100 characters;
- names are unique among their siblings (the commands of one list, the options of one command
  or group), and so are their localized names in each locale.

A breach answers 400 with code 50035 (Invalid Form Body), as Discord does. The check is written
with `unicodedata` (the standard `re` module has no `\\p{...}` classes).
"""

from __future__ import annotations

import unicodedata
from typing import Any

# https://discord.com/developers/docs/reference#locales
DISCORD_LOCALES = frozenset(
    {
        "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu",
        "nl", "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru",
        "uk", "hi", "th", "zh-CN", "ja", "zh-TW", "ko",
    }
)  # fmt: skip
SUBCOMMAND, GROUP = 1, 2
CHAT_INPUT = 1


def _name_char(char: str) -> bool:
    if char in "-_" or unicodedata.category(char)[0] in "LN":
        return True
    point = ord(char)
    # Devanagari (U+0900-U+097F, extended U+A8E0-U+A8FF) and Thai (U+0E00-U+0E7F) scripts,
    # combining marks included.
    return 0x0900 <= point <= 0x097F or 0xA8E0 <= point <= 0xA8FF or 0x0E00 <= point <= 0x0E7F


def name_problem(name: object, *, chat_input: bool = True) -> str | None:
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        return f"name {name!r}: Must be between 1 and 32 in length."
    if not chat_input:
        return None  # user and message commands: any 1-32 characters, spaces and capitals too
    if not all(_name_char(char) for char in name):
        return f"name {name!r}: String value did not match validation regex."
    if name != name.lower():
        return f"name {name!r}: must be lowercase"
    return None


def _length_problem(where: str, value: object, low: int, high: int) -> str | None:
    if not isinstance(value, str) or not low <= len(value) <= high:
        return f"{where}: Must be between {low} and {high} in length."
    return None


def localizations_problem(
    where: str, item: dict[str, Any], *, chat_input: bool, choice: bool = False
) -> str | None:
    """The first fault in one item's `name_localizations`/`description_localizations`."""
    for key in ("name_localizations", "description_localizations"):
        found = item.get(key)
        if found is None:
            continue
        if not isinstance(found, dict):
            return f"{where}.{key}: expected an object"
        for locale, value in found.items():
            if locale not in DISCORD_LOCALES:
                return f"{where}.{key}: Invalid Locale {locale!r}"
            if key == "description_localizations":
                problem = _length_problem(f"{where}.{key}.{locale}", value, 1, 100)
            elif choice:
                problem = _length_problem(f"{where}.{key}.{locale}", value, 1, 100)
            else:
                problem = name_problem(value, chat_input=chat_input)
            if problem is not None:
                return f"{where}.{key}.{locale}: {problem}"
    return None


def siblings_problem(where: str, items: list[dict[str, Any]]) -> str | None:
    """Names, and each locale's localized names, unique among siblings."""
    seen: dict[str, set[str]] = {}
    for item in items:
        names = {"": str(item.get("name", ""))}
        names.update((item.get("name_localizations") or {}).items())
        for locale, name in names.items():
            taken = seen.setdefault(locale, set())
            if name in taken:
                return f"{where}: duplicate name {name!r} ({locale or 'default'})"
            taken.add(name)
    return None


def option_problem(where: str, option: dict[str, Any]) -> str | None:
    where = f"{where}.{option.get('name')}"
    problem = name_problem(option.get("name")) or _length_problem(
        f"{where}.description", option.get("description"), 1, 100
    )
    problem = problem or localizations_problem(where, option, chat_input=True)
    if problem is not None:
        return problem
    choices = option.get("choices") or []
    for choice in choices:
        problem = _length_problem(f"{where}.choices.name", choice.get("name"), 1, 100)
        problem = problem or localizations_problem(
            f"{where}.choices", choice, chat_input=True, choice=True
        )
        if problem is not None:
            return problem
    children = option.get("options") or []
    if option.get("type") in (SUBCOMMAND, GROUP):
        for child in children:
            problem = option_problem(where, child)
            if problem is not None:
                return problem
        return siblings_problem(f"{where}.options", children)
    return None


def command_problem(command: dict[str, Any]) -> str | None:
    """The first fault Discord would report in one command of a bulk overwrite, or None."""
    chat_input = command.get("type", CHAT_INPUT) == CHAT_INPUT
    name = command.get("name", "")
    problem = name_problem(name, chat_input=chat_input)
    if problem is None and chat_input:
        problem = _length_problem(f"{name}.description", command.get("description", ""), 1, 100)
    problem = problem or localizations_problem(str(name), command, chat_input=chat_input)
    if problem is not None:
        return problem
    options = command.get("options") or []
    if len(options) > 25:
        return f"command {name}: at most 25 options"
    for option in options:
        problem = option_problem(str(name), option)
        if problem is not None:
            return problem
    return siblings_problem(f"{name}.options", options)
