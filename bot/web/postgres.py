"""The gallery's queries on PostgreSQL, through the bot's PostgreSQL store (its pool, its
retries after a lost connection, its migrations under a lock).

Prompt search is PostgreSQL's own full text search: the user's words become a `tsquery`
(each word a plain term, the last a prefix), matched against `to_tsvector('simple', prompt)`,
which the GIN index of migration 006 serves (angle brackets read as spaces: the parser
takes "<...>" for markup). Listing and search pages share one keyset
cursor, the last row's (created_at, id): newest first, never shifted by rows added meanwhile.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.core.store.executor import Row
from bot.core.store.postgres import PostgresStore
from bot.web.queries import ITEM_COLUMNS, MAX_SEARCH_WORDS, VISIBLE, GalleryItem, Page, item_from
from bot.web.shared_queries import SharedGalleryQueries

# The expression of migration 006's GIN index, word for word, so the planner uses it.
_SEARCHED = "to_tsvector('simple', translate(g.prompt, '<>', '  ')) @@ to_tsquery('simple', ?)"


def tsquery_of(text: str) -> str | None:
    """User words as a tsquery: only word characters reach it (no operators), the last word
    matches as a prefix."""
    words = re.findall(r"\w+", text.lower())[:MAX_SEARCH_WORDS]
    if not words:
        return None
    return " & ".join(words) + ":*"


class PostgresGallery(SharedGalleryQueries):
    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    @classmethod
    async def open(cls, url: str) -> PostgresGallery:
        """Connect, applying the store's migrations first if the bot never ran."""
        from bot.core.store.factory import open_url

        store = await open_url(url)
        assert isinstance(store, PostgresStore)
        return cls(store)

    async def close(self) -> None:
        await self._store.close()

    async def _rows(self, sql: str, params: Sequence[Any]) -> list[Row]:
        return await self._store.fetch(sql, params)

    async def _execute(self, sql: str, params: Sequence[Any]) -> int:
        return await self._store.execute(sql, params)

    async def _search(
        self, text: str, where: list[str], params: list[Any], cursor: str | None, limit: int
    ) -> Page | None:
        query = tsquery_of(text)
        if query is None:
            return None
        return await self._listing([*where, _SEARCHED], [*params, query], cursor, limit)

    async def delete_own(
        self, platform: str, scope_id: str, generation_id: str, user_id: str
    ) -> GalleryItem | None:
        async def delete(db: Any) -> Row | None:
            rows = await db.fetch(
                f"DELETE FROM generations AS g WHERE g.id = ? AND g.platform = ? "  # noqa: S608
                f"AND g.scope_id = ? AND g.user_id = ? AND {VISIBLE} RETURNING {ITEM_COLUMNS}",
                (generation_id, platform, scope_id, user_id),
            )
            return rows[0] if rows else None

        row = await self._store.transaction(delete)
        return item_from(row) if row else None

    async def existing(self, generation_ids: list[str]) -> set[str]:
        rows = await self._store.fetch(
            f"SELECT id FROM generations g WHERE g.id = ANY(?::text[]) AND {VISIBLE}",  # noqa: S608
            (generation_ids,),
        )
        return {str(r[0]) for r in rows}
