"""A throw-away database on the machine's PostgreSQL server (127.0.0.1:5432, trust auth).

Each test gets a database with a random name, dropped afterwards (with its connections).
`TEST_POSTGRES_URL` points elsewhere; without a server the tests fail, they do not skip:
`.ci/run` starts one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from tests.support import free_port

SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")


def url_of(name: str) -> str:
    return f"{SERVER}/{name}"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(url_of("postgres"), timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def create_database() -> str:
    name = f"imaginebot_test_{secrets.token_hex(6)}"
    await _admin(f'CREATE DATABASE "{name}"')
    return name


async def drop_database(name: str) -> None:
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def terminate_backends(name: str) -> int:
    """Kill every session on the database, as a server restart or failover would; return
    once they are gone (termination is a signal the backend handles when it gets to it)."""
    conn = await asyncpg.connect(url_of("postgres"), timeout=10)
    try:
        pids = [
            r[0]
            for r in await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
        ]
        await conn.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", pids)
        for _ in range(500):
            left = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])", pids
            )
            if not left:
                break
            await asyncio.sleep(0.01)
        return len(pids)
    finally:
        await conn.close()


@contextmanager
def database() -> Iterator[str]:
    """A new empty database's URL, for code outside an event loop (subprocess tests)."""
    name = asyncio.run(create_database())
    try:
        yield url_of(name)
    finally:
        asyncio.run(drop_database(name))


def pg_rows(url: str, sql: str, *args: object) -> list[dict[str, object]]:
    """Rows as dicts, read on a connection of its own (for subprocess tests)."""

    async def read() -> list[dict[str, object]]:
        conn = await asyncpg.connect(url, timeout=10)
        try:
            return [dict(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return asyncio.run(read())


class Relay:
    """127.0.0.1:port -> the PostgreSQL server; `cut()` closes it and every open link."""

    def __init__(self) -> None:
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._link, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", 5432)
        self._links |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
