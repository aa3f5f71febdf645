"""The embedded store: one SQLite file under DATA_DIR, through aiosqlite.

The shared connection runs in autocommit mode (a write is one trip to aiosqlite's thread) and
is used by every coroutine, so a transaction opened on it would take in, and on a rollback
undo, whatever other writes happened meanwhile: transactions run on a short-lived connection
of their own with `BEGIN IMMEDIATE`. WAL mode lets the bot keep reading while one writes.
Switching a file to WAL and migrating it run under an exclusive file lock beside the database:
SQLite answers "database is locked" at once (no busy timeout applies) to a second connection
changing the journal mode of a file another is changing, so processes started together on a
new file (`imaginebot run` and `imaginebot web` from one compose file) would otherwise crash;
under the lock they all start, and the file is migrated once.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.core.models import HandleValue
from bot.core.store.base import Store, migration_files, migrations_dir
from bot.core.store.executor import Executor, Row

log = logging.getLogger(__name__)
T = TypeVar("T")


async def _connect(path: Path) -> aiosqlite.Connection:
    # isolation_level=None: autocommit; transactions are opened explicitly.
    db = await aiosqlite.connect(path, isolation_level=None)
    db.row_factory = sqlite3.Row
    await db.execute("PRAGMA busy_timeout=5000")
    await db.execute("PRAGMA foreign_keys=ON")
    return db


class _Connection(Executor):
    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self.db.execute_fetchall(sql, params))

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = await self.db.execute(sql, params)
        return cursor.rowcount


@asynccontextmanager
async def _file_lock(path: Path) -> AsyncIterator[None]:
    """An exclusive lock across processes on this machine (where a SQLite file must live)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


async def _switch_to_wal(db: aiosqlite.Connection, patience: float = 10.0) -> None:
    """PRAGMA journal_mode=WAL, tried again while SQLite says "locked" without waiting itself.

    The start-up lock keeps imaginebot's own processes apart; this covers any other program
    holding the file at that moment (a backup, the sqlite3 shell)."""
    deadline = time.monotonic() + patience
    pause = 0.01
    while True:
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
            log.info("the database is busy while switching to WAL; trying again")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)


def _startup_lock(database: Path) -> contextlib.AbstractAsyncContextManager[None]:
    """The lock that serialises the journal-mode switch and migrations of one database file."""
    return _file_lock(database.with_name(database.name + ".migrate-lock"))


class SQLiteStore(Store):
    backend = "sqlite"

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._conn = _Connection(db)
        self.path = path

    @classmethod
    async def open_path(cls, path: Path, *, migrate: bool = True) -> SQLiteStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await _connect(path)
        try:
            async with _startup_lock(path):
                await _switch_to_wal(db)
            await db.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            await db.close()
            raise
        store = cls(db, path)
        if migrate:
            await store.migrate()
        return store

    async def close(self) -> None:
        await self._conn.db.close()

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self._conn.fetch(sql, params)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return await self._conn.execute(sql, params)

    async def transaction(self, body: Callable[[Executor], Awaitable[T]]) -> T:
        db = await _connect(self.path)
        try:
            await db.execute("BEGIN IMMEDIATE")
            try:
                result = await body(_Connection(db))
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")
            return result
        finally:
            await db.close()

    def handle_merge_sql(self, changes: dict[str, HandleValue]) -> tuple[str, list[Any]]:
        # json_set with json(?) keeps a None as a JSON null (json_patch would drop the key).
        pairs = ", ".join("?, json(?)" for _ in changes)
        params: list[Any] = []
        for key, value in changes.items():
            params += ["$." + json.dumps(key), json.dumps(value)]
        return f"json_set(handle, {pairs})", params

    def handle_key_sql(self, key: str) -> tuple[str, str, list[Any]]:
        path = "$." + json.dumps(key)
        return "json_remove(handle, ?)", "json_extract(handle, ?)", [path]

    # -- migrations ---------------------------------------------------------------------------

    async def schema_version(self) -> int:
        await self.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at REAL)"
        )
        row = await self.fetchone("SELECT MAX(version) FROM schema_version")
        return int(row[0]) if row and row[0] is not None else 0

    async def migrate(self, directory: Path | None = None) -> list[int]:
        directory = directory or migrations_dir()
        applied: list[int] = []
        async with _startup_lock(self.path):
            current = await self.schema_version()
            for version, file in migration_files(directory):
                if version <= current:
                    continue
                script = file.read_text(encoding="utf-8")
                try:
                    await self._conn.db.executescript(
                        f"BEGIN IMMEDIATE;\n{script}\n"
                        f"INSERT INTO schema_version VALUES ({version}, {time.time()});\nCOMMIT;"
                    )
                except sqlite3.Error:
                    if self._conn.db.in_transaction:
                        await self._conn.db.execute("ROLLBACK")
                    raise
                applied.append(version)
                log.info("applied migration %s", file.name)
        return applied
