"""Builds ARQ workers: in-process (embedded mode) or as `imaginebot worker` processes."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from arq import Worker
from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix
from arq.utils import poll
from arq.worker import func

from bot.core.jobs import WorkerRuntime, generate
from bot.core.providers.limits import SlotAdmission
from bot.core.queue import JOB_FUNCTION, pack, unpack, wake_key
from bot.settings import Settings

log = logging.getLogger(__name__)

HEALTH_CHECK_SECONDS = 5


class QuickPollWorker(Worker):
    """ARQ's worker, minus its re-checking of jobs that are already running.

    ARQ leaves a running job in the queue until it ends, and on every poll checks each queued
    id with a WATCH transaction (three round trips), including the jobs this very worker is
    running and those other workers hold. With a hundred jobs in flight that was most of a
    worker's CPU, and it grew with every worker added. Here the worker skips its own running
    jobs and asks Redis about the rest in one pipelined round trip; ARQ's own transaction
    still guards the start of each job, so two workers can never both start one.
    """

    admission: SlotAdmission | None = None
    # Between polls, wait on this list, where the bot pushes a wake-up with each job it
    # enqueues, for at most `idle_wait_s`: a new job starts at once instead of up to a poll
    # delay later (the fixed part of the added latency), and an idle worker polls no faster.
    wake_key: str | None = None
    idle_wait_s: float = 0.05

    async def _poll_iteration(self) -> None:
        await super()._poll_iteration()
        if self.wake_key is not None:
            # BLPOP takes fractional seconds (Redis >= 6); redis-py's stubs say int.
            await self.pool.execute_command(  # type: ignore[no-untyped-call]
                "BLPOP", self.wake_key, self.idle_wait_s
            )

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        if self.admission is not None and job_ids:
            if not await self.admission.limiter.free(self.admission.provider, self.admission.limit):
                return  # every slot is busy: leave the requests queued (one round trip)
        candidates = []
        for job_id in job_ids:
            task = self.tasks.get(job_id.decode())
            if task is None or task.done():
                candidates.append(job_id)
        if candidates:
            async with self.pool.pipeline(transaction=False) as pipe:
                for job_id in candidates:
                    pipe.exists(in_progress_key_prefix + job_id.decode())
                running = await pipe.execute()
            candidates = [j for j, held in zip(candidates, running, strict=True) if not held]
        if self.admission is None:
            await super().start_jobs(candidates)
            return
        reserved = await self.admission.reserve([j.decode() for j in candidates])
        before = {jid: self.tasks.get(jid) for jid in reserved}
        await super().start_jobs([jid.encode() for jid in reserved])
        for jid in reserved:
            task = self.tasks.get(jid)
            if task is None or task is before[jid]:
                await self.admission.release(jid)  # another worker started it first
            else:
                task.add_done_callback(functools.partial(self._release_slot, jid))

    def _release_slot(self, job_id: str, _task: asyncio.Task[Any]) -> None:
        if self.admission is not None:
            self.admission.release_soon(job_id)


class EmbeddedWorker(QuickPollWorker):
    """An ARQ worker on the in-process Redis stand-in.

    ARQ's start-up logs the server's `INFO`, which fakeredis does not implement; this is
    ARQ's `main` loop without that call.
    """

    async def main(self) -> None:
        self.ctx["redis"] = self.pool
        if self.on_startup:
            await self.on_startup(self.ctx)
        async for _ in poll(self.poll_delay_s):
            await self._poll_iteration()


def build_worker(
    settings: Settings,
    redis: ArqRedis,
    runtime: WorkerRuntime,
    *,
    embedded: bool,
    handle_signals: bool,
) -> Worker:
    worker_class = EmbeddedWorker if embedded else QuickPollWorker
    kwargs: dict[str, Any] = {
        "functions": [
            func(
                generate,
                name=JOB_FUNCTION,
                # One more try than configured: the last one only reports that the
                # worker kept dying, so a request never ends silently.
                max_tries=settings.job_max_tries + 1,
                timeout=settings.job_timeout_seconds,
            )
        ],
        "redis_pool": redis,
        "queue_name": settings.queue_name,
        "max_jobs": settings.worker_max_jobs,
        "poll_delay": settings.worker_poll_delay_seconds,
        "job_timeout": settings.job_timeout_seconds,
        # No results kept: the bot learns the outcome from the event stream, and the final
        # event's marker (queue.finished_key) guards against running a finished job again.
        "keep_result": 0,
        "max_tries": settings.job_max_tries + 1,
        "handle_signals": handle_signals,
        "job_serializer": pack,
        "job_deserializer": unpack,
        "health_check_interval": HEALTH_CHECK_SECONDS,
        "ctx": {"runtime": runtime},
        "log_results": False,
        "allow_abort_jobs": True,
        # On SIGTERM/SIGINT: stop taking jobs, let running ones finish for a while, then
        # cancel the rest, which ARQ hands back to the queue for another worker.
        "job_completion_wait": settings.worker_shutdown_grace_seconds if handle_signals else 0,
    }
    if not embedded:
        # The wait between polls is the blocking read of the wake-up list instead.
        kwargs["poll_delay"] = 0.0
    worker = worker_class(**kwargs)
    worker.admission = runtime.admission
    if not embedded:
        # The in-process stand-in keeps plain polling: it has no blocking reads to wait on.
        worker.wake_key = wake_key(settings.queue_name)
        worker.idle_wait_s = settings.worker_poll_delay_seconds
    return worker
