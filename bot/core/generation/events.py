"""The completion stream: workers publish a request's events, the bot consumes them.

Each bot instance (`BOT_INSTANCE`) has its own Redis stream, shared by all of its bot
processes. Workers append typed events (`messages`); the bot processes read them through one
consumer group, each under its own consumer name, so each event is handled by one process,
and acknowledge (and delete, so image bytes do not linger in Redis) an event only after its
handler succeeded, so nothing is missed while the bot is down. Events a dead process had
read are taken over by a living one (`consumers`). On start a process first finishes what a
previous run read but never acknowledged. An event that cannot be read is dead-lettered and
acknowledged: it never blocks the stream.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress

from arq.connections import ArqRedis
from redis.exceptions import RedisError, ResponseError

from bot.core import faults
from bot.core.generation import consumers
from bot.core.generation.deadletters import dead_letter
from bot.core.generation.queue import JOB_EXPIRES_MS, finished_key, request_keys
from bot.core.messages import TERMINAL, BadMessage, Event, decode_event, encode_event

log = logging.getLogger(__name__)

EVENT_GROUP = "bot"
EVENT_FIELD = b"e"
PENDING_RESCAN_SECONDS = 30.0
EMPTY_READ_PAUSE_SECONDS = 0.01

EventHandler = Callable[[Event], Awaitable[None]]


def events_stream(instance: str) -> str:
    return f"imaginebot:events:{instance}"


async def publish(redis: ArqRedis, stream: str, event: Event) -> None:
    """Append one event; a final one also marks its job finished (see `queue.finished_key`)."""
    fields = {EVENT_FIELD: encode_event(event)}
    if not isinstance(event, TERMINAL):
        await redis.xadd(stream, fields)  # type: ignore[arg-type]
        return
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(finished_key(event.generation_id), b"1", px=JOB_EXPIRES_MS)
        pipe.xadd(stream, fields)  # type: ignore[arg-type]
        await pipe.execute()


class EventConsumer:
    """Reads one stream through the bot's consumer group and hands each event to `handle`."""

    def __init__(
        self,
        *,
        redis: ArqRedis,
        stream: str,
        handle: EventHandler,
        on_stream_lost: Callable[[], Awaitable[None]],
        max_concurrency: int = 64,
        consumer: str | None = None,
        claim_idle_seconds: float = consumers.DEFAULT_CLAIM_IDLE_SECONDS,
    ) -> None:
        self.consumer = consumer or consumers.consumer_name()
        self._claim_idle = claim_idle_seconds
        self._redis = redis
        self._stream = stream
        self._handle = handle
        self._on_stream_lost = on_stream_lost
        self._limit = asyncio.Semaphore(max_concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._inflight: set[bytes] = set()
        self._reader: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._stopping = False
        self.backlog_done = asyncio.Event()

    def start(self, after_backlog: Callable[[], Awaitable[None]] | None = None) -> None:
        """Read; `after_backlog` runs once the previous run's unacknowledged events are in hand."""
        self._reader = asyncio.create_task(self._run(after_backlog), name="event-consumer")
        self._renewer = asyncio.create_task(self._renew(), name="event-consumer-liveness")

    async def stop(self) -> None:
        self._stopping = True
        for task in (self._reader, self._renewer):
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        with suppress(RedisError, OSError):
            await consumers.retire(self._redis, self._stream, self.consumer)

    async def _renew(self) -> None:
        """Keep this process's liveness key, and its events in hand, fresh while it runs."""
        while True:
            try:
                await consumers.renew(
                    self._redis, self._stream, EVENT_GROUP, self.consumer, self._inflight
                )
            except (RedisError, OSError) as exc:
                log.warning("event liveness not renewed (%s)", exc.__class__.__name__)
            # Well inside the claim idle time, or a living process would lose its events.
            await asyncio.sleep(min(consumers.RENEW_SECONDS, self._claim_idle / 3))

    async def _take_over(self) -> None:
        """Events a dead process held, and any left idle too long, become this process's."""
        entries = await consumers.claim_from_dead(
            self._redis, self._stream, EVENT_GROUP, self.consumer
        )
        entries += await consumers.claim_idle(
            self._redis, self._stream, EVENT_GROUP, self.consumer, self._claim_idle
        )
        for entry_id, fields in entries:
            self._dispatch(entry_id, fields)

    async def _ensure_group(self) -> None:
        with suppress(ResponseError):  # BUSYGROUP: the group exists already
            await self._redis.xgroup_create(self._stream, EVENT_GROUP, id="0", mkstream=True)

    async def _run(self, after_backlog: Callable[[], Awaitable[None]] | None) -> None:
        # Redis may be down when the bot starts: wait for it rather than crash.
        while True:
            try:
                await self._ensure_group()
                await self._read_pending()
                await self._take_over()
                break
            except (RedisError, OSError) as exc:
                log.warning("event stream unavailable (%s); retrying", exc.__class__.__name__)
                await asyncio.sleep(1.0)
        if after_backlog is not None:
            await after_backlog()
        self.backlog_done.set()
        last_rescan = last_sweep = time.monotonic()
        while not self._stopping:
            try:
                await self._read_new()
                if time.monotonic() - last_rescan > PENDING_RESCAN_SECONDS:
                    # Events whose handling failed stay pending; try them again now and then.
                    last_rescan = time.monotonic()
                    await self._read_pending()
                if time.monotonic() - last_sweep > consumers.RENEW_SECONDS:
                    last_sweep = time.monotonic()
                    await self._take_over()
            except asyncio.CancelledError:
                raise
            except ResponseError as exc:
                if "NOGROUP" in str(exc):
                    # Redis lost the stream (restarted without persistence), and every job with
                    # it: start the stream again and let the owner enqueue what is waiting.
                    log.warning("event stream was lost; recreating it, re-enqueueing requests")
                    await self._ensure_group()
                    self._spawn(self._on_stream_lost())
                else:
                    log.warning("event stream error: %s", exc)
                    await asyncio.sleep(1.0)
            except (RedisError, OSError) as exc:
                log.warning("event stream unavailable (%s); retrying", exc.__class__.__name__)
                await asyncio.sleep(1.0)
            except Exception:
                log.exception("event consumer error; continuing")
                await asyncio.sleep(0.5)

    async def _read_new(self) -> None:
        started = time.monotonic()
        response = await self._redis.xreadgroup(
            EVENT_GROUP, self.consumer, {self._stream: ">"}, count=100, block=1000
        )
        entries = response[0][1] if response else []
        for entry_id, fields in entries:
            self._dispatch(entry_id, fields)
        if not entries and time.monotonic() - started < 0.5:
            # The in-process Redis stand-in answers a blocking read at once when the stream
            # is empty; without this pause the loop would spin a whole core.
            await asyncio.sleep(EMPTY_READ_PAUSE_SECONDS)

    async def _read_pending(self) -> None:
        """Page through this consumer's unacknowledged events, skipping ones in hand."""
        start: bytes | str = "0"
        while True:
            response = await self._redis.xreadgroup(
                EVENT_GROUP, self.consumer, {self._stream: start}, count=100
            )
            entries = response[0][1] if response else []
            if not entries:
                return
            for entry_id, fields in entries:
                if fields:  # an entry deleted meanwhile comes back with no fields
                    self._dispatch(entry_id, fields)
                start = entry_id

    def _dispatch(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        if entry_id in self._inflight:
            return
        self._inflight.add(entry_id)
        self._spawn(self._handle_entry(entry_id, fields))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle_entry(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        raw = fields.get(EVENT_FIELD, b"")
        event: Event | None = None
        try:
            try:
                event = decode_event(raw)
            except BadMessage as exc:
                await dead_letter(
                    self._redis,
                    kind="event",
                    source=self._stream,
                    raw=raw,
                    reason=exc.reason,
                    generation_id=exc.generation_id,
                )
            else:
                async with self._limit:
                    await self._handle(event)
                faults.crash_point("before_ack", event.kind)
            await self._acknowledge(entry_id, event)
        except Exception:
            # Not acknowledged: it stays pending and is tried again by the next pending scan.
            log.exception(
                "generation %s: handling %s event failed",
                event.generation_id if event else "?",
                event.kind if event else "unread",
            )
        finally:
            self._inflight.discard(entry_id)

    async def _acknowledge(self, entry_id: bytes, event: Event | None) -> None:
        # Delete too: a "done" event carries the image bytes, which must not stay in Redis.
        # After a request's final event, nothing of it needs to stay there at all.
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xack(self._stream, EVENT_GROUP, entry_id)
            pipe.xdel(self._stream, entry_id)
            if isinstance(event, TERMINAL):
                pipe.delete(*request_keys(event.generation_id))
            await pipe.execute()
