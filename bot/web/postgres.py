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
import time
from typing import Any

from bot.core.store.executor import Row
from bot.core.store.postgres import PostgresStore
from bot.web.queries import (
    ITEM_COLUMNS,
    MAX_SEARCH_WORDS,
    SCOPE_STYLES,
    VISIBLE,
    Filters,
    GalleryItem,
    Original,
    Page,
    StyleOption,
    item_from,
    listing_cursor,
    originals_from,
    scope_styles_from,
)

# The expression of migration 006's GIN index, word for word, so the planner uses it.
_SEARCHED = "to_tsvector('simple', translate(g.prompt, '<>', '  ')) @@ to_tsquery('simple', ?)"


def tsquery_of(text: str) -> str | None:
    """User words as a tsquery: only word characters reach it (no operators), the last word
    matches as a prefix."""
    words = re.findall(r"\w+", text.lower())[:MAX_SEARCH_WORDS]
    if not words:
        return None
    return " & ".join(words) + ":*"


class PostgresGallery:
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

    async def page(
        self, platform: str, scope_id: str, filters: Filters, cursor: str | None, limit: int
    ) -> Page:
        where = [VISIBLE, "g.platform = ?", "g.scope_id = ?"]
        params: list[Any] = [platform, scope_id]
        if not filters.include_hidden:
            where.append("g.hidden = 0")
        if filters.style:
            where.append("g.style = ?")
            params.append(filters.style)
        if filters.user_id:
            where.append("g.user_id = ?")
            params.append(filters.user_id)
        query = tsquery_of(filters.text or "")
        if query is not None:
            where.append(_SEARCHED)
            params.append(query)
        after = listing_cursor(cursor)
        if after is not None:
            where.append("(g.created_at, g.id) < (?, ?)")
            params += [*after]
        rows = await self._store.fetch(
            f"SELECT {ITEM_COLUMNS} FROM generations g WHERE {' AND '.join(where)} "  # noqa: S608 - fixed fragments
            "ORDER BY g.created_at DESC, g.id DESC LIMIT ?",
            [*params, limit + 1],
        )
        items = [item_from(r) for r in rows[:limit]]
        last = items[-1] if items else None
        return Page(
            items, f"t{last.created_at!r}_{last.id}" if len(rows) > limit and last else None
        )

    async def item(
        self, platform: str, scope_id: str, generation_id: str, *, include_hidden: bool
    ) -> GalleryItem | None:
        hidden = "" if include_hidden else " AND g.hidden = 0"
        row = await self._store.fetchone(
            f"SELECT {ITEM_COLUMNS} FROM generations g WHERE g.id = ? AND g.platform = ? "  # noqa: S608
            f"AND g.scope_id = ? AND {VISIBLE}{hidden}",
            (generation_id, platform, scope_id),
        )
        return item_from(row) if row else None

    async def originals(self, generation_id: str) -> list[Original]:
        rows = await self._store.fetch(
            "SELECT idx, path, width, height FROM generation_images WHERE generation_id = ? "
            "ORDER BY idx",
            (generation_id,),
        )
        return originals_from(rows)

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

    async def set_hidden(
        self, platform: str, scope_id: str, generation_id: str, hidden: bool
    ) -> bool:
        changed = await self._store.execute(
            f"UPDATE generations AS g SET hidden = ? WHERE g.id = ? AND g.platform = ? "  # noqa: S608
            f"AND g.scope_id = ? AND {VISIBLE}",
            (int(hidden), generation_id, platform, scope_id),
        )
        return changed > 0

    async def gallery_enabled(self, platform: str, scope_id: str) -> bool:
        return await self.gallery_generation(platform, scope_id) is not None

    async def gallery_generation(self, platform: str, scope_id: str) -> int | None:
        row = await self._store.fetchone(
            "SELECT gallery, gallery_generation FROM scope_settings "
            "WHERE platform = ? AND scope_id = ?",
            (platform, scope_id),
        )
        if row is None:
            return 0
        return int(row[1]) if row[0] else None

    async def set_gallery_enabled(self, platform: str, scope_id: str, enabled: bool) -> None:
        # Switching off moves the link generation on: switched on again, no earlier link or
        # session opens anything (the switch "closes every link and session").
        bump = 0 if enabled else 1
        await self._store.execute(
            "INSERT INTO scope_settings (platform, scope_id, gallery, gallery_generation, "
            "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, scope_id) "
            "DO UPDATE SET gallery = excluded.gallery, updated_at = excluded.updated_at, "
            "gallery_generation = scope_settings.gallery_generation + ?",
            (platform, scope_id, int(enabled), bump, time.time(), bump),
        )

    async def revoke_gallery(self, platform: str, scope_id: str) -> None:
        """Every link and session made so far stops opening the gallery; new ones work."""
        await self._store.execute(
            "INSERT INTO scope_settings (platform, scope_id, gallery_generation, updated_at) "
            "VALUES (?, ?, 1, ?) ON CONFLICT (platform, scope_id) DO UPDATE SET "
            "gallery_generation = scope_settings.gallery_generation + 1, "
            "updated_at = excluded.updated_at",
            (platform, scope_id, time.time()),
        )

    async def scope_styles(self, platform: str, scope_id: str) -> list[StyleOption]:
        return scope_styles_from(await self._store.fetch(SCOPE_STYLES, (platform, scope_id)))

    async def user_name(
        self, platform: str, scope_id: str, user_id: str, *, include_hidden: bool = False
    ) -> str | None:
        # Only someone with a picture this viewer may see is named (issue 26.10).
        hidden = "" if include_hidden else " AND g.hidden = 0"
        row = await self._store.fetchone(
            f"SELECT g.user_name FROM generations g WHERE {VISIBLE}{hidden} "  # noqa: S608
            "AND g.platform = ? AND g.user_id = ? AND g.scope_id = ? "
            "ORDER BY g.created_at DESC LIMIT 1",
            (platform, user_id, scope_id),
        )
        return str(row[0]) if row else None

    async def editor_link_used(self, nonce: str) -> bool:
        row = await self._store.fetchone("SELECT 1 FROM editor_link_uses WHERE nonce = ?", (nonce,))
        return row is not None

    async def claim_editor_link(
        self, nonce: str, platform: str, user_id: str, generation_id: str, expires_at: float
    ) -> bool:
        changed = await self._store.execute(
            "INSERT INTO editor_link_uses (nonce, platform, user_id, generation_id, used_at, "
            "expires_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (nonce) DO NOTHING",
            (nonce, platform, user_id, generation_id, time.time(), expires_at),
        )
        return changed == 1

    async def existing(self, generation_ids: list[str]) -> set[str]:
        rows = await self._store.fetch(
            f"SELECT id FROM generations g WHERE g.id = ANY(?::text[]) AND {VISIBLE}",  # noqa: S608
            (generation_ids,),
        )
        return {str(r[0]) for r in rows}
