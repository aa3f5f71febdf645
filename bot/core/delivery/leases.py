"""Leases and once-only marks in Redis, shared by every bot process of a deployment.

A lease is one key set with NX and a time to live, holding a token of this process: only
its holder renews it (a Lua compare-and-expire) or gives it back (compare-and-delete), so a
process that was paused past the lease and finds another holder cannot take it back by
accident. A dead holder simply stops renewing; another process takes the key when it
expires. A once-only mark is SET NX with an expiry: the first process to set it goes on.
"""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisLease:
    def __init__(self, redis: Redis, key: str, *, ttl_seconds: float) -> None:
        self._redis = redis
        self.key = key
        self.ttl_seconds = ttl_seconds
        self._token = secrets.token_hex(16).encode()
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def acquire(self) -> bool:
        """Take the lease if nobody holds it (or this process already does)."""
        if await self.renew():
            return True
        return bool(
            await self._redis.set(self.key, self._token, nx=True, px=int(self.ttl_seconds * 1000))
        )

    async def renew(self) -> bool:
        """Extend the lease; False if this process no longer holds it."""
        ttl = int(self.ttl_seconds * 1000)
        return bool(await self._renew(keys=[self.key], args=[self._token, ttl]))

    async def release(self) -> None:
        await self._release(keys=[self.key], args=[self._token])


class RedisOnceOnly:
    """`first(name)`: True for the first caller in any process, False for every later one."""

    def __init__(self, redis: Redis, prefix: str, *, remember_seconds: float) -> None:
        self._redis = redis
        self._prefix = prefix
        self._seconds = int(remember_seconds)

    async def first(self, name: str) -> bool:
        return bool(
            await self._redis.set(f"{self._prefix}:{name}", b"1", nx=True, ex=self._seconds)
        )
