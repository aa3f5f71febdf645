"""A brush-editor link works once: its use is stored (migration 009) on SQLite and PostgreSQL,
and forget-me and the retention purge remove those rows like the rest of a person's data."""

from __future__ import annotations

import time
from pathlib import Path

from bot.core.store import Store
from bot.web.postgres import PostgresGallery
from bot.web.queries import GalleryStore
from bot.web.sqlite import SqliteGallery


async def gallery_of(store_url: str) -> GalleryStore:
    if store_url.startswith("sqlite:///"):
        return await SqliteGallery.open(Path(store_url.removeprefix("sqlite:///")))
    return await PostgresGallery.open(store_url)


async def uses(store: Store) -> list[tuple[str, str]]:
    rows = await store.fetch("SELECT nonce, user_id FROM editor_link_uses ORDER BY nonce")
    return [(str(r[0]), str(r[1])) for r in rows]


async def test_a_link_is_claimed_once_and_only_once(store: Store, store_url: str) -> None:
    gallery = await gallery_of(store_url)
    try:
        later = time.time() + 600
        assert not await gallery.editor_link_used("a" * 32)
        assert await gallery.claim_editor_link("a" * 32, "telegram", "42", "abc", later)
        assert not await gallery.claim_editor_link("a" * 32, "telegram", "42", "abc", later)
        assert await gallery.editor_link_used("a" * 32)
        # Another person's link, or another link of the same person, is its own.
        assert await gallery.claim_editor_link("b" * 32, "telegram", "42", "abc", later)
        assert await gallery.claim_editor_link("c" * 32, "discord", "7", "def", later)
    finally:
        await gallery.close()
    assert await uses(store) == [("a" * 32, "42"), ("b" * 32, "42"), ("c" * 32, "7")]


async def test_forget_me_and_the_purge_remove_the_uses(store: Store, store_url: str) -> None:
    gallery = await gallery_of(store_url)
    now = time.time()
    try:
        await gallery.claim_editor_link("a" * 32, "telegram", "42", "abc", now + 600)
        await gallery.claim_editor_link("b" * 32, "telegram", "9", "abc", now - 100 * 86400)
        await gallery.claim_editor_link("c" * 32, "telegram", "9", "abc", now + 600)
    finally:
        await gallery.close()
    await store.forget_user("telegram", "42")
    assert await uses(store) == [("b" * 32, "9"), ("c" * 32, "9")]
    await store.purge_before(now - 86400)  # the expired link's use goes, the open one stays
    assert await uses(store) == [("c" * 32, "9")]
