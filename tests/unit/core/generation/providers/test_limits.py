"""A provider's retry-after is honoured by every worker: the cool-down lives in Redis, so a
limiter on another connection (another worker, another machine) waits it out too."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from bot.core.generation.providers.limits import ProviderLimiter
from tests.support import RedisServer


async def test_a_cool_down_set_by_one_worker_holds_back_another(
    redis_server: RedisServer,
) -> None:
    first, second = Redis.from_url(redis_server.url), Redis.from_url(redis_server.url)
    try:
        one = ProviderLimiter(first, lease_seconds=30, wait_seconds=5)
        other = ProviderLimiter(second, lease_seconds=30, wait_seconds=5)
        assert await other.free("openai", 4) == 4
        await one.cool_down("openai", 1.0)  # the provider said retry-after: 1
        assert await other.free("openai", 4) == 0
        assert not await other.try_take("openai", 4, "job-1")
        assert await other.free("horde", 4) == 4  # only that provider cools down
        started = time.monotonic()
        async with other.slot("openai", 4):
            waited = time.monotonic() - started
        assert waited >= 0.9
        assert await other.try_take("openai", 4, "job-2")
    finally:
        await first.aclose()
        await second.aclose()
