"""Two processes starting together against an empty database migrate it once."""

from __future__ import annotations

import asyncio
import fcntl
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.core.store import Store
from bot.core.store.base import migration_files, migrations_dir
from bot.core.store.sqlite import SQLiteStore
from tests.support import ROOT, wait_for
from tests.support.postgres import database

# Each process waits for the same file, then opens the store (which migrates) at once.
SCRIPT = """
import asyncio, json, os, sys, time
from bot.core.store import Store
url, go, ready = sys.argv[1], sys.argv[2], sys.argv[3]
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.001)
async def main():
    store = await Store.open(url, migrate=False)
    try:
        print(json.dumps(await store.migrate()))
    finally:
        await store.close()
asyncio.run(main())
"""

LATEST = [v for v, _ in migration_files(migrations_dir())]


def migrate_together(url: str, go: Path, count: int = 2) -> list[list[int]]:
    ready = [go.with_name(f"ready-{i}") for i in range(count)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, url, str(go), str(flag)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for flag in ready
    ]
    # Every interpreter has imported the store and waits: then they all start at once.
    wait_for(lambda: all(flag.exists() for flag in ready), 60, message="the processes")
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def check_once(results: list[list[int]]) -> None:
    # One process applied every migration, the others found nothing left to do.
    assert sorted(results, key=len) == [[]] * (len(results) - 1) + [LATEST]


@pytest.mark.e2e  # starts processes
def test_two_processes_migrate_an_empty_postgresql_database_once(tmp_path: Path) -> None:
    with database() as url:
        check_once(migrate_together(url, tmp_path / "go"))

        async def versions() -> list[int]:
            conn = await asyncpg.connect(url)
            try:
                rows = await conn.fetch("SELECT version FROM schema_version ORDER BY version")
                return [r[0] for r in rows]
            finally:
                await conn.close()

        assert asyncio.run(versions()) == LATEST


@pytest.mark.e2e  # starts processes
def test_two_processes_migrate_a_new_sqlite_file_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    check_once(migrate_together(url, tmp_path / "go"))


def open_at_the_barrier(path: str, barrier: Any, results: Any) -> None:
    """One process: connect, wait for all the others, then switch the file to WAL and migrate.

    The barrier sits right after the store's first connection is made, before the journal-mode
    switch: the window the start-up race was in, hit on purpose."""
    from bot.core.store import sqlite

    connect, met = sqlite._connect, []

    async def connect_then_meet(target: Path) -> Any:
        db = await connect(target)
        if not met:
            met.append(True)
            await asyncio.to_thread(barrier.wait)
        return db

    sqlite._connect = connect_then_meet  # type: ignore[assignment]

    async def main() -> list[int]:
        store = await sqlite.SQLiteStore.open_path(Path(path), migrate=False)
        try:
            return await store.migrate()
        finally:
            await store.close()

    try:
        results.put(asyncio.run(main()))
    except Exception as exc:
        results.put(repr(exc))


@pytest.mark.timeout(300)
@pytest.mark.e2e  # starts processes
def test_six_processes_opening_one_new_sqlite_file_at_once_all_start(tmp_path: Path) -> None:
    # Six stores switching one new file to WAL at the same moment: SQLite refuses a second
    # journal-mode change at once ("database is locked", no busy timeout applies), which
    # without the start-up lock crashed some of them in most rounds. Each round a new file.
    context = multiprocessing.get_context("spawn")
    for round_number in range(6):
        path = tmp_path / f"new-{round_number}.sqlite3"
        barrier, results = context.Barrier(6), context.Queue()
        procs = [
            context.Process(target=open_at_the_barrier, args=(str(path), barrier, results))
            for _ in range(6)
        ]
        for proc in procs:
            proc.start()
        outcomes = [results.get(timeout=120) for _ in procs]
        for proc in procs:
            proc.join(timeout=30)
        assert all(isinstance(o, list) for o in outcomes), (round_number, outcomes)
        check_once(outcomes)


@pytest.mark.parametrize("tasks", [4])
async def test_concurrent_tasks_migrate_postgresql_once(tasks: int) -> None:
    from tests.support.postgres import create_database, drop_database, url_of

    name = await create_database()
    try:
        stores = await asyncio.gather(
            *(Store.open(url_of(name), migrate=False) for _ in range(tasks))
        )
        try:
            results = await asyncio.gather(*(s.migrate() for s in stores))
            check_once(list(results))
            assert await stores[0].schema_version() == LATEST[-1]
        finally:
            await asyncio.gather(*(s.close() for s in stores))
    finally:
        await drop_database(name)


async def test_a_store_switches_a_new_file_to_wal_only_under_the_start_up_lock(
    tmp_path: Path,
) -> None:
    # Another process starting on the same file holds the start-up lock: this one connects,
    # then waits for the lock before it changes the journal mode.
    path = tmp_path / "new.sqlite3"
    lock = os.open(tmp_path / "new.sqlite3.migrate-lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    opening = asyncio.create_task(SQLiteStore.open_path(path, migrate=False))
    try:
        for _ in range(200):
            if path.exists():
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)  # time enough to switch, were the lock not respected
        assert not opening.done()
        assert path.read_bytes()[18:20] != b"\x02\x02"  # the header does not say WAL yet
    finally:
        os.close(lock)
    store = await asyncio.wait_for(opening, 30)
    try:
        assert path.read_bytes()[18:20] == b"\x02\x02"
        assert [r[0] for r in await store.fetch("PRAGMA journal_mode")] == ["wal"]
    finally:
        await store.close()
