"""The Redis side: ARQ pool (real Redis or the in-process stand-in), jobs and completion events.

Jobs and events are msgpack, never pickle. Workers publish a job's start, progress and end
to the requesting bot's Redis stream; the bot reads it through a consumer group and
acknowledges an event only after acting on it, so nothing is missed while the bot is down.
"""

from __future__ import annotations

import logging
from typing import Any

import msgpack
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import job_key_prefix
from arq.jobs import Job, JobStatus, serialize_job
from arq.utils import timestamp_ms

from bot.settings import Settings

log = logging.getLogger(__name__)

JOB_FUNCTION = "generate"
EVENT_GROUP = "bot"
EVENT_CONSUMER = "bot"
EVENT_FIELD = b"e"
JOB_EXPIRES_MS = 86_400_000  # ARQ's default: a job not started within a day is dropped


def pack(value: Any) -> bytes:
    # default=str: ARQ stores failed jobs' exceptions in the result; keep them as text.
    return msgpack.packb(value, use_bin_type=True, default=str)  # type: ignore[no-any-return]


def unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False)


def events_stream(instance: str) -> str:
    return f"imaginebot:events:{instance}"


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


TERMINAL_EVENTS = ("done", "failed")


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

    async def enqueue(self, generation_id: str, payload: dict[str, Any]) -> bool:
        """Enqueue once: the job id is the generation id, so a second call is a no-op."""
        created, _position = await self.enqueue_ranked(generation_id, payload)
        return created

    async def enqueue_ranked(self, generation_id: str, payload: dict[str, Any]) -> tuple[bool, int]:
        """Enqueue (once) and read the queue position in one round trip.

        The same keys and format as ARQ's `enqueue_job`, which takes four round trips. `SET NX`
        makes a second call a no-op while the job exists; a job that already finished (its
        final event is still unhandled) is taken back out at once rather than run twice.
        """
        now_ms = timestamp_ms()
        job = serialize_job(JOB_FUNCTION, (payload,), {}, None, now_ms, serializer=pack)
        job_key = job_key_prefix + generation_id
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.exists(finished_key(generation_id))
            pipe.set(job_key, job, px=JOB_EXPIRES_MS, nx=True)
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


async def publish_event(redis: ArqRedis, stream: str, event: dict[str, Any]) -> None:
    if event.get("type") not in TERMINAL_EVENTS:
        await redis.xadd(stream, {EVENT_FIELD: pack(event)})
        return
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(finished_key(str(event["generation_id"])), b"1", px=JOB_EXPIRES_MS)
        pipe.xadd(stream, {EVENT_FIELD: pack(event)})
        await pipe.execute()
