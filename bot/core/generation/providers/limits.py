"""Per-provider concurrency limits and cool-downs shared by every worker on every machine.

A slot is a member of a Redis sorted set scored by its lease expiry; taking one is a single
MULTI (drop expired leases, add ours, count) and giving it back removes it. A worker that
dies leaks its slot only until the lease expires. A provider's `retry-after` becomes a
cool-down key that every worker waits out before calling that provider again.

Workers take a slot of their first provider *before* a job leaves the queue
(`SlotAdmission`): with every slot busy, requests stay queued, where waiting costs nothing
and does not eat into their time, instead of being started and then waiting inside the job.
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

    async def free(self, provider: str, limit: int) -> int:
        """Slots free now (0 while the provider is cooling down): one round trip."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zcount(_slots_key(provider), time.time(), "+inf")
            pipe.pttl(_cooldown_key(provider))
            held, cooling = await pipe.execute()
        if cooling and int(cooling) > 0:
            return 0
        return max(0, limit - int(held))

    async def try_take(self, provider: str, limit: int, token: str) -> bool:
        """Take a slot for `token` now, or say no (also while the provider cools down)."""
        if await self._cooling(provider):
            return False
        return await self._try_take(provider, limit, token)

    async def release(self, provider: str, token: str) -> None:
        await self._redis.zrem(_slots_key(provider), token)

    async def _holds(self, provider: str, token: str) -> bool:
        """Does `token` hold a slot? If so, its lease starts again from now."""
        key = _slots_key(provider)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zscore(key, token)
            pipe.zadd(key, {token: time.time() + self._lease}, xx=True)
            score, _ = await pipe.execute()
        return score is not None and float(score) > time.time()

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
    async def slot(
        self, provider: str, limit: int, reserved: str | None = None
    ) -> AsyncIterator[None]:
        """Hold one of `limit` slots while calling the provider; wait (bounded) for one.
        `reserved` is the token of a slot taken before the job started: used at once."""
        token = reserved or secrets.token_hex(8)
        deadline = time.monotonic() + self._wait
        while not (reserved and await self._holds(provider, token)):
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


class SlotAdmission:
    """Lets a worker start jobs only as fast as its first provider has free slots.

    Each started job holds a slot (token: this worker and the job id) from before it left
    the queue until its first provider call ends, or until the job ends if it never made
    that call. Jobs are taken in queue order, so waiting requests are served first come,
    first served across every worker.
    """

    def __init__(self, limiter: ProviderLimiter, provider: str, limit: int) -> None:
        self.limiter = limiter
        self.provider = provider
        self.limit = limit
        self._owner = secrets.token_hex(4)
        self._releases: set[asyncio.Task[None]] = set()

    def token(self, job_id: str) -> str:
        return f"{self._owner}:{job_id}"

    async def reserve(self, job_ids: list[str]) -> list[str]:
        """Slots for the first of `job_ids`, in order, as many as are free."""
        free = await self.limiter.free(self.provider, self.limit)
        taken: list[str] = []
        for job_id in job_ids[:free]:
            if not await self.limiter.try_take(self.provider, self.limit, self.token(job_id)):
                break  # another worker took the last one
            taken.append(job_id)
        return taken

    async def release(self, job_id: str) -> None:
        await self.limiter.release(self.provider, self.token(job_id))

    def release_soon(self, job_id: str) -> None:
        """From a done-callback: give the job's slot back (a no-op if it already was)."""
        task = asyncio.get_running_loop().create_task(self.release(job_id))
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)
