"""Limits held by two bot processes at once never let more through than the limit.

Two subprocesses, each with its own `QuotaBook` on one real redis-server, fire concurrent
reservations for the same user and chat; the script prints how many each got.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.support import RedisServer

pytestmark = pytest.mark.e2e

PROCESS = textwrap.dedent(
    """
    import asyncio, sys
    from arq.connections import ArqRedis
    from bot.core.errors import UserFacingError
    from bot.core.limits.quotas import Limits, QuotaBook

    async def main() -> None:
        redis = ArqRedis.from_url(sys.argv[1])
        mode, attempts = sys.argv[2], int(sys.argv[3])
        book = QuotaBook(Limits(7, 30, 45, None), redis, prefix="test:quota")
        await book.load([], [])
        await redis.set("ready:" + sys.argv[4], 1)
        while int(await redis.get("go") or 0) == 0:
            await asyncio.sleep(0.01)

        async def one(n: int) -> int:
            user = "alice" if mode == "user" else f"u{n % 40}"
            try:
                reservation = await book.reserve(
                    "telegram", user, "-100", daily_per_user=30, daily_per_scope=45
                )
            except UserFacingError:
                return 0
            await book.bind(reservation, f"{sys.argv[4]}-{n}")  # stays waiting
            return 1

        got = await asyncio.gather(*(one(n) for n in range(attempts)))
        print(sum(got))
        await redis.aclose()

    asyncio.run(main())
    """
)


def run_two(redis_server: RedisServer, mode: str, attempts: int) -> list[int]:
    root = Path(__file__).parents[2]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", PROCESS, redis_server.url, mode, str(attempts), name],
            cwd=root,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    client = redis_server.client()
    try:
        for name in ("a", "b"):
            for _ in range(400):
                if client.exists(f"ready:{name}"):
                    break
                time.sleep(0.05)
        client.set("go", 1)  # both start at once
        return [int(p.communicate(timeout=60)[0].strip()) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
        client.close()


def test_two_processes_never_exceed_a_users_waiting_limit(redis_server: RedisServer) -> None:
    accepted = run_two(redis_server, "user", 150)
    assert sum(accepted) == 7  # max_pending_per_user, across both processes
    client = redis_server.client()
    assert client.zcard("test:quota:pending:telegram:alice") == 7
    client.close()


def test_two_processes_never_exceed_a_chats_daily_limit(redis_server: RedisServer) -> None:
    accepted = run_two(redis_server, "scope", 150)
    assert sum(accepted) == 45  # daily_per_scope, across both processes
    client = redis_server.client()
    (day_key,) = [k for k in client.keys("test:quota:day:*:scope:telegram:-100")]
    assert int(client.get(day_key) or 0) == 45
    client.close()
