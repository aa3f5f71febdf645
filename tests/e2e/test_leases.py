"""The polling lease and the once-only marks on a real redis-server, as two processes hold them."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from bot.core.delivery.leases import RedisLease, RedisOnceOnly
from tests.support import RedisServer

pytestmark = pytest.mark.e2e


async def test_one_holder_at_a_time_and_a_takeover_after_expiry(redis_server: RedisServer) -> None:
    first_conn, second_conn = Redis.from_url(redis_server.url), Redis.from_url(redis_server.url)
    try:
        first = RedisLease(first_conn, "test:lease", ttl_seconds=0.5)
        second = RedisLease(second_conn, "test:lease", ttl_seconds=0.5)
        assert await first.acquire()
        assert not await second.acquire()
        assert not await second.renew()  # a non-holder cannot extend it
        await second.release()  # nor give it away
        assert await first.renew()
        await asyncio.sleep(0.7)  # the holder died: it renews no more
        assert await second.acquire()
        assert not await first.renew()  # the old holder learns it lost the lease
        await second.release()
        assert await first.acquire()
    finally:
        await first_conn.aclose()
        await second_conn.aclose()


async def test_an_update_is_first_for_one_process_only(redis_server: RedisServer) -> None:
    conns = [Redis.from_url(redis_server.url) for _ in range(2)]
    try:
        marks = [RedisOnceOnly(c, "test:seen", remember_seconds=60) for c in conns]
        results = await asyncio.gather(*(m.first("update:7") for m in marks for _ in range(5)))
        assert sorted(results) == [False] * 9 + [True]
        assert 0 < await conns[0].ttl("test:seen:update:7") <= 60
    finally:
        for c in conns:
            await c.aclose()
