"""Recovery: requests the record says are unfinished, picked up again from SQLite.

At start, every row a previous run left `queued` or `running` is enqueued again (a no-op for
a job Redis still has: the job id is the generation id) and every `done` row is delivered.
When Redis lost its data, waiting requests whose job it no longer knows are enqueued again.
A `done` row whose delivery nobody is making any more (the bot process that was to try again
after a platform's "slow down" stopped, and its retry lived only in its memory) is delivered
by whichever bot process's housekeeping finds it overdue.
Only requests of platforms whose adapter runs here are touched; the others wait for theirs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from bot.core.models import Generation, Status
from bot.core.store import Store

log = logging.getLogger(__name__)

ResumeJob = Callable[[Generation], Awaitable[None]]


class Deliveries(Protocol):
    """What recovery needs of the delivery state machine (`delivery.DeliveryCoordinator`)."""

    def serves(self, platform: str) -> bool: ...

    def lock(self, generation_id: str) -> AbstractAsyncContextManager[None]: ...

    async def deliver(
        self, gen_id: str, current: Generation | None = None, *, may_be_posted: bool = True
    ) -> None: ...


class Recovery:
    def __init__(self, store: Store, delivery: Deliveries, resume_job: ResumeJob) -> None:
        self._store = store
        self._delivery = delivery
        self._resume_job = resume_job

    async def resume(self) -> None:
        """Pick up every row a previous run left unfinished."""
        rows = [g for g in await self._store.unfinished() if self._delivery.serves(g.platform)]
        for generation in rows:
            try:
                if generation.status in (Status.QUEUED, Status.RUNNING):
                    await self._resume_job(generation)
                elif generation.status is Status.DONE:
                    async with self._delivery.lock(generation.id):
                        await self._delivery.deliver(generation.id)
            except Exception:
                log.exception("generation %s: resume failed", generation.id)
        if rows:
            log.info("resumed %d unfinished request(s)", len(rows))

    async def deliver_overdue(self, overdue_seconds: float) -> None:
        """Deliver every `done` row whose next try (`policy.not_before`), or, without one, whose
        finishing, is more than `overdue_seconds` past: the process that owned it would have
        tried by then (and either delivered it or set a later time), so nobody else will."""
        now = time.time()
        for generation in await self._store.unfinished():
            if generation.status is not Status.DONE:
                continue
            if not self._delivery.serves(generation.platform):
                continue
            not_before = generation.policy.not_before
            due = (
                not_before
                if not_before is not None
                else generation.finished_at or generation.created_at
            )
            if due > now - overdue_seconds:
                continue
            log.info("generation %s: delivery overdue; delivering it here", generation.id)
            try:
                async with self._delivery.lock(generation.id):
                    await self._delivery.deliver(generation.id)
            except Exception:
                log.exception("generation %s: overdue delivery failed", generation.id)

    async def requeue_lost(self, older_than_seconds: float) -> None:
        """Enqueue again any waiting request whose job Redis no longer knows (e.g. Redis lost
        its data); a no-op for every job Redis still has."""
        cutoff = time.time() - older_than_seconds
        for generation in await self._store.unfinished():
            if generation.status is Status.DONE or generation.created_at > cutoff:
                continue
            if not self._delivery.serves(generation.platform):
                continue
            async with self._delivery.lock(generation.id):
                # Read again: the list above is a snapshot, and a request delivered since
                # then has had its finished marker removed, so enqueueing it would run (and
                # pay for) it again.
                current = await self._store.get(generation.id)
                if current is None or current.status not in (Status.QUEUED, Status.RUNNING):
                    continue
                await self._resume_job(current)

    async def requeue_after_loss(self) -> None:
        try:
            await self.requeue_lost(older_than_seconds=0.0)
        except Exception:
            log.warning(
                "re-enqueueing after the stream loss failed; housekeeping retries", exc_info=True
            )
