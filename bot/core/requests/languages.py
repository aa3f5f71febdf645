"""The languages a person or an admin may choose, and the words of `/language`,
`/setlanguage` and `/settings language`: catalogue `Text`s both adapters render in the
reader's locale (`bot/core/language.py`), so the two platforms say the same thing.
"""

from __future__ import annotations

from typing import Final

from bot.core.language import LANGUAGES, Text, UserText, locale_from_tag

# Each language in its own name, as a picker lists it (a reader finds their own language
# whatever language the picker is shown in).
OWN_NAMES: Final[dict[str, str]] = {
    "en": "English",
    "es": "Español",
    "pt_BR": "Português (Brasil)",
    "de": "Deutsch",
    "fr": "Français",
    "ru": "Русский",
    "uk": "Українська",
    "tr": "Türkçe",
    "id": "Bahasa Indonesia",
    "ja": "日本語",
    "zh_Hans": "简体中文",
    "ar": "العربية",
}
AUTOMATIC_WORDS: Final = frozenset({"auto", "automatic", "reset", "default"})


def own_name(locale: str) -> str:
    return OWN_NAMES.get(locale, OWN_NAMES["en"])


class NotOffered(ValueError):
    """A language name or code we do not offer."""


def chosen_language(typed: str) -> str | None:
    """The locale a person typed (`de`, `pt-BR`, `Deutsch`, `auto`): None means automatic.
    Raises `NotOffered` for anything else. Total over any text."""
    words = typed.strip()
    if words.casefold() in AUTOMATIC_WORDS:
        return None
    for locale, name in OWN_NAMES.items():
        if words.casefold() in (name.casefold(), locale.casefold()):
            return locale
    found = locale_from_tag(words)
    if found is None or found not in LANGUAGES:
        raise NotOffered(words)
    return found


def codes() -> str:
    """Every language we offer as `code (own name)`, for a usage answer."""
    return ", ".join(f"{locale} ({name})" for locale, name in OWN_NAMES.items())


def picker_prompt(current: str) -> Text:
    return Text(
        "I answer you in {language}. Pick the language you want:", language=own_name(current)
    )


def automatic_label() -> Text:
    return Text("Automatic (my app's language)")


def language_set(locale: str) -> Text:
    return Text("Done! I'll answer you in {language} from now on.", language=own_name(locale))


def language_automatic(now: str) -> Text:
    return Text(
        "Done! I'll follow your app's language again (for now that's {language}).",
        language=own_name(now),
    )


TYPED_SHOWN = 40  # of what a person typed, the answer repeats this much at most


def not_offered(typed: str) -> Text:
    return Text(
        "I don't speak “{typed}” yet. These are the languages I know: {codes}",
        typed=UserText(typed[:TYPED_SHOWN]),
        codes=codes(),
    )


def community_language_set(now: str, *, chosen: bool, members_win: bool) -> Text:
    """An admin's answer: the community's language now, and who else reads what."""
    language = own_name(now)
    if not chosen:
        if members_win:
            return Text(
                "This community's language is automatic again ({language}); members still get "
                "their own app's language.",
                language=language,
            )
        return Text(
            "This community's language is automatic again ({language}), for everyone who has "
            "not picked their own with /language.",
            language=language,
        )
    if members_win:
        return Text(
            "This community's language is now {language}; members whose app uses another "
            "language still get theirs.",
            language=language,
        )
    return Text(
        "This community's language is now {language}, for everyone who has not picked their "
        "own with /language.",
        language=language,
    )


def setlanguage_usage() -> Text:
    return Text(
        "Usage: /setlanguage followed by a language code, then members (members' own "
        "languages win, the default) or everyone; /setlanguage auto goes back to automatic. "
        "Codes: {codes}",
        codes=codes(),
    )
