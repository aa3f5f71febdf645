"""Languages in the store (migration 011), on SQLite and PostgreSQL: a person's own choice, a
community's default and whether members' languages win, read with the scope's row in one
query; the locale a request is answered in kept on its row; forget-me and a moved Telegram
group carry them like the other settings."""

from __future__ import annotations

from bot.core.store import Store
from bot.core.store.settings import ScopeRow
from tests.support.store_rows import values


async def test_nothing_chosen_reads_as_automatic(store: Store) -> None:
    row = await store.scope_row("discord", "g1", "7")
    assert row == ScopeRow()
    assert (row.language, row.members_language_wins, row.user_language) == (None, True, None)


async def test_a_persons_language_comes_with_the_scope_row(store: Store) -> None:
    await store.set_user_language("discord", "7", "de")
    # Read with a scope nobody configured, and with one that has settings of its own.
    assert (await store.scope_row("discord", "g1", "7")).user_language == "de"
    await store.set_scope_limits("discord", "g2", 5, None)
    row = await store.scope_row("discord", "g2", "7")
    assert (row.user_language, row.daily_limit_per_user) == ("de", 5)
    # Another person, the same id on the other platform, or no person asked: not theirs.
    assert (await store.scope_row("discord", "g2", "8")).user_language is None
    assert (await store.scope_row("telegram", "g2", "7")).user_language is None
    assert (await store.scope_row("discord", "g2")).user_language is None
    # Back to automatic; a default style set later does not touch the language.
    await store.set_user_style("discord", "7", "anime")
    assert await store.user_style("discord", "7") == "anime"
    assert (await store.scope_row("discord", "g1", "7")).user_language == "de"
    await store.set_user_language("discord", "7", None)
    assert (await store.scope_row("discord", "g1", "7")).user_language is None
    assert await store.user_style("discord", "7") == "anime"


async def test_a_communitys_language_keeps_its_other_settings(store: Store) -> None:
    await store.set_scope_settings("telegram", "-5", "sketch", ["sketch"])
    await store.set_scope_language("telegram", "-5", "ru", members_win=False)
    row = await store.scope_row("telegram", "-5")
    assert (row.language, row.members_language_wins) == ("ru", False)
    assert (row.default_style, row.allowed_styles) == ("sketch", ("sketch",))
    await store.set_scope_nsfw("telegram", "-5", True)
    await store.set_scope_language("telegram", "-5", None, members_win=True)
    row = await store.scope_row("telegram", "-5")
    assert (row.language, row.members_language_wins, row.nsfw) == (None, True, True)


async def test_a_request_keeps_the_locale_it_was_admitted_in(store: Store) -> None:
    made = await store.insert_generation(values(locale="ar"))
    again = await store.get(made.id)
    assert again is not None and again.locale == "ar"
    older = await store.insert_generation(values())  # a row written without one reads English
    assert older.locale == "en"


async def test_forget_me_removes_the_persons_language(store: Store) -> None:
    await store.set_user_language("telegram", "42", "uk")
    await store.set_user_language("telegram", "43", "tr")
    await store.forget_user("telegram", "42")
    assert (await store.scope_row("telegram", "-5", "42")).user_language is None
    assert (await store.scope_row("telegram", "-5", "43")).user_language == "tr"


async def test_a_moved_group_keeps_its_language(store: Store) -> None:
    await store.set_scope_language("telegram", "-100", "ar", members_win=False)
    await store.move_chat("telegram", "-100", "-1001")
    row = await store.scope_row("telegram", "-1001")
    assert (row.language, row.members_language_wins) == ("ar", False)
    assert await store.scope_row("telegram", "-100") == ScopeRow()
