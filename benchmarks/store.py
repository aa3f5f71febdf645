"""Store operations per second, SQLite against PostgreSQL, through the bot's own store code.

For each backend: a fresh store (a SQLite file in a temporary folder; a new database on the
PostgreSQL server at TEST_POSTGRES_URL, default 127.0.0.1:5432, once as configured and once with
synchronous_commit=off), then N of each operation the bot does per request, one after another
and 16 at a time. Prints one JSON object.

    python benchmarks/store.py [--count 2000] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.store import Store
from tests.support.postgres import create_database, drop_database, url_of
from tests.support.store_rows import values

CONCURRENCY = 16


async def rate(count: int, parallel: int, op: Callable[[int], Awaitable[Any]]) -> float:
    """Operations per second for `count` calls of `op(i)`, `parallel` in flight at once."""
    next_index = iter(range(count))

    async def lane() -> None:
        for i in next_index:
            await op(i)

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(parallel)))
    return round(count / (time.perf_counter() - started), 1)


async def measure_mode(store: Store, count: int, parallel: int) -> dict[str, float]:
    ids = [f"b{parallel}-{i}" for i in range(count)]
    suffix = "serial" if parallel == 1 else f"x{parallel}"

    async def insert(i: int) -> None:
        await store.insert_generation(values(id=ids[i], user_id=str(i % 50)))

    async def get(i: int) -> None:
        await store.get(ids[i])

    async def lifecycle(i: int) -> None:
        # What one delivered request costs after its insert: running, done, delivered.
        await store.mark_running(ids[i], "openai")
        await store.mark_done(
            ids[i],
            provider="openai",
            model="m",
            image_path=f"/data/images/{ids[i]}.png",
            width=1024,
            height=1024,
            revised_prompt=None,
            provider_calls=1,
            seed=None,
        )
        await store.mark_delivered(ids[i])

    async def scope(i: int) -> None:
        await store.scope_row("telegram", str(i % 20))

    async def history(i: int) -> None:
        await store.history("telegram", str(i % 50), 10)

    operations = {
        "insert": insert,
        "get": get,
        "lifecycle": lifecycle,
        "scope_settings": scope,
        "history": history,
    }
    return {
        f"{name}_per_s_{suffix}": await rate(count, parallel, op) for name, op in operations.items()
    }


async def measure(store: Store, count: int) -> dict[str, float]:
    return await measure_mode(store, count, 1) | await measure_mode(store, count, CONCURRENCY)


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="tiny numbers, to check it runs")
    args = parser.parse_args()
    count = 50 if args.quick else args.count
    report: dict[str, Any] = {"scenario": "store_ops", "count": count}
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "bench.sqlite3")
        try:
            report["sqlite"] = await measure(store, count)
        finally:
            await store.close()
    # The second PostgreSQL run passes synchronous_commit=off in the URL (asyncpg sends unknown
    # query parameters as session settings): commits stop waiting for the WAL flush, which is
    # what SQLite's WAL mode with synchronous=NORMAL does too.
    for key, query in (
        ("postgresql", ""),
        ("postgresql_synchronous_commit_off", "?synchronous_commit=off"),
    ):
        name = await create_database()
        try:
            store = await Store.open(url_of(name) + query)
            try:
                if query:
                    row = await store.fetchone("SELECT current_setting('synchronous_commit')")
                    assert row is not None and row[0] == "off", row
                report[key] = await measure(store, count)
            finally:
                await store.close()
        finally:
            await drop_database(name)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
