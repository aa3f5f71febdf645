"""The gallery's queries on the SQLite database file, through aiosqlite.

Keyset pagination: a listing page continues below the last row's (created_at, id), so rows
added or deleted meanwhile never shift a page; a search page continues below the last row's
search rowid, which FTS5 walks downwards directly (newest first, stopping after one page).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from bot.web.queries import (
    ITEM_COLUMNS,
    VISIBLE,
    GalleryItem,
    Page,
    item_from,
    match_expression,
    search_cursor,
)
from bot.web.shared_queries import SharedGalleryQueries

SCHEMA_VERSION = 10  # communities' own styles (migration 010)


class SchemaTooOld(RuntimeError):
    pass


class SqliteGallery(SharedGalleryQueries):
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

    async def _execute(self, sql: str, params: Sequence[Any]) -> int:
        cursor = await self._db.execute(sql, params)
        return cursor.rowcount

    async def _search(
        self, text: str, where: list[str], params: list[Any], cursor: str | None, limit: int
    ) -> Page | None:
        expression = match_expression(text)
        if expression is None:
            return None
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

    async def delete_own(
        self, platform: str, scope_id: str, generation_id: str, user_id: str
    ) -> GalleryItem | None:
        rows = await self._rows(
            f"DELETE FROM generations AS g WHERE g.id = ? AND g.platform = ? AND g.scope_id = ? "  # noqa: S608
            f"AND g.user_id = ? AND {VISIBLE} RETURNING {ITEM_COLUMNS.replace('g.', '')}",
            (generation_id, platform, scope_id, user_id),
        )
        return item_from(rows[0]) if rows else None

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
