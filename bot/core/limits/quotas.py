"""Per-user and per-scope limits, reserved atomically before a request is queued.

The counts live in Redis, shared by every bot process of the deployment (the embedded
in-process Redis when there is one process): one Lua script checks every limit and takes
one unit of each, so two processes, or a thousand concurrent commands from one user, can
never reserve more than the limit. Daily counters are keyed by UTC day and expire; waiting
requests are a sorted set per user. When Redis has no counts for today (a new day, or a
Redis that lost its data) they are rebuilt from the store, once, before the first check.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from arq.connections import ArqRedis
from redis.exceptions import RedisError

from bot.core.errors import BudgetExhausted, LimitReached
from bot.core.limits.quota_days import day_of, day_start, reset_phrase
from bot.core.limits.quota_scripts import RESERVE, SETTLE

__all__ = ["day_of", "day_start", "reset_phrase"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    max_pending_per_user: int
    daily_per_user: int
    daily_per_scope: int | None
    provider_daily_budget: int | None


@dataclass
class Reservation:
    user: tuple[str, str]
    scope: tuple[str, str]
    day: str
    generation_id: str | None = None
    images: int = 1  # each image of a request counts against the daily limits
    counted: bool = True  # False: Redis did not answer, nothing was taken (nor can be queued)


PLACEHOLDER_SECONDS = 300.0  # a reservation whose process died before binding frees itself
DAY_SECONDS = 86400
BUDGET, PENDING, USER_DAILY, SCOPE_DAILY, NOT_LOADED = 1, 2, 3, 4, 5


class QuotaBook:
    """The deployment's limits over one Redis; every method is one or two round trips."""

    def __init__(
        self,
        limits: Limits,
        redis: ArqRedis,
        *,
        prefix: str = "imaginebot:quota",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits
        self.clock = clock
        self._redis = redis
        self._prefix = prefix
        self._owners = f"{prefix}:owners"
        self._reserve = redis.register_script(RESERVE)
        self._settle = redis.register_script(SETTLE)
        self._loader: Callable[[float], Awaitable[None]] | None = None
        self._budget_warned = ""

    # -- keys -------------------------------------------------------------------------------------

    def _day_key(self, day: str, *parts: str) -> str:
        return ":".join((self._prefix, "day", day, *parts))

    def _pending_key(self, user: tuple[str, str]) -> str:
        return f"{self._prefix}:pending:{user[0]}:{user[1]}"

    def _placeholder_key(self, user: tuple[str, str]) -> str:
        return f"{self._prefix}:reserving:{user[0]}:{user[1]}"

    # -- rebuilding from the store ----------------------------------------------------------------

    async def load(
        self,
        today: Iterable[tuple[str, str, str] | tuple[str, str, str, int]],
        pending: Iterable[tuple[str, str, str]],
    ) -> None:
        """today: (platform, user_id, scope_id[, images]) per request accepted today;
        pending: (id, platform, user_id). Today's counts are written once per day (whoever loads first);
        the waiting requests are added, and ones the store says are over are removed."""
        now = self.clock()
        day = day_of(now)
        if await self._redis.set(self._day_key(day, "loaded"), b"1", nx=True, ex=2 * DAY_SECONDS):
            counts: dict[str, int] = {}
            for row in today:
                platform, user_id, scope_id = row[0], row[1], row[2]
                images = row[3] if len(row) > 3 else 1
                for key in (
                    self._day_key(day, "total"),
                    self._day_key(day, "user", platform, user_id),
                    self._day_key(day, "scope", platform, scope_id),
                ):
                    counts[key] = counts.get(key, 0) + images
            async with self._redis.pipeline(transaction=True) as pipe:
                for key, count in counts.items():
                    pipe.set(key, count, ex=2 * DAY_SECONDS)
                await pipe.execute()
        waiting = {gen_id: (platform, user_id) for gen_id, platform, user_id in pending}
        await self._forget_finished(set(waiting), now)
        async with self._redis.pipeline(transaction=False) as pipe:
            for gen_id, user in waiting.items():
                pipe.zadd(self._pending_key(user), {gen_id: now})
                pipe.hset(self._owners, gen_id, f"{user[0]}:{user[1]}")
            await pipe.execute()

    async def _forget_finished(self, waiting: set[str], now: float) -> None:
        """A process that died between a request's end and `settle` left it counted as
        waiting; the store knows better (only for entries old enough to have their row)."""
        async for key in self._redis.scan_iter(match=f"{self._prefix}:pending:*", count=500):
            members = await self._redis.zrangebyscore(key, "-inf", now - 60)
            stale = [m for m in members if m.decode() not in waiting]
            if stale:
                async with self._redis.pipeline(transaction=False) as pipe:
                    pipe.zrem(key, *stale)
                    pipe.hdel(self._owners, *stale)
                    await pipe.execute()

    def reload_with(self, loader: Callable[[float], Awaitable[None]]) -> None:
        """`loader(now)` rebuilds the counts (see `load`) when Redis has none for today."""
        self._loader = loader

    # -- reading ----------------------------------------------------------------------------------

    async def pending_count(self, platform: str, user_id: str) -> int:
        user = (platform, user_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(
                self._placeholder_key(user), "-inf", self.clock() - PLACEHOLDER_SECONDS
            )
            pipe.zcard(self._pending_key(user))
            pipe.zcard(self._placeholder_key(user))
            _pruned, pending, placeholders = await pipe.execute()
        return int(pending) + int(placeholders)

    async def used_today(self, platform: str, user_id: str) -> int:
        value = await self._redis.get(
            self._day_key(day_of(self.clock()), "user", platform, user_id)
        )
        return int(value or 0)

    # -- checking and reserving -------------------------------------------------------------------

    async def check(
        self,
        platform: str,
        user_id: str,
        scope_id: str,
        *,
        daily_per_user: int,
        daily_per_scope: int | None,
        max_pending: int | None = None,
        images: int = 1,
    ) -> None:
        """Raise saying which limit and when, as `reserve` would; take nothing. Lets an
        adapter refuse before it acknowledges (a refusal costs one message, a status reply
        and its edit cost two). `max_pending`: the scope's lower limit on waiting requests."""
        try:
            await self._run(
                platform,
                user_id,
                scope_id,
                daily_per_user,
                daily_per_scope,
                max_pending,
                None,
                images,
            )
        except (RedisError, OSError) as exc:
            log.warning("limits not checked: Redis did not answer (%s)", exc.__class__.__name__)

    async def reserve(
        self,
        platform: str,
        user_id: str,
        scope_id: str,
        *,
        daily_per_user: int,
        daily_per_scope: int | None,
        max_pending: int | None = None,
        images: int = 1,
    ) -> Reservation:
        """Check every limit and take one unit of each, or raise saying which limit and when.

        `max_pending` is the scope's lower limit on the user's waiting requests, if any."""
        # A placeholder id holds the pending slot until the row exists.
        placeholder = f"reserved:{secrets.token_hex(8)}"
        try:
            day = await self._run(
                platform,
                user_id,
                scope_id,
                daily_per_user,
                daily_per_scope,
                max_pending,
                placeholder,
                images,
            )
        except (RedisError, OSError) as exc:
            # The queue lives in the same Redis, so the request cannot be queued either: let
            # it go on to be stored and refused with the queue's plain words, as any other.
            log.warning("limits not reserved: Redis did not answer (%s)", exc.__class__.__name__)
            return Reservation(
                user=(platform, user_id),
                scope=(platform, scope_id),
                day=day_of(self.clock()),
                images=images,
                counted=False,
            )
        return Reservation(
            user=(platform, user_id),
            scope=(platform, scope_id),
            day=day,
            generation_id=placeholder,
            images=images,
        )

    async def _run(
        self,
        platform: str,
        user_id: str,
        scope_id: str,
        daily_per_user: int,
        daily_per_scope: int | None,
        max_pending: int | None,
        placeholder: str | None,
        images: int,
    ) -> str:
        pending_limit = self.limits.max_pending_per_user
        if max_pending is not None:
            pending_limit = min(pending_limit, max_pending)
        budget = self.limits.provider_daily_budget
        for _attempt in range(3):
            now = self.clock()
            day = day_of(now)
            keys = [
                self._day_key(day, "loaded"),
                self._day_key(day, "total"),
                self._day_key(day, "user", platform, user_id),
                self._day_key(day, "scope", platform, scope_id),
                self._pending_key((platform, user_id)),
                self._placeholder_key((platform, user_id)),
            ]
            args = [
                -1 if budget is None else budget,
                pending_limit,
                daily_per_user,
                -1 if daily_per_scope is None else daily_per_scope,
                1 if placeholder else 0,
                placeholder or "",
                now,
                images,
            ]
            code, value = await self._reserve(keys=keys, args=args)
            if code == NOT_LOADED and self._loader is not None:
                await self._loader(now)
                continue
            if code == NOT_LOADED:  # nothing to rebuild from: start today at zero
                await self._redis.set(keys[0], b"1", nx=True, ex=2 * DAY_SECONDS)
                continue
            self._refuse(
                int(code),
                int(value),
                now,
                pending_limit,
                daily_per_user,
                daily_per_scope,
                day,
                images,
            )
            return day
        raise RuntimeError("quota counts could not be loaded")

    def _refuse(
        self,
        code: int,
        value: int,
        now: float,
        pending_limit: int,
        per_user: int,
        per_scope: int | None,
        day: str,
        images: int,
    ) -> None:
        """`value`: what the limit found (waiting requests, pictures used today)."""
        if code == BUDGET:
            if self._budget_warned != day:
                log.warning(
                    "PROVIDER_DAILY_BUDGET of %d images reached; refusing new requests",
                    self.limits.provider_daily_budget,
                )
                self._budget_warned = day
            raise BudgetExhausted.resets(reset_phrase(now))
        if code == PENDING:
            raise LimitReached.waiting(value, pending_limit)
        if code == USER_DAILY:
            raise LimitReached.daily(
                chat=False, used=value, limit=per_user, images=images, resets=reset_phrase(now)
            )
        if code == SCOPE_DAILY:
            raise LimitReached.daily(
                chat=True, used=value, limit=per_scope or 0, images=images, resets=reset_phrase(now)
            )

    # -- after reserving --------------------------------------------------------------------------

    async def bind(self, reservation: Reservation, generation_id: str) -> None:
        """The request got its generation id: the pending slot now belongs to it."""
        if not reservation.counted:
            reservation.generation_id = generation_id
            return
        user = reservation.user
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                if reservation.generation_id is not None:
                    pipe.zrem(self._placeholder_key(user), reservation.generation_id)
                pipe.zadd(self._pending_key(user), {generation_id: self.clock()})
                pipe.expire(self._pending_key(user), 7 * DAY_SECONDS)
                pipe.hset(self._owners, generation_id, f"{user[0]}:{user[1]}")
                await pipe.execute()
        except (RedisError, OSError) as exc:
            # The placeholder keeps the slot until it expires; the enqueue will fail anyway.
            log.warning("pending slot not bound (%s)", exc.__class__.__name__)
            reservation.counted = False
        reservation.generation_id = generation_id

    async def cancel(self, reservation: Reservation) -> None:
        """The request was never queued: give back everything it took."""
        if not reservation.counted:
            return
        user, scope, day = reservation.user, reservation.scope, reservation.day
        async with self._redis.pipeline(transaction=True) as pipe:
            if reservation.generation_id is not None:
                pipe.zrem(self._placeholder_key(user), reservation.generation_id)
                pipe.zrem(self._pending_key(user), reservation.generation_id)
                pipe.hdel(self._owners, reservation.generation_id)
            pipe.decrby(self._day_key(day, "total"), reservation.images)
            pipe.decrby(self._day_key(day, "user", *user), reservation.images)
            pipe.decrby(self._day_key(day, "scope", *scope), reservation.images)
            await pipe.execute()
        reservation.generation_id = None

    async def move_scope(self, platform: str, old_scope: str, new_scope: str) -> None:
        """A scope got a new id (an upgraded Telegram group): today's count goes with it.
        GETDEL takes it once, so two processes moving it together add it once."""
        day = day_of(self.clock())
        taken = await self._redis.getdel(self._day_key(day, "scope", platform, old_scope))
        if taken:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incrby(self._day_key(day, "scope", platform, new_scope), int(taken))
                pipe.expire(self._day_key(day, "scope", platform, new_scope), 2 * DAY_SECONDS)
                await pipe.execute()

    async def settle(self, generation_id: str) -> None:
        """The request left queued/running (done or failed): free its pending slot."""
        await self._settle(keys=[self._owners], args=[generation_id, f"{self._prefix}:pending:"])


async def settled_nowhere(_generation_id: str) -> None:
    """The `on_settled` of a part that runs without quotas (tests, the CLI's tools)."""
