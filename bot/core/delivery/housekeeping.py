"""Housekeeping: the periodic round that keeps the record tidy while the bot runs.

Every round it cancels requests that waited longer than anyone would still want them (and
tells their users), enqueues again what Redis lost, delivers finished requests whose delivery
is overdue (their bot process stopped while waiting to try again), and once a day deletes
history past its retention. Each step is safe to repeat, so a round cut short is simply done again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from bot.core import metrics
from bot.core.delivery.coordinator import DeliveryCoordinator
from bot.core.errors import english, expired_text
from bot.core.generation.queue import JobQueue
from bot.core.images.files import ImageFiles
from bot.core.limits.quotas import settled_nowhere
from bot.core.store import Store

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 30.0
PURGE_EVERY_SECONDS = 86400.0


class Housekeeping:
    def __init__(
        self,
        *,
        store: Store,
        delivery: DeliveryCoordinator,
        queue: JobQueue,
        files: ImageFiles,
        max_request_age_seconds: float,
        history_retention_days: int | None,
        on_settled: Callable[[str], Awaitable[None]] = settled_nowhere,
        clock: Callable[[], float] = time.time,
        interval_seconds: float = HOUSEKEEPING_SECONDS,
    ) -> None:
        self._store = store
        self._delivery = delivery
        self._queue = queue
        self._files = files
        self._max_age = max_request_age_seconds
        self._retention_days = history_retention_days
        self._on_settled = on_settled
        self._clock = clock  # the retention purge's "now"; tests move it
        self._interval = interval_seconds

    async def run(self) -> None:
        """Round after round until cancelled; a failed round is logged and tried again."""
        last_purge = 0.0
        while True:
            try:
                await self.expire_stale(self._max_age)
                await self._delivery.recovery.requeue_lost(older_than_seconds=self._interval)
                await self._delivery.recovery.deliver_overdue(overdue_seconds=self._interval)
                if self._clock() - last_purge > PURGE_EVERY_SECONDS:
                    last_purge = self._clock()
                    await self.purge_history()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("housekeeping failed; trying again later")
            await asyncio.sleep(self._interval)

    async def expire_stale(self, max_age_seconds: float) -> int:
        """Fail requests that waited longer than anyone would still want them, and say so."""
        cutoff = time.time() - max_age_seconds
        expired = 0
        for generation in await self._store.stale(cutoff):
            async with self._delivery.lock(generation.id):
                minutes = max(1, round(max_age_seconds / 60))
                reason = english(expired_text(minutes))
                failed = await self._store.mark_failed(generation.id, "expired", reason)
                if failed is None:
                    continue
                await self._on_settled(generation.id)
                metrics.JOBS.labels("expired").inc()
                expired += 1
                # Tell workers not to start it; if one already has, its result is ignored.
                await self._queue.abort(generation.id)
                await self._delivery.report_failure(failed)
        if expired:
            log.warning("expired %d request(s) older than %.0fs", expired, max_age_seconds)
        return expired

    async def purge_history(self) -> int:
        """Delete finished requests, their images and refusals past HISTORY_RETENTION_DAYS."""
        days = self._retention_days
        if not days:
            return 0
        paths = await self._store.purge_before(self._clock() - days * 86400)
        for path in paths:  # after the commit: a row never points at a deleted file
            self._files.remove(path)
        if paths:
            log.info("purged %d image(s) older than %d days", len(paths), days)
        return len(paths)
