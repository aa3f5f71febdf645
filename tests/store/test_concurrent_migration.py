"""Two processes starting together against an empty database migrate it once."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from bot.core.store import Store
from bot.core.store.base import migration_files, migrations_dir
from tests.postgres import database
from tests.support import ROOT, wait_for

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


def test_two_processes_migrate_a_new_sqlite_file_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    check_once(migrate_together(url, tmp_path / "go"))


@pytest.mark.parametrize("tasks", [4])
async def test_concurrent_tasks_migrate_postgresql_once(tasks: int) -> None:
    from tests.postgres import create_database, drop_database, url_of

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
