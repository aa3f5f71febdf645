"""Who reads in which language (bot/core/requests/languages.py, preferences.py, service.py):
the reader's locale from their choice, their app, the community and English, resolved with
the scope's row in the one read a request makes, kept on the row; the choices people type."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.language import LANGUAGES, Catalogues
from bot.core.models import ImagineCommand, Requester, Scope
from bot.core.requests.languages import (
    OWN_NAMES,
    TYPED_SHOWN,
    NotOffered,
    chosen_language,
    community_language_set,
    language_set,
    not_offered,
)
from bot.core.requests.service import GenerationService
from bot.core.store import Store
from tests.support.service import GUILD, TARGET, build_service

GERMAN = Requester(platform="discord", user_id="1", display_name="jonas", language="de")
ENGLISH_APP = Requester(platform="discord", user_id="2", display_name="amy", language="en-US")
IN_A_RUSSIAN_SERVER = Requester(
    platform="discord", user_id="3", display_name="x", language="ko", community_language="ru"
)


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[GenerationService]:
    service = await build_service(tmp_path)
    yield service
    await service.store.close()


async def test_the_readers_locale_follows_choice_app_community_english(
    service: GenerationService,
) -> None:
    assert await service.locale(GERMAN, GUILD) == "de"  # the app's language
    assert await service.locale(ENGLISH_APP, GUILD) == "en"
    # An app language we do not have: the server's Discord language, then English.
    assert await service.locale(IN_A_RUSSIAN_SERVER, GUILD) == "ru"
    nobody = Requester(platform="discord", user_id="4", display_name="x", language="ko")
    assert await service.locale(nobody, GUILD) == "en"
    # The admins' choice beats the platform's default; members' apps still win...
    await service.set_community_language(GUILD, "fr")
    assert await service.locale(IN_A_RUSSIAN_SERVER, GUILD) == "fr"
    assert await service.locale(GERMAN, GUILD) == "de"
    # ...unless the admins say the community's language is everyone's.
    await service.set_community_language(GUILD, "fr", members_win=False)
    assert await service.locale(GERMAN, GUILD) == "fr"
    # A person's own choice wins over everything, in every scope; automatic again undoes it.
    await service.set_user_language(GERMAN, "ja")
    assert await service.locale(GERMAN, GUILD) == "ja"
    assert await service.locale(GERMAN, Scope(platform="discord", id="9")) == "ja"
    await service.set_user_language(GERMAN, None)
    assert await service.locale(GERMAN, GUILD) == "fr"
    assert await service.community_locale(GERMAN, GUILD) == "fr"


async def test_only_offered_languages_can_be_chosen(service: GenerationService) -> None:
    for bad in ("xx", "en_XA", "de; DROP TABLE", ""):
        with pytest.raises(ValueError, match="not a language we offer"):
            await service.set_user_language(GERMAN, bad)
        with pytest.raises(ValueError, match="not a language we offer"):
            await service.set_community_language(GUILD, bad)
    assert await service.locale(GERMAN, GUILD) == "de"


class CountingStore:
    """Counts the scope-row reads a request makes (the store as it is, otherwise)."""

    def __init__(self, store: Store) -> None:
        self.store, self.reads = store, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def scope_row(self, *args: Any) -> Any:
        self.reads += 1
        return await self.store.scope_row(*args)


async def test_a_request_reads_its_scope_once_and_keeps_the_locale_on_its_row(
    service: GenerationService,
) -> None:
    await service.set_user_language(GERMAN, "uk")
    counting = CountingStore(service.store)
    service.admission._store = counting  # type: ignore[assignment]
    prepared = await service.prepare(GERMAN, GUILD, ImagineCommand(prompt="a fox"))
    assert counting.reads == 1
    assert prepared.locale == "uk"
    ticket = await service.submit(prepared, TARGET)
    row = await service.store.get(ticket.generation_id)
    assert row is not None and row.locale == "uk"
    # Changing the language later does not change what the request was admitted in.
    await service.set_user_language(GERMAN, "tr")
    again = await service.store.get(ticket.generation_id)
    assert again is not None and again.locale == "uk"


def test_typed_choices_by_code_tag_or_own_name() -> None:
    assert chosen_language("de") == "de"
    assert chosen_language(" pt-br ") == "pt_BR"
    assert chosen_language("Deutsch") == "de"
    assert chosen_language("العربية") == "ar"
    assert chosen_language("zh-Hans") == "zh_Hans"
    assert chosen_language("AUTO") is None
    for bad in ("klingon", "zh-TW", "xx-YY", "<b>", ""):
        with pytest.raises(NotOffered):
            chosen_language(bad)


def test_a_long_unknown_choice_is_repeated_only_in_part() -> None:
    said = Catalogues().render(not_offered("x" * 5000), "en")
    assert "x" * TYPED_SHOWN in said and "x" * (TYPED_SHOWN + 1) not in said


@given(st.text(max_size=40))
def test_any_typed_text_is_a_language_automatic_or_refused(typed: str) -> None:
    try:
        found = chosen_language(typed)
    except NotOffered:
        return
    assert found is None or found in LANGUAGES


def test_every_language_is_offered_in_its_own_name() -> None:
    assert set(OWN_NAMES) == set(LANGUAGES)
    assert len(set(OWN_NAMES.values())) == len(LANGUAGES)


def test_the_answers_are_translated_into_every_language() -> None:
    catalogues = Catalogues()
    english = catalogues.render(language_set("de"), "en")
    assert english == "Done! I'll answer you in Deutsch from now on."
    for locale in LANGUAGES[1:]:
        said = catalogues.render(language_set(locale), locale)
        assert said != catalogues.render(language_set(locale), "en")
        assert OWN_NAMES[locale] in said
    admins = community_language_set("ru", chosen=True, members_win=False)
    assert catalogues.render(admins, "ru").startswith("Язык сообщества теперь — Русский")
