"""The shared store: PostgreSQL through an asyncpg connection pool, for several bot processes.

Queries come from `base.py` with `?` placeholders and are numbered (`$1`, `$2`, ...) once per
text. A lost connection (server restart, failover, `pg_terminate_backend`) is retried with
backoff for a bounded time; an operation that still fails raises `StoreUnavailable`, whose
message the user sees. A retried operation is a whole statement or a whole transaction, so
nothing is ever half-stored; the generation insert is idempotent on its id, so a retry after
a commit whose answer was lost does not store it twice. Migrations run under a session
advisory lock: processes starting together wait for the first, then find nothing to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from bot.core.errors import StoreUnavailable
from bot.core.models import HandleValue
from bot.core.store.base import Store, migration_files, migrations_dir
from bot.core.store.executor import Executor, Row

log = logging.getLogger(__name__)
T = TypeVar("T")

# pg_advisory_lock key for migrations: any constant the application owns ("imgbot" in hex).
MIGRATION_LOCK = 0x696D67626F74
# Errors after which the same operation can simply run again on a fresh connection.
RETRYABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08, including "connection was closed"
    asyncpg.exceptions.OperatorInterventionError,  # class 57: admin shutdown, terminated backend
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.TooManyConnectionsError,
    # "another operation is in progress" on an idle session the server terminated
    asyncpg.exceptions.InternalClientError,
    OSError,  # refused, reset
    TimeoutError,
)


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, RETRYABLE):
        return True
    # InterfaceError also means a programming error (wrong argument count): retry only the
    # kinds a dropped session leaves: "connection is closed", and "released back to the
    # pool" (the pool takes back a connection whose session ended while it was lent out).
    text = str(exc)
    return isinstance(exc, asyncpg.InterfaceError) and (
        "closed" in text or "released back to the pool" in text
    )


@lru_cache(maxsize=512)
def numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, ...` (our SQL has no `?` inside literals)."""
    count = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _m: f"${next(count)}", sql)


def _changed(status: str) -> int:
    """Rows changed, from asyncpg's command tag ("UPDATE 3", "INSERT 0 1", "DELETE 0")."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class _Connection(Executor):
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self.conn.fetch(numbered(sql), *params))

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return _changed(await self.conn.execute(numbered(sql), *params))


class PostgresStore(Store):
    backend = "postgresql"

    def __init__(self, pool: asyncpg.Pool, url: str, *, retry_seconds: float) -> None:
        self._pool = pool
        self.url = url
        self.retry_seconds = retry_seconds

    @classmethod
    async def open_url(
        cls,
        url: str,
        *,
        migrate: bool = True,
        retry_seconds: float = 10.0,
        min_size: int = 1,
        max_size: int = 10,
    ) -> PostgresStore:
        async def connect() -> asyncpg.Pool:
            return await asyncpg.create_pool(
                url,
                min_size=min_size,
                max_size=max_size,
                command_timeout=30,
                timeout=5,
                reset=_keep_session,
            )

        pool = await _with_retries(connect, retry_seconds, "connect")
        store = cls(pool, url, retry_seconds=retry_seconds)
        if migrate:
            try:
                await store.migrate()
            except BaseException:
                await pool.close()
                raise
        return store

    async def close(self) -> None:
        await self._pool.close()

    async def _retrying(self, op: Callable[[_Connection], Awaitable[T]], what: str) -> T:
        async def attempt() -> T:
            async with self._pool.acquire() as conn:
                try:
                    return await op(_Connection(conn))
                except BaseException as exc:
                    if _retryable(exc):
                        # A session the server ended can be left half-closed: drop it, so
                        # the pool opens a fresh one for the retry.
                        with contextlib.suppress(asyncpg.InterfaceError):
                            conn.terminate()
                    raise

        return await _with_retries(attempt, self.retry_seconds, what)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self._retrying(lambda c: c.fetch(sql, params), "query")

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return await self._retrying(lambda c: c.execute(sql, params), "statement")

    async def transaction(self, body: Callable[[Executor], Awaitable[T]]) -> T:
        async def run(conn: _Connection) -> T:
            async with conn.conn.transaction():
                return await body(conn)

        return await self._retrying(run, "transaction")

    def handle_merge_sql(self, changes: dict[str, HandleValue]) -> tuple[str, list[Any]]:
        # jsonb `||` keeps keys whose new value is null, as the dict merge it replaces did.
        return "CAST(CAST(handle AS jsonb) || CAST(? AS jsonb) AS TEXT)", [json.dumps(changes)]

    def handle_key_sql(self, key: str) -> tuple[str, str, list[Any]]:
        return (
            "CAST(CAST(handle AS jsonb) - CAST(? AS TEXT) AS TEXT)",
            "(CAST(handle AS jsonb) ->> CAST(? AS TEXT))",
            [key],
        )

    # -- migrations ---------------------------------------------------------------------------

    async def schema_version(self) -> int:
        async def read(conn: _Connection) -> int:
            await _ensure_version_table(conn.conn)
            value = await conn.conn.fetchval("SELECT MAX(version) FROM schema_version")
            return int(value) if value is not None else 0

        return await self._retrying(read, "schema version")

    async def migrate(self, directory: Path | None = None) -> list[int]:
        directory = directory or migrations_dir() / "postgres"

        async def run(conn: _Connection) -> list[int]:
            db = conn.conn
            # Session lock: released by unlock, or by the server if this connection dies.
            await db.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            try:
                await _ensure_version_table(db)
                current = await db.fetchval("SELECT MAX(version) FROM schema_version") or 0
                applied: list[int] = []
                for version, file in migration_files(directory):
                    if version <= current:
                        continue
                    async with db.transaction():
                        await db.execute(file.read_text(encoding="utf-8"))
                        await db.execute(
                            "INSERT INTO schema_version VALUES ($1, $2)", version, time.time()
                        )
                    applied.append(version)
                    log.info("applied migration postgres/%s", file.name)
                return applied
            finally:
                if not db.is_closed():
                    await db.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)

        return await self._retrying(run, "migration")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset on release, with no query: asyncpg still rolls back an open
    transaction itself, and the store changes no other session state (the migration lock is
    released explicitly), so the default `RESET ALL; CLOSE ALL; ...` would only add a round
    trip to every operation."""


async def _ensure_version_table(db: asyncpg.Connection) -> None:
    # Two sessions running this at once can both miss the table; the loser's unique violation
    # on the catalogue means the table now exists.
    try:
        await db.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION)"
        )
    except asyncpg.UniqueViolationError:
        pass


async def _with_retries(op: Callable[[], Awaitable[T]], budget: float, what: str) -> T:
    """Run `op`, again after retryable errors with doubling pauses, for up to `budget` s."""
    deadline = time.monotonic() + budget
    delay = 0.05
    attempt = 1
    while True:
        try:
            return await op()
        except (*RETRYABLE, asyncpg.InterfaceError) as exc:
            if not _retryable(exc):
                raise
            left = deadline - time.monotonic()
            if left <= 0:
                log.error(
                    "PostgreSQL %s failed %d times (%s); giving up",
                    what,
                    attempt,
                    exc.__class__.__name__,
                )
                raise StoreUnavailable() from exc
            log.warning(
                "PostgreSQL %s failed (%s); retrying in %.2f s",
                what,
                exc.__class__.__name__,
                min(delay, left),
            )
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, 2.0)
            attempt += 1
