"""Native command names and descriptions on Discord: discord.py's `app_commands.Translator`
reading our catalogues (the `discord` area), so every command, subcommand group, option and
choice is synced with `name_localizations` and `description_localizations`.

The strings are taken from the command tree itself, not from the source text: an option's
name is a Python parameter's name and its description sits in `@app_commands.describe`, which
Babel's keyword extractor cannot see. `python -m bot.catalogues update` builds the tree
(`command_tree`) and walks it (`command_messages`), so a command another module adds is in the
template the next time it is run, and the test that the template is up to date catches one
that was not. Names carry the message context `NAME_CONTEXT` (a name is a word, its
translation follows Discord's name rules); descriptions and choice names have none.

Discord's locales (`DISCORD_LOCALES`) are not ours: Spanish is written for both `es-ES` and
`es-419`, Chinese (Simplified) for `zh-CN`; Discord has no Arabic locale, so Arabic readers see
the English command names (and their replies in Arabic). A translation that breaks Discord's
rules (name pattern, lowercase, 1-32 characters; descriptions and choice names 1-100) is left
out, the English shows, and the sync is never refused for it.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterator
from typing import Any, Final, cast

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where

from bot.core.language import LANGUAGES, Catalogues

log = logging.getLogger(__name__)

NAME_CONTEXT: Final = "discord command name"
NAME_COMMENT: Final = (
    "A Discord command, option or group name: one lowercase word (letters, digits, - or _), "
    "at most 32 characters, different from its neighbours."
)
DESCRIPTION_COMMENT: Final = "A Discord command or option description: at most 100 characters."
CHOICE_COMMENT: Final = "A choice offered by a Discord command option: at most 100 characters."

# Our locale -> the Discord locales it is written for (Discord has no Arabic).
DISCORD_LOCALES: Final[dict[str, tuple[discord.Locale, ...]]] = {
    "es": (discord.Locale.spain_spanish, discord.Locale.latin_american_spanish),
    "pt_BR": (discord.Locale.brazil_portuguese,),
    "de": (discord.Locale.german,),
    "fr": (discord.Locale.french,),
    "ru": (discord.Locale.russian,),
    "uk": (discord.Locale.ukrainian,),
    "tr": (discord.Locale.turkish,),
    "id": (discord.Locale.indonesian,),
    "ja": (discord.Locale.japanese,),
    "zh_Hans": (discord.Locale.chinese,),
}
OURS: Final = {
    discord_locale: ours for ours, all in DISCORD_LOCALES.items() for discord_locale in all
}
NAMES: Final = frozenset({Where.command_name, Where.group_name, Where.parameter_name})
DESCRIPTIONS: Final = frozenset(
    {Where.command_description, Where.group_description, Where.parameter_description}
)
# Choices whose name has no letter ("16:9") read the same everywhere, and a language's own
# name ("Deutsch") is shown as it is: neither is translated.
_LETTER = re.compile(r"[^\W\d_]")


def valid_name(name: str) -> bool:
    """Discord's rule for chat-input names: `^[-_\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$`,
    lowercase where a lowercase exists."""
    if not 1 <= len(name) <= 32 or name != name.lower():
        return False
    for char in name:
        point = ord(char)
        if not (
            char in "-_"
            or unicodedata.category(char)[0] in "LN"
            or 0x0900 <= point <= 0x097F
            or 0xA8E0 <= point <= 0xA8FF
            or 0x0E00 <= point <= 0x0E7F
        ):
            return False
    return True


class CatalogueTranslator(app_commands.Translator):
    """Each command string in each Discord locale we write, from the catalogues."""

    def __init__(self, catalogues: Catalogues) -> None:
        self.catalogues = catalogues

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if context.location is Where.choice_name and _own_language_name(context.data):
            return None
        menu = isinstance(context.data, app_commands.ContextMenu)
        siblings = _sibling_names(context.data) if context.location in NAMES else ()
        return self.wording(string.message, locale, context.location, menu=menu, siblings=siblings)

    def wording(
        self,
        message: str,
        locale: discord.Locale,
        where: Where,
        *,
        menu: bool = False,
        siblings: tuple[str, ...] = (),
    ) -> str | None:
        """The translation, or None (Discord shows the English) when there is none, it breaks
        Discord's rules, or it is the same as a sibling's translated name (`siblings`: the
        English names beside this one, whose translations must differ from it)."""
        ours = OURS.get(locale)
        if ours is None or where not in NAMES | DESCRIPTIONS | {Where.choice_name}:
            return None
        translations = self.catalogues.translations(ours)
        if where in NAMES:
            wording = translations.upgettext(NAME_CONTEXT, message)
            # A user or message command's name may hold spaces and capitals.
            fits = 1 <= len(wording) <= 32 if menu else valid_name(wording)
            taken = {translations.upgettext(NAME_CONTEXT, other) for other in siblings}
            fits = fits and wording not in taken
        else:
            wording = translations.ugettext(message)
            fits = 1 <= len(wording) <= 100
        if wording == message:
            return None
        if not fits:
            log.warning("the %s translation of %r breaks Discord's rules; English", ours, message)
            return None
        return str(wording)


def _own_language_name(choice: object) -> bool:
    """A choice whose value is one of our locales is that language's name in itself
    ("Deutsch", "日本語"), as a language picker shows it to everyone: never translated."""
    return isinstance(choice, app_commands.Choice) and choice.value in LANGUAGES


def _sibling_names(data: object) -> tuple[str, ...]:
    """The English names beside an option or a group's command (the top level's commands are
    checked by the tests: the translator is not told the tree)."""
    if isinstance(data, app_commands.Parameter):
        others = [p.display_name for p in data.command.parameters if p.name != data.name]
        return tuple(others)
    if isinstance(data, app_commands.Command | app_commands.Group) and data.parent is not None:
        return tuple(c.name for c in data.parent.commands if c.name != data.name)
    return ()


Message = tuple[str, str | None, str]  # the English, its context, a translator's comment


def command_messages(tree: app_commands.CommandTree[Any]) -> Iterator[Message]:
    """Every translatable string of the tree's commands (global ones), in tree order."""
    for command in tree.get_commands():
        yield from _item_messages(command)


def _item_messages(item: Any) -> Iterator[Message]:
    yield item.name, NAME_CONTEXT, NAME_COMMENT
    if isinstance(item, app_commands.ContextMenu):
        return
    yield item.description, None, DESCRIPTION_COMMENT
    if isinstance(item, app_commands.Group):
        for child in item.commands:
            yield from _item_messages(child)
        return
    for parameter in cast(app_commands.Command[Any, ..., Any], item).parameters:
        yield parameter.display_name, NAME_CONTEXT, NAME_COMMENT  # as renamed for Discord
        yield parameter.description, None, DESCRIPTION_COMMENT
        for choice in parameter.choices:
            if _LETTER.search(choice.name) and not _own_language_name(choice):
                yield choice.name, None, CHOICE_COMMENT


class _Unwired:
    """Stands in for the service and the intake when the tree is built only to be read:
    registration closes over them (or over one of their parts) and never calls them."""

    def __getattr__(self, name: str) -> None:
        return None


def command_tree() -> app_commands.CommandTree[Any]:
    """The bot's command tree as the Discord adapter registers it, built without a service,
    for `python -m bot.catalogues update`."""
    from bot.adapters.discord.commands import register_commands

    client = discord.Client(intents=discord.Intents.none())
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)
    register_commands(tree, cast(Any, _Unwired()), cast(Any, _Unwired()), None)
    return tree
