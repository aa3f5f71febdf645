"""The gallery's queries that read the same on SQLite and PostgreSQL, written once.

`bot.web.sqlite` and `bot.web.postgres` each say how they run a statement (`_rows`,
`_execute`) and what is their own dialect: prompt search (FTS5, or a `tsquery` over a GIN
index), deleting a row and returning it, and a list of ids. Everything else (filters, the
listing's keyset page, items, originals, hiding, the gallery switch and its link generation,
names, the brush editor's link uses, a community's own styles) is here.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from bot.web.queries import (
    ITEM_COLUMNS,
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


class SharedGalleryQueries(ABC):
    @abstractmethod
    async def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Run a statement, its rows (each indexable by position and by name)."""

    @abstractmethod
    async def _execute(self, sql: str, params: Sequence[Any]) -> int:
        """Run a statement, the number of rows it changed."""

    @abstractmethod
    async def _search(
        self, text: str, where: list[str], params: list[Any], cursor: str | None, limit: int
    ) -> Page | None:
        """A page of the rows `where` holds for whose prompt matches `text`; None when
        `text` holds nothing to search for (then the page lists)."""

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
        if filters.text:
            searched = await self._search(filters.text, where, params, cursor, limit)
            if searched is not None:
                return searched
        return await self._listing(where, params, cursor, limit)

    async def _listing(
        self, where: list[str], params: list[Any], cursor: str | None, limit: int
    ) -> Page:
        """Newest first, continuing below the last row's (created_at, id)."""
        after = listing_cursor(cursor)
        if after is not None:
            where = [*where, "(g.created_at, g.id) < (?, ?)"]
            params = [*params, *after]
        rows = await self._rows(
            f"SELECT {ITEM_COLUMNS} FROM generations g WHERE {' AND '.join(where)} "  # noqa: S608 - fixed fragments
            "ORDER BY g.created_at DESC, g.id DESC LIMIT ?",
            [*params, limit + 1],
        )
        items = [item_from(r) for r in rows[:limit]]
        last = items[-1] if items else None
        more = len(rows) > limit
        return Page(items, f"t{last.created_at!r}_{last.id}" if more and last else None)

    async def item(
        self, platform: str, scope_id: str, generation_id: str, *, include_hidden: bool
    ) -> GalleryItem | None:
        hidden = "" if include_hidden else " AND g.hidden = 0"
        rows = await self._rows(
            f"SELECT {ITEM_COLUMNS} FROM generations g WHERE g.id = ? AND g.platform = ? "  # noqa: S608
            f"AND g.scope_id = ? AND {VISIBLE}{hidden}",
            (generation_id, platform, scope_id),
        )
        return item_from(rows[0]) if rows else None

    async def originals(self, generation_id: str) -> list[Original]:
        rows = await self._rows(
            "SELECT idx, path, width, height FROM generation_images WHERE generation_id = ? "
            "ORDER BY idx",
            (generation_id,),
        )
        return originals_from(rows)

    async def set_hidden(
        self, platform: str, scope_id: str, generation_id: str, hidden: bool
    ) -> bool:
        changed = await self._execute(
            f"UPDATE generations AS g SET hidden = ? WHERE g.id = ? AND g.platform = ? "  # noqa: S608
            f"AND g.scope_id = ? AND {VISIBLE}",
            (int(hidden), generation_id, platform, scope_id),
        )
        return changed > 0

    async def gallery_enabled(self, platform: str, scope_id: str) -> bool:
        return await self.gallery_generation(platform, scope_id) is not None

    async def gallery_generation(self, platform: str, scope_id: str) -> int | None:
        rows = await self._rows(
            "SELECT gallery, gallery_generation FROM scope_settings "
            "WHERE platform = ? AND scope_id = ?",
            (platform, scope_id),
        )
        if not rows:
            return 0
        return int(rows[0][1]) if rows[0][0] else None

    async def set_gallery_enabled(self, platform: str, scope_id: str, enabled: bool) -> None:
        # Switching off moves the link generation on: switched on again, no earlier link or
        # session opens anything (the switch "closes every link and session").
        bump = 0 if enabled else 1
        await self._execute(
            "INSERT INTO scope_settings (platform, scope_id, gallery, gallery_generation, "
            "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, scope_id) "
            "DO UPDATE SET gallery = excluded.gallery, updated_at = excluded.updated_at, "
            "gallery_generation = scope_settings.gallery_generation + ?",
            (platform, scope_id, int(enabled), bump, time.time(), bump),
        )

    async def revoke_gallery(self, platform: str, scope_id: str) -> None:
        """Every link and session made so far stops opening the gallery; new ones work."""
        await self._execute(
            "INSERT INTO scope_settings (platform, scope_id, gallery_generation, updated_at) "
            "VALUES (?, ?, 1, ?) ON CONFLICT (platform, scope_id) DO UPDATE SET "
            "gallery_generation = scope_settings.gallery_generation + 1, "
            "updated_at = excluded.updated_at",
            (platform, scope_id, time.time()),
        )

    async def scope_styles(self, platform: str, scope_id: str) -> list[StyleOption]:
        """The scope's own visible styles, for the style filter beside the built-in ones."""
        return scope_styles_from(await self._rows(SCOPE_STYLES, (platform, scope_id)))

    async def user_name(
        self, platform: str, scope_id: str, user_id: str, *, include_hidden: bool = False
    ) -> str | None:
        # Only someone with a picture this viewer may see is named (issue 26.10).
        hidden = "" if include_hidden else " AND g.hidden = 0"
        rows = await self._rows(
            f"SELECT g.user_name FROM generations g WHERE {VISIBLE}{hidden} "  # noqa: S608
            "AND g.platform = ? AND g.user_id = ? AND g.scope_id = ? "
            "ORDER BY g.created_at DESC LIMIT 1",
            (platform, user_id, scope_id),
        )
        return str(rows[0][0]) if rows else None

    async def editor_link_used(self, nonce: str) -> bool:
        rows = await self._rows("SELECT 1 FROM editor_link_uses WHERE nonce = ?", (nonce,))
        return bool(rows)

    async def claim_editor_link(
        self, nonce: str, platform: str, user_id: str, generation_id: str, expires_at: float
    ) -> bool:
        changed = await self._execute(
            "INSERT INTO editor_link_uses (nonce, platform, user_id, generation_id, used_at, "
            "expires_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (nonce) DO NOTHING",
            (nonce, platform, user_id, generation_id, time.time(), expires_at),
        )
        return changed == 1
