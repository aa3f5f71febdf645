"""The gallery's queries on the SQLite database file, through aiosqlite.

Keyset pagination: a listing page continues below the last row's (created_at, id), so rows
added or deleted meanwhile never shift a page; a search page continues below the last row's
search rowid, which FTS5 walks downwards directly (newest first, stopping after one page).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite

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
    match_expression,
    originals_from,
    scope_styles_from,
    search_cursor,
)

SCHEMA_VERSION = 10  # communities' own styles (migration 010)


class SchemaTooOld(RuntimeError):
    pass


class SqliteGallery:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: Path) -> SqliteGallery:
        """Open the bot's database, applying its migrations first if the bot never ran."""
        if not await asyncio.to_thread(path.exists) or await _version(path) < SCHEMA_VERSION:
            from bot.core.store import Store  # the project's one migration runner

            store = await Store.open(path)
            await store.close()
        db = await aiosqlite.connect(path, isolation_level=None)
        db.row_factory = sqlite3.Row
        # The store switched the file to WAL under its lock: this only reads the mode back.
        for pragma in ("busy_timeout=5000", "journal_mode=WAL", "foreign_keys=ON"):
            await db.execute(f"PRAGMA {pragma}")
        return cls(db)

    async def close(self) -> None:
        await self._db.close()

    async def _rows(self, sql: str, params: Sequence[Any]) -> list[sqlite3.Row]:
        return list(await self._db.execute_fetchall(sql, params))

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
        expression = match_expression(filters.text or "")
        if expression is not None:
            return await self._search(expression, where, params, cursor, limit)
        after = listing_cursor(cursor)
        if after is not None:
            where.append("(g.created_at, g.id) < (?, ?)")
            params += [*after]
        rows = await self._rows(
            f"SELECT {ITEM_COLUMNS} FROM generations g WHERE {' AND '.join(where)} "  # noqa: S608 - fixed fragments
            "ORDER BY g.created_at DESC, g.id DESC LIMIT ?",
            [*params, limit + 1],
        )
        items = [item_from(r) for r in rows[:limit]]
        more = len(rows) > limit
        last = items[-1] if items else None
        return Page(items, f"t{last.created_at!r}_{last.id}" if more and last else None)

    async def _search(
        self,
        expression: str,
        where: list[str],
        params: list[Any],
        cursor: str | None,
        limit: int,
    ) -> Page:
        fts = ["generations_fts MATCH ?"]
        fts_params: list[Any] = [expression]
        below = search_cursor(cursor)
        if below is not None:
            fts.append("f.rowid < ?")
            fts_params.append(below)
        rows = await self._rows(
            f"SELECT f.rowid AS search_rowid, {ITEM_COLUMNS} FROM generations_fts f "  # noqa: S608 - fixed fragments
            "JOIN generation_search s ON s.rowid = f.rowid "
            "JOIN generations g ON g.id = s.generation_id "
            f"WHERE {' AND '.join(fts + where)} ORDER BY f.rowid DESC LIMIT ?",
            [*fts_params, *params, limit + 1],
        )
        items = [item_from(r) for r in rows[:limit]]
        more = len(rows) > limit
        return Page(items, f"r{rows[limit - 1]['search_rowid']}" if more else None)

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

    async def delete_own(
        self, platform: str, scope_id: str, generation_id: str, user_id: str
    ) -> GalleryItem | None:
        rows = await self._rows(
            f"DELETE FROM generations AS g WHERE g.id = ? AND g.platform = ? AND g.scope_id = ? "  # noqa: S608
            f"AND g.user_id = ? AND {VISIBLE} RETURNING {ITEM_COLUMNS.replace('g.', '')}",
            (generation_id, platform, scope_id, user_id),
        )
        return item_from(rows[0]) if rows else None

    async def set_hidden(
        self, platform: str, scope_id: str, generation_id: str, hidden: bool
    ) -> bool:
        cursor = await self._db.execute(
            f"UPDATE generations AS g SET hidden = ? WHERE g.id = ? AND g.platform = ? "  # noqa: S608
            f"AND g.scope_id = ? AND {VISIBLE}",
            (int(hidden), generation_id, platform, scope_id),
        )
        return cursor.rowcount > 0

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
        await self._db.execute(
            "INSERT INTO scope_settings (platform, scope_id, gallery, gallery_generation, "
            "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, scope_id) "
            "DO UPDATE SET gallery = excluded.gallery, updated_at = excluded.updated_at, "
            "gallery_generation = scope_settings.gallery_generation + ?",
            (platform, scope_id, int(enabled), bump, time.time(), bump),
        )

    async def revoke_gallery(self, platform: str, scope_id: str) -> None:
        """Every link and session made so far stops opening the gallery; new ones work."""
        await self._db.execute(
            "INSERT INTO scope_settings (platform, scope_id, gallery_generation, updated_at) "
            "VALUES (?, ?, 1, ?) ON CONFLICT (platform, scope_id) DO UPDATE SET "
            "gallery_generation = scope_settings.gallery_generation + 1, "
            "updated_at = excluded.updated_at",
            (platform, scope_id, time.time()),
        )

    async def scope_styles(self, platform: str, scope_id: str) -> list[StyleOption]:
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
        cursor = await self._db.execute(
            "INSERT INTO editor_link_uses (nonce, platform, user_id, generation_id, used_at, "
            "expires_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (nonce) DO NOTHING",
            (nonce, platform, user_id, generation_id, time.time(), expires_at),
        )
        return cursor.rowcount == 1

    async def existing(self, generation_ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(generation_ids), 500):
            chunk = generation_ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = await self._rows(
                f"SELECT id FROM generations g WHERE g.id IN ({marks}) AND {VISIBLE}",  # noqa: S608
                chunk,
            )
            found.update(str(r[0]) for r in rows)
        return found


async def _version(path: Path) -> int:
    async with aiosqlite.connect(path) as db:
        try:
            rows = list(await db.execute_fetchall("SELECT MAX(version) FROM schema_version"))
        except sqlite3.OperationalError:
            return 0
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0
