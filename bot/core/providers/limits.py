"""Per-provider concurrency limits and cool-downs shared by every worker on every machine.

A slot is a member of a Redis sorted set scored by its lease expiry; taking one is a single
MULTI (drop expired leases, add ours, count) and giving it back removes it. A worker that
dies leaks its slot only until the lease expires. A provider's `retry-after` becomes a
cool-down key that every worker waits out before calling that provider again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from bot.core.errors import ProviderRateLimited

log = logging.getLogger(__name__)

POLL_SECONDS = 0.05


def _slots_key(provider: str) -> str:
    return f"imaginebot:slots:{provider}"


def _cooldown_key(provider: str) -> str:
    return f"imaginebot:cooldown:{provider}"


class ProviderLimiter:
    def __init__(self, redis: Redis, *, lease_seconds: float, wait_seconds: float) -> None:
        self._redis = redis
        self._lease = lease_seconds
        self._wait = wait_seconds

    async def _try_take(self, provider: str, limit: int, token: str) -> bool:
        now = time.time()
        key = _slots_key(provider)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zadd(key, {token: now + self._lease})
            pipe.zcard(key)
            pipe.expire(key, int(self._lease) + 60)
            _, _, count, _ = await pipe.execute()
        if int(count) <= limit:
            return True
        await self._redis.zrem(key, token)
        return False

    async def cool_down(self, provider: str, seconds: float) -> None:
        """Make every worker wait `seconds` before calling this provider again."""
        if seconds > 0:
            await self._redis.set(_cooldown_key(provider), b"1", px=int(seconds * 1000))

    async def _cooling(self, provider: str) -> float:
        milliseconds = await self._redis.pttl(_cooldown_key(provider))
        return max(0.0, int(milliseconds) / 1000) if milliseconds and int(milliseconds) > 0 else 0.0

    @asynccontextmanager
    async def slot(self, provider: str, limit: int) -> AsyncIterator[None]:
        """Hold one of `limit` slots while calling the provider; wait (bounded) for one."""
        token = secrets.token_hex(8)
        deadline = time.monotonic() + self._wait
        while True:
            pause = await self._cooling(provider)
            if not pause and await self._try_take(provider, limit, token):
                break
            if time.monotonic() + max(pause, POLL_SECONDS) > deadline:
                raise ProviderRateLimited(
                    f"{provider}: no free slot within {self._wait:.0f}s", retry_after=pause or 1.0
                )
            # Jitter keeps waiting workers from retrying in lockstep.
            await asyncio.sleep(max(pause, POLL_SECONDS * (1 + random.random())))
        try:
            yield
        finally:
            await self._redis.zrem(_slots_key(provider), token)
