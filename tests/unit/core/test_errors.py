"""Every error a user may read is declared in bot/core/errors.py, once per meaning, and reads
in every language; a failed request's words come back from its row in the reader's language."""

from __future__ import annotations

import html
import importlib
import pkgutil
import re

import pytest

import bot
from bot.core.errors import (
    FAILURE_WORDS,
    FLAGGED,
    HORDE_NO_KUDOS,
    HORDE_NO_WORKER,
    HORDE_REFUSES_BOT,
    IDEAS_REFUSED,
    NO_IMAGE,
    NOT_MADE,
    RETRYING_WORDS,
    BudgetExhausted,
    ContentRefused,
    LimitReached,
    ProviderError,
    ProviderQuotaExhausted,
    UnknownStyle,
    UserFacingError,
    delivery_expired_text,
    english,
    expired_text,
    failure_text,
    failure_words,
    too_large_text,
    unopenable_text,
)
from bot.core.language import CATALOGUES, ENGLISH, LANGUAGES, PSEUDO, Text, UserText
from bot.core.limits.quota_days import reset_phrase


def import_every_module() -> None:
    for module in pkgutil.walk_packages(bot.__path__, "bot."):
        if not module.name.endswith("__main__"):  # runs the command line
            importlib.import_module(module.name)


def every_subclass(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= every_subclass(sub)
    return found


def test_every_user_facing_error_is_declared_in_errors() -> None:
    import_every_module()
    elsewhere = {
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in every_subclass(UserFacingError)
        if cls.__module__ != "bot.core.errors"
    }
    assert elsewhere == set()


def test_no_two_errors_share_a_name() -> None:
    import_every_module()
    names = [cls.__name__ for cls in every_subclass(Exception) if cls.__module__.startswith("bot.")]
    assert sorted(name for name in set(names) if names.count(name) > 1) == []


# -- the words, in every language ----------------------------------------------------------------

RESETS = reset_phrase(1767300000.0)  # 3 h 20 min before midnight UTC


def every_error() -> list[UserFacingError]:
    """One of each: the classes whose words never vary, and each factory's cases."""
    fixed = [cls() for cls in every_subclass(UserFacingError) if "words" in vars(cls)]
    made = [
        LimitReached.waiting(1, 1),
        LimitReached.waiting(3, 5),
        LimitReached.daily(chat=False, used=5, limit=5, images=1, resets=RESETS),
        LimitReached.daily(chat=True, used=1, limit=1, images=1, resets=RESETS),
        LimitReached.daily(chat=False, used=3, limit=5, images=4, resets=RESETS),
        LimitReached.daily(chat=True, used=48, limit=50, images=4, resets=RESETS),
        BudgetExhausted.resets(reset_phrase(1767300000.0 + 3 * 3600)),  # minutes only
        ContentRefused.banned(),
        *(ContentRefused.flagged(what) for what in FLAGGED),
    ]
    return [*fixed, *made]


def every_failure() -> list[Text]:
    provider = [cls().text for cls in every_subclass(ProviderError)]
    return [
        *provider,
        *FAILURE_WORDS.values(),
        *RETRYING_WORDS.values(),
        expired_text(1),
        expired_text(25),
        delivery_expired_text(24, "Forbidden: bot was blocked by the user"),
        unopenable_text("the picture has more than 1,000 pixels"),
        too_large_text(50),
        HORDE_NO_KUDOS,
        HORDE_REFUSES_BOT,
        HORDE_NO_WORKER,
        NOT_MADE,
        NO_IMAGE,
        IDEAS_REFUSED,
    ]


def rendered(text: Text, locale: str) -> str:
    return CATALOGUES.render(text, locale)


def numbers_kept(text: Text, english: str, words: str) -> bool:
    """Every number of the English is in the translation; a plural's own count may be said in
    words ("صورتين", two pictures, in Arabic's dual)."""
    numbers = set(re.findall(r"\d+", english)) - {"00"}  # "00:00 UTC" reads "0:00" in ja
    if text.count is not None:
        numbers.discard(str(text.count))
    return numbers <= set(re.findall(r"\d+", words))


@pytest.mark.parametrize("locale", LANGUAGES[1:])
def test_every_refusal_reads_in_every_language_with_its_numbers(locale: str) -> None:
    for error in every_error():
        english, words = error.message, rendered(error.text, locale)
        assert english == rendered(error.text, ENGLISH), error  # the record keeps the English
        assert words != english, f"{locale}: {english!r} is not translated"
        assert "{" not in words and "}" not in words, words  # every placeholder filled
        assert numbers_kept(error.text, english, words), f"{locale}: {words!r}"


@pytest.mark.parametrize("locale", LANGUAGES[1:])
def test_every_failure_reads_in_every_language(locale: str) -> None:
    for text in every_failure():
        english, words = rendered(text, ENGLISH), rendered(text, locale)
        assert words != english, f"{locale}: {english!r} is not translated"
        assert "{" not in words and "}" not in words, words
        assert numbers_kept(text, english, words), f"{locale}: {words!r}"


def test_the_pseudo_locale_wraps_every_refusal() -> None:
    for error in every_error():
        assert rendered(error.text, PSEUDO).startswith("⟦"), error.message


def test_a_refusal_keeps_its_english_and_a_plain_string_shows_as_it_is() -> None:
    typed = "tiny\u202ecat"  # a person's words with a bidi override
    error = UnknownStyle(Text("There is no style called “{name}”.", name=UserText(typed)), [])
    # The record: English, the person's words as they read, without our isolates.
    assert error.message == "There is no style called “tinycat”."
    assert rendered(error.text, "de") == "Es gibt keinen Stil namens „\u2068tinycat\u2069“."
    # Words not yet in a catalogue: shown as they are in every language, isolated.
    plain = UserFacingError("Not in a catalogue <b>yet</b>")
    assert plain.message == "Not in a catalogue <b>yet</b>"
    assert rendered(plain.text, "ru") == "\u2068Not in a catalogue <b>yet</b>\u2069"
    assert CATALOGUES.render(plain.text, "ru", escape=html.escape) == (
        "\u2068Not in a catalogue &lt;b&gt;yet&lt;/b&gt;\u2069"
    )


# -- a failed request's words, from its row ------------------------------------------------------


def test_a_failure_is_told_by_its_own_words_read_back_from_the_row() -> None:
    expired = english(expired_text(5))
    assert expired == "This request waited more than 5 minutes and was cancelled. Please try again."
    assert rendered(failure_text("expired", expired), "ru") == (
        "Запрос ждал больше 5 минут и был отменён. Попробуй ещё раз."
    )
    late = english(delivery_expired_text(24, "Forbidden: bot was blocked by the user"))
    assert rendered(failure_text("delivery_expired", late), "de") == (
        "Das Bild wurde erstellt, konnte aber nicht innerhalb von 24 Stunden gepostet werden "
        "(letzte Antwort: \u2068Forbidden: bot was blocked by the user\u2069)."
    )
    kudos = ProviderQuotaExhausted("horde 403", user_message=HORDE_NO_KUDOS)
    assert failure_text(kudos.code, kudos.user_message) == HORDE_NO_KUDOS
    big = english(too_large_text(50))
    assert rendered(failure_text("bad_output", big), "fr").startswith(
        "Le service d'images a renvoyé plus de 50 Mo"
    )


def test_a_failure_in_words_we_do_not_know_is_told_by_its_kind() -> None:
    # An older row, or a provider's own wording: the kind's words, each kind its own.
    kinds = ("unreachable", "refused", "rate_limited", "busy", "timeout")
    said = {code: rendered(failure_text(code, "something else"), "ru") for code in kinds}
    assert said["busy"] == "Сервис изображений сейчас занят или работает со сбоями. Попробуй позже."
    assert len(set(said.values())) == len(kinds)
    assert failure_text("no_such_code", None) == NOT_MADE
    assert failure_text(None, "") == NOT_MADE
    # A platform's own explanation nobody declared: shown as it is rather than lost.
    start = "Open a chat with me and press Start once, then try again."
    assert english(failure_text("delivery_failed", start)) == start


def test_words_an_adapter_declares_are_read_back_in_the_readers_language() -> None:
    # Any catalogue message will do; this one is no failure's until it is declared.
    declared = Text("That suggestion is no longer there.")
    reason = english(declared)
    assert rendered(failure_text("delivery_failed", reason), "es") == f"\u2068{reason}\u2069"
    failure_words(declared)
    assert failure_text("delivery_failed", reason) == declared
    assert rendered(failure_text("delivery_failed", reason), "es") == "Esa sugerencia ya no está."
