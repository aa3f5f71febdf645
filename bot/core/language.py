"""The reader's language: which locale a message is written in, and the catalogues that write it.

Every text a user or an admin reads is a gettext message in the catalogues under
`bot/locales/` (managed with Babel: `python -m bot.catalogues update`, see
docs/translating.md). The core and the adapters do not write sentences; they build `Text`
values (a message id in English and its parameters), and the part that knows who reads the
message renders it in that person's locale with `Catalogues.render`. So a refusal raised deep
in the core is worded for whoever sees it, and the history row keeps the message id and its
parameters, not one language's wording.

Parameters are typed by what they are, because each is shown differently:

- `UserText` (a prompt, a style name a person typed): its bidi controls removed and the rest
  wrapped in Unicode isolates (FSI ... PDI, UAX #9), so a Latin prompt inside an Arabic
  sentence (or the reverse) keeps both in order, and the text cannot reorder ours. The
  adapter's escaping (HTML, Markdown) is applied to it alone, never to the catalogue's words;
- `Number` and `Duration`: formatted for the locale with Babel (grouping, decimal marks,
  "2 minutes" / "2 минуты");
- anything else (ids, seeds, codes) as `str()`: a seed never gets a thousands separator.

Plural forms come from the catalogue (`Plural`): Russian has three, Arabic six, Japanese one.
A translation that is missing, or whose placeholders do not match English, falls back to the
English text, so rendering is total: a bad catalogue never costs a user their answer.

Which locale reads a message (`choose_locale`): the person's own choice (`/language`), else
their client's language when the community lets members' languages win (the default), else the
community's default (an admin's choice, or Discord's `guild_locale`), else English. Messages
that several people read (the busy board, a group's gallery link) use `community_locale`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Final

from babel import Locale
from babel.dates import format_timedelta
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from bot.core.text import strip_bidi

LOCALES_DIR: Final = Path(__file__).resolve().parent.parent / "locales"
DOMAIN: Final = "imaginebot"  # the merged catalogue's name; each area keeps its own file
ENGLISH: Final = "en"
PSEUDO: Final = "en_XA"

# Our locales, as gettext directory names, in the order /language lists them. English is
# the source language (the message ids); en_XA is the pseudo-locale the tests use to find
# text that escapes the catalogue, never offered to users.
LANGUAGES: Final = (
    "en",
    "es",
    "pt_BR",
    "de",
    "fr",
    "ru",
    "uk",
    "tr",
    "id",
    "ja",
    "zh_Hans",
    "ar",
)
RIGHT_TO_LEFT: Final = frozenset({"ar"})

FIRST_STRONG_ISOLATE: Final = "\u2068"
POP_DIRECTIONAL_ISOLATE: Final = "\u2069"

_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


def locale_from_tag(tag: object) -> str | None:
    """Our locale for a platform's language tag, or None when we have none for it.

    Discord sends its own list ("pt-BR", "es-ES", "es-419", "zh-CN", "zh-TW", "en-US", ...);
    Telegram an IETF tag of the user's app ("ru", "pt-br", "zh-hans", "uk", ...), sometimes
    nothing. Total: any value, of any type, gives a locale or None.
    """
    if not isinstance(tag, str) or not _TAG.fullmatch(tag.strip()):
        return None
    parts = re.split(r"[-_]", tag.strip().lower())
    language, rest = parts[0], parts[1:]
    if language == "zh":
        # Traditional Chinese readers are better served by English than by Simplified.
        traditional = {"hant", "tw", "hk", "mo"}
        return None if traditional.intersection(rest) else "zh_Hans"
    if language == "pt":
        return "pt_BR"  # the one Portuguese we have; closer than English for Portugal too
    if language == "en":
        return ENGLISH
    return language if language in LANGUAGES else None


def choose_locale(
    *,
    chosen: str | None,
    from_client: str | None,
    community: str | None,
    members_win: bool = True,
) -> str:
    """The locale one person reads in (the order is in the module docstring)."""
    own = locale_from_tag(from_client)
    for candidate in (chosen, own if members_win else None, community, own):
        if candidate in LANGUAGES or candidate == PSEUDO:
            return candidate
    return ENGLISH


def community_locale(*, chosen: str | None, platform_default: str | None) -> str:
    """The locale of messages several people read: the admin's choice, else the platform's
    default for the community (Discord's `guild_locale`), else English."""
    if chosen in LANGUAGES or chosen == PSEUDO:
        return chosen
    return locale_from_tag(platform_default) or ENGLISH


def is_right_to_left(locale: str) -> bool:
    return locale in RIGHT_TO_LEFT


def babel_locale(locale: str) -> Locale:
    """The Babel locale that formats numbers and durations (the pseudo-locale formats as
    English)."""
    return Locale.parse(ENGLISH if locale == PSEUDO else locale)


@dataclass(frozen=True, slots=True)
class UserText:
    """Text a person wrote, shown inside one of our sentences."""

    value: str


@dataclass(frozen=True, slots=True)
class Number:
    value: int | float


@dataclass(frozen=True, slots=True)
class Duration:
    seconds: float


@dataclass(frozen=True, slots=True)
class Text:
    """A message to show: its English message id and its parameters, rendered later in the
    reader's locale. Babel extracts `Text("...")` and `Plural("...", "...", n)` calls."""

    message: str
    params: Mapping[str, object] = field(default_factory=dict)
    plural: str | None = None
    count: int | None = None

    def __init__(self, message: str, /, **params: object) -> None:
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "plural", None)
        object.__setattr__(self, "count", None)


