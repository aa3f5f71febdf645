"""Prompt translations in the store (migration 012), on SQLite and PostgreSQL: the cache of one
translation per text and model, which holds a hash of the text and never the text; the
English kept on the request's row beside the words as written; both gone with the history's
retention and with /forget_me."""

from __future__ import annotations

import time

from bot.core.store import Store
from tests.support.store_rows import values


async def test_the_cache_keeps_one_translation_per_text_and_model_and_not_the_text(
    store: Store,
) -> None:
    assert await store.cached_translation("кот", "gpt-4o-mini") is None
    await store.cache_translation("кот", "gpt-4o-mini", "a cat", time.time())
    await store.cache_translation("кот", "gpt-4.1-nano", "cat", time.time())
    assert await store.cached_translation("кот", "gpt-4o-mini") == "a cat"
    assert await store.cached_translation("кот", "gpt-4.1-nano") == "cat"
    assert await store.cached_translation("кошка", "gpt-4o-mini") is None
    # A second process's answer for the same text replaces the first, never a second row.
    await store.cache_translation("кот", "gpt-4o-mini", "a cat (again)", time.time())
    assert await store.cached_translation("кот", "gpt-4o-mini") == "a cat (again)"
    rows = await store.fetch("SELECT key, english FROM prompt_translations ORDER BY english")
    assert len(rows) == 2 and all("кот" not in str(row[0]) for row in rows)


async def test_the_row_keeps_the_words_as_written_and_their_english(store: Store) -> None:
    row = await store.insert_generation(
        values(
            prompt="кот", negative_prompt="текст", prompt_english="a cat", negative_english="text"
        )
    )
    stored = await store.get(row.id)
    assert stored is not None
    assert (stored.prompt, stored.negative_prompt) == ("кот", "текст")
    assert (stored.prompt_english, stored.negative_english) == ("a cat", "text")
    plain = await store.insert_generation(values(prompt="a lighthouse"))
    assert (plain.prompt_english, plain.negative_english) == (None, None)


async def test_retention_and_forget_me_take_the_translations_with_the_history(
    store: Store,
) -> None:
    now = time.time()
    await store.cache_translation("старое", "m", "old", now - 100 * 86400)
    await store.cache_translation("новое", "m", "new", now)
    await store.purge_before(now - 90 * 86400)
    assert await store.cached_translation("старое", "m") is None
    assert await store.cached_translation("новое", "m") == "new"

    # Their prompt's translation goes with their rows; someone else's words stay.
    await store.insert_generation(values(user_id="42", prompt="мой кот", negative_prompt="шум"))
    await store.insert_generation(values(user_id="43", prompt="чужой кот"))
    for text in ("мой кот", "шум", "чужой кот"):
        await store.cache_translation(text, "m", "english", now)
    await store.forget_user("telegram", "42")
    assert await store.cached_translation("мой кот", "m") is None
    assert await store.cached_translation("шум", "m") is None
    assert await store.cached_translation("чужой кот", "m") == "english"
