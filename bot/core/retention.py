"""Deleting history: the daily retention purge and a user's forget-me, each in one transaction.

Each runs on a short-lived SQLite connection of its own with `BEGIN IMMEDIATE`: the store's
shared connection is in autocommit mode and used by every coroutine, so a transaction opened
on it would take in (and on a rollback undo) whatever other writes happened meanwhile. WAL mode
lets the bot keep reading while the purge writes; other writers wait on the busy timeout.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

FINISHED = "('failed', 'delivered')"


@asynccontextmanager
async def transaction(path: Path) -> AsyncIterator[aiosqlite.Connection]:
    db = await aiosqlite.connect(path, isolation_level=None)
    try:
        await db.execute("PRAGMA busy_timeout=5000")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")
    finally:
        await db.close()


async def purge_before(path: Path, created_before: float) -> list[str]:
    """Delete finished rows and refusals older than the cut-off; return the rows' image paths.

    Rows still queued, running or done (not yet delivered) are kept whatever their age.
    """
    async with transaction(path) as db:
        cursor = await db.execute(
            f"DELETE FROM generations WHERE created_at < ? AND status IN {FINISHED} "  # noqa: S608 - a constant
            "RETURNING image_path",
            (created_before,),
        )
        paths = [str(row[0]) for row in await cursor.fetchall() if row[0] is not None]
        await db.execute("DELETE FROM refusals WHERE created_at < ?", (created_before,))
    return paths


async def forget_user(path: Path, platform: str, user_id: str) -> list[str]:
    """Delete a user's history rows, refusals and personal settings; return the image paths."""
    who = (platform, user_id)
    async with transaction(path) as db:
        cursor = await db.execute(
            "DELETE FROM generations WHERE platform = ? AND user_id = ? RETURNING image_path", who
        )
        paths = [str(row[0]) for row in await cursor.fetchall() if row[0] is not None]
        await db.execute("DELETE FROM refusals WHERE platform = ? AND user_id = ?", who)
        await db.execute("DELETE FROM user_settings WHERE platform = ? AND user_id = ?", who)
    return paths
