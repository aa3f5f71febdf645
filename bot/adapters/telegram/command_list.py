"""The command list Telegram shows in the "/" menu, in each of our languages.

`setMyCommands` takes a list per `language_code` (a two-letter ISO 639-1 code): a user whose
app is in that language sees it, everyone else the default list (no `language_code`). Command
names stay English (Telegram has no localised names, and the handlers answer to one name);
the descriptions are the catalogues' (`render.COMMANDS`, the `telegram` area), 1-256
characters, and a translation outside that falls back to the English one. The bot sets only the
default scope (every chat), so one list per language in that scope: twelve calls at start.
"""

from __future__ import annotations

import logging
from typing import Final

from telegram import Bot, BotCommand

from bot.adapters.telegram.render import COMMANDS
from bot.core.language import ENGLISH, LANGUAGES, Catalogues

log = logging.getLogger(__name__)

# Our locale -> Telegram's language_code (the language alone: Telegram takes two letters).
LANGUAGE_CODES: Final = {
    "es": "es",
    "pt_BR": "pt",
    "de": "de",
    "fr": "fr",
    "ru": "ru",
    "uk": "uk",
    "tr": "tr",
    "id": "id",
    "ja": "ja",
    "zh_Hans": "zh",
    "ar": "ar",
}
DESCRIPTION_LIMIT: Final = 256


def command_list(catalogues: Catalogues, locale: str) -> list[BotCommand]:
    """The commands with their descriptions in `locale` (English where a translation is
    missing or does not fit Telegram's 1-256 characters)."""
    commands = []
    for name, description in COMMANDS:
        english = catalogues.render(description, ENGLISH)
        wording = catalogues.render(description, locale)
        if not 1 <= len(wording) <= DESCRIPTION_LIMIT:
            log.warning("the %s description of /%s does not fit Telegram; English", locale, name)
            wording = english
        commands.append(BotCommand(name, wording))
    return commands


def command_lists(catalogues: Catalogues) -> list[tuple[str | None, list[BotCommand]]]:
    """(language_code, list) for the default list (None) and each of our languages."""
    lists: list[tuple[str | None, list[BotCommand]]] = [(None, command_list(catalogues, ENGLISH))]
    for locale in LANGUAGES:
        code = LANGUAGE_CODES.get(locale)
        if code is not None:
            lists.append((code, command_list(catalogues, locale)))
    return lists


async def set_command_lists(bot: Bot, catalogues: Catalogues) -> None:
    """Register the default list and one per language."""
    for code, commands in command_lists(catalogues):
        await bot.set_my_commands(commands, language_code=code)
