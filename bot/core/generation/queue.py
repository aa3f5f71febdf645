"""Everything that knows ARQ: the pool (real Redis or the in-process stand-in), ARQ's job
keys and envelope, enqueueing, aborting, and the worker classes tuned for this queue.

No other module touches ARQ's internal keys or methods; they change between ARQ releases and
this is the one place to follow them. Jobs are msgpack, never pickle: the ARQ envelope holds
one argument, the `messages.JobMessage` as a plain map.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import TYPE_CHECKING, Any

import msgpack
from arq import Worker
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import (
    abort_jobs_ss,
    health_check_key_suffix,
    in_progress_key_prefix,
    job_key_prefix,
)
from arq.jobs import Job, JobStatus, serialize_job
from arq.utils import poll, timestamp_ms

from bot.core.messages import JobMessage, job_to_wire
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.core.generation.providers.limits import SlotAdmission

log = logging.getLogger(__name__)

JOB_FUNCTION = "generate"
JOB_EXPIRES_MS = 86_400_000  # ARQ's default: a job not started within a day is dropped


def pack(value: Any) -> bytes:
    # default=str: ARQ stores failed jobs' exceptions in the result; keep them as text.
    return msgpack.packb(value, use_bin_type=True, default=str)  # type: ignore[no-any-return]


def unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False)


UNREADABLE_JOB = "unreadable_job"  # the one key of the argument a broken job arrives as


def unpack_job(data: bytes) -> Any:
    """The worker's ARQ job deserializer. Bytes that are not msgpack, or not ARQ's envelope,
    still reach the job function, as an `UNREADABLE_JOB` argument it dead-letters like any
    other unreadable job (ARQ alone would drop them with nothing but a log line)."""
    try:
        envelope = unpack(data)
    except Exception as exc:
        reason = f"not msgpack ({exc.__class__.__name__})"
    else:
        if isinstance(envelope, dict) and {"t", "f", "a", "k", "et"} <= envelope.keys():
            return envelope
        reason = "not an ARQ job"
    return {
        "t": 1,
        "f": JOB_FUNCTION,
        "a": [{UNREADABLE_JOB: data, "reason": reason}],
        "k": {},
        "et": timestamp_ms(),
    }


def health_key(queue_name: str) -> str:
    """ARQ's own heartbeat key, refreshed by every worker on the queue."""
    return queue_name + health_check_key_suffix


def wake_key(queue_name: str) -> str:
    """A list workers block on between polls; each enqueue pushes one wake-up."""
    return f"{queue_name}:wake"


WAKE_BACKLOG = 16  # wake-ups kept while no worker takes them (enough for that many workers)


def calls_key(generation_id: str) -> str:
    return f"imaginebot:calls:{generation_id}"


def spent_key(generation_id: str) -> str:
    """Providers that failed for good for this request (not asked again on a retry)."""
    return f"imaginebot:spent:{generation_id}"


def finished_key(generation_id: str) -> str:
    """Set with a request's final event: its job ended, so enqueueing it again is a no-op.

    Workers keep no ARQ results (an hour of them per request was most of what stayed in
    Redis); this marker takes their one use, and the bot deletes it with the request's
    other keys once it has handled that final event.
    """
    return f"imaginebot:finished:{generation_id}"


def request_keys(generation_id: str) -> list[str]:
    """What a request leaves in Redis until the bot has handled its final event."""
    return [finished_key(generation_id), calls_key(generation_id), spent_key(generation_id)]


class EmbeddedRedis:
    """An in-process Redis stand-in (fakeredis) shared by the bot and its embedded worker."""

    def __init__(self) -> None:
        import fakeredis

        self.server = fakeredis.FakeServer()

    def pool(self, settings: Settings) -> ArqRedis:
        import fakeredis
        from redis.asyncio import ConnectionPool

        return ArqRedis(
            connection_pool=ConnectionPool(
                connection_class=fakeredis.FakeAsyncRedisConnection,
                server=self.server,
            ),
            job_serializer=pack,
            job_deserializer=unpack,
            default_queue_name=settings.queue_name,
        )


async def connect(settings: Settings, embedded: EmbeddedRedis | None) -> ArqRedis:
    if settings.redis_url is None:
        assert embedded is not None, "embedded mode needs an EmbeddedRedis"
        return embedded.pool(settings)
    redis_settings = RedisSettings.from_dsn(settings.redis_url)
    redis_settings.conn_retries = 10
    redis_settings.conn_retry_delay = 1
    return await create_pool(
        redis_settings,
        job_serializer=pack,
        job_deserializer=unpack,
        default_queue_name=settings.queue_name,
    )


class JobQueue:
    """Enqueues generation jobs and reads queue positions; used by the bot process."""

    def __init__(self, redis: ArqRedis, settings: Settings) -> None:
        self.redis = redis
        self._queue_name = settings.queue_name
        self._wake_key = wake_key(settings.queue_name)

    async def enqueue(self, job: JobMessage) -> bool:
        """Enqueue once: the job id is the generation id, so a second call is a no-op."""
        created, _position = await self.enqueue_ranked(job)
        return created

    async def enqueue_ranked(self, job: JobMessage) -> tuple[bool, int]:
        """Enqueue (once) and read the queue position in one round trip.

        The same keys and format as ARQ's `enqueue_job`, which takes four round trips. `SET NX`
        makes a second call a no-op while the job exists; a job that already finished (its
        final event is still unhandled) is taken back out at once rather than run twice.
        """
        generation_id = job.generation_id
        now_ms = timestamp_ms()
        data = serialize_job(JOB_FUNCTION, (job_to_wire(job),), {}, None, now_ms, serializer=pack)
        job_key = job_key_prefix + generation_id
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.exists(finished_key(generation_id))
            pipe.set(job_key, data, px=JOB_EXPIRES_MS, nx=True)
            pipe.zadd(self._queue_name, {generation_id: now_ms}, nx=True)
            pipe.zrank(self._queue_name, generation_id)
            pipe.rpush(self._wake_key, b"1")
            pipe.ltrim(self._wake_key, -WAKE_BACKLOG, -1)
            finished, created, _added, rank, _pushed, _trimmed = await pipe.execute()
        if finished and created:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zrem(self._queue_name, generation_id)
                pipe.delete(job_key)
                await pipe.execute()
            return False, 0
        return bool(created), int(rank) + 1 if rank is not None else 0

    async def position(self, generation_id: str) -> int:
        rank = await self.redis.zrank(self._queue_name, generation_id)
        return int(rank) + 1 if rank is not None else 0

    async def status(self, generation_id: str) -> JobStatus:
        job = Job(generation_id, self.redis, _queue_name=self._queue_name, _deserializer=unpack)
        return await job.status()

    async def depth(self) -> int:
        return int(await self.redis.zcard(self._queue_name))

    async def abort(self, generation_id: str) -> None:
        """Tell workers not to start this job; one that already has is cancelled."""
        await self.redis.zadd(abort_jobs_ss, {generation_id: timestamp_ms()})


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