def Plural(singular: str, plural: str, count: int, /, **params: object) -> Text:
    """A message whose words depend on a count (`{count}` is the count, formatted)."""
    text = Text(singular, count=Number(count), **params)
    object.__setattr__(text, "plural", plural)
    object.__setattr__(text, "count", count)
    return text


def placeholders(message: str) -> frozenset[str]:
    """The `{name}` fields of a message (an unparseable message has none we can trust)."""
    try:
        return frozenset(
            name for _, name, _, _ in string.Formatter().parse(message) if name is not None
        )
    except ValueError:
        return frozenset({"<unparseable>"})


class Catalogues:
    """The compiled catalogues, loaded once per locale."""

    def __init__(self, directory: Path = LOCALES_DIR) -> None:
        self._directory = directory
        self._loaded: dict[str, NullTranslations] = {}

    def translations(self, locale: str) -> NullTranslations:
        if locale not in self._loaded:
            self._loaded[locale] = _load(self._directory, locale)
        return self._loaded[locale]

    def render(self, text: Text, locale: str, *, escape: Callable[[str], str] = lambda s: s) -> str:
        """`text` in `locale`; user text isolated and escaped with `escape` (the adapter's
        markup escaping), the catalogue's own words never escaped."""
        translations = self.translations(locale)
        if text.plural is not None and text.count is not None:
            wording = translations.ungettext(text.message, text.plural, text.count)
            english = text.message if text.count == 1 else text.plural
        else:
            wording = translations.ugettext(text.message)
            english = text.message
        values = {name: _shown(value, locale, escape, self) for name, value in text.params.items()}
        for candidate in (wording, english):
            try:
                return candidate.format_map(values)
            except (KeyError, IndexError, ValueError, AttributeError):
                continue
        return english


# The catalogues a process renders with, loaded once per locale on first use.
CATALOGUES: Final = Catalogues()


def _shown(value: object, locale: str, escape: Callable[[str], str], catalogues: Catalogues) -> str:
    if isinstance(value, UserText):
        cleaned = escape(strip_bidi(value.value))
        return f"{FIRST_STRONG_ISOLATE}{cleaned}{POP_DIRECTIONAL_ISOLATE}"
    if isinstance(value, Number):
        return format_decimal(value.value, locale=babel_locale(locale))
    if isinstance(value, Duration):
        return format_timedelta(
            timedelta(seconds=value.seconds), locale=babel_locale(locale), threshold=1.1
        )
    if isinstance(value, Text):
        return catalogues.render(value, locale, escape=escape)
    return str(value)


def _load(directory: Path, locale: str) -> NullTranslations:
    """Every catalogue of `locale` (one per area of the bot: see `bot/catalogues.py`) as
    one, or English's identity when there is none.

    A checkout that was never installed has no `.mo` files (they are built at install time,
    see `hatch_build.py`), and an edited `.po` is newer than its `.mo`: then the `.po`
    source is read instead, so a bare checkout speaks every language and an edited
    translation shows at the next start.
    """
    if locale == ENGLISH:
        return NullTranslations()
    folder = directory / locale / "LC_MESSAGES"
    domains = sorted(
        {path.stem for path in folder.glob("*.po")} | {p.stem for p in folder.glob("*.mo")}
    )
    if not domains:
        return NullTranslations()
    # The first area's catalogue carries the language's plural rule; the others join it.
    merged = _domain(folder / f"{domains[0]}.mo")
    for domain in domains[1:]:
        merged.merge(_domain(folder / f"{domain}.mo"))
    return merged


def _domain(compiled: Path) -> Translations:
    source = compiled.with_suffix(".po")
    if compiled.is_file() and (
        not source.is_file() or compiled.stat().st_mtime >= source.stat().st_mtime
    ):
        with compiled.open("rb") as handle:
            return Translations(fp=handle, domain=compiled.stem)
    return _from_source(source)


def _from_source(source: Path) -> Translations:
    from io import BytesIO

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with source.open("rb") as handle:
        catalogue = read_po(handle)
    buffer = BytesIO()
    write_mo(buffer, catalogue)
    buffer.seek(0)
    return Translations(fp=buffer, domain=source.stem)
