"""Completion events -> stored image -> the adapter that owns the chat -> `delivered`.

The bot process reads its event stream through a consumer group and acknowledges (and
deletes, so image bytes do not linger in Redis) an event only after acting on it. On start
it first finishes events left pending by a previous run, then resumes every unfinished row.

A picture that was made is never given up for a platform's "slow down" or a network error:
the delivery stays pending and is tried again after the wait the platform asked for (or a
growing pause after a network error), the earliest next try kept in the row's handle so a
restarted bot waits it out too, until the picture is posted or the delivery deadline passes;
then the user is told. Only a permanent refusal (the bot removed, the chat gone, the picture
refused) fails a delivery at once, with its reason.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, Protocol

from arq.connections import ArqRedis
from arq.constants import abort_jobs_ss as ABORT_JOBS_KEY
from redis.exceptions import RedisError, ResponseError

from bot.core import faults, metrics
from bot.core.errors import DeliveryError
from bot.core.images import BadImage, inspect
from bot.core.models import Generation, Status, StatusUpdate
from bot.core.queue import (
    EVENT_CONSUMER,
    EVENT_FIELD,
    EVENT_GROUP,
    TERMINAL_EVENTS,
    request_keys,
    unpack,
)
from bot.core.store import Store

log = logging.getLogger(__name__)

PENDING_RESCAN_SECONDS = 30.0
EMPTY_READ_PAUSE_SECONDS = 0.01
DELIVERY_RETRY_SECONDS = 2.0  # the first pause after a network error; it doubles each time
DELIVERY_RETRY_MAX_SECONDS = 300.0
DELIVERY_DEADLINE_SECONDS = 24 * 3600.0
RETRY_AT = "delivery_not_before"  # handle key: no delivery attempt before this (epoch seconds)


class ResultChannel(Protocol):
    """What a platform adapter (or the CLI) implements to show progress and post results."""

    platform: str

    async def show_status(self, generation: Generation, update: StatusUpdate) -> None: ...

    async def deliver(self, generation: Generation, image_path: Path) -> None:
        """Post the image; raise `DeliveryError` if the platform would not take it."""

    async def report_failure(self, generation: Generation) -> None: ...


class ImageFiles:
    """Image files under DATA_DIR/images, named by generation id only (never by user input)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def write(self, generation_id: str, data: bytes) -> tuple[Path, int, int]:
        info = inspect(data)  # raises BadImage: over the pixel limit, or not a picture
        width, height = info.width, info.height
        extension = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}.get(info.format, "png")
        path = self.directory / f"{generation_id}.{extension}"
        # Write-then-rename: a crash never leaves half a file, and storing twice overwrites.
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
        return path, width, height

    def remove(self, path: str | None) -> None:
        if path:
            candidate = Path(path)
            if candidate.parent.resolve() == self.directory.resolve():
                with suppress(FileNotFoundError):
                    candidate.unlink()


ResumeJob = Callable[[Generation], Awaitable[None]]


class DeliveryCoordinator:
    def __init__(
        self,
        *,
        redis: ArqRedis,
        store: Store,
        files: ImageFiles,
        stream: str,
        resume_job: ResumeJob,
        on_settled: Callable[[str], None] = lambda _gen_id: None,
        max_concurrency: int = 64,
        delivery_deadline_seconds: float = DELIVERY_DEADLINE_SECONDS,
    ) -> None:
        self._deadline = delivery_deadline_seconds
        self._retries: dict[str, asyncio.Task[None]] = {}  # generation id -> its waiting retry
        self._on_settled = on_settled
        self._redis = redis
        self._store = store
        self._files = files
        self._stream = stream
        self._resume_job = resume_job
        self._channels: dict[str, ResultChannel] = {}
        self._locks: dict[str, list[Any]] = {}
        self._limit = asyncio.Semaphore(max_concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._inflight: set[bytes] = set()
        self._consumer: asyncio.Task[None] | None = None
        self._stopping = False
        self.backlog_done = asyncio.Event()

    def register(self, channel: ResultChannel) -> None:
        self._channels[channel.platform] = channel

    def channel_for(self, platform: str) -> ResultChannel | None:
        return self._channels.get(platform)

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, *, resume: bool = True) -> None:
        self._consumer = asyncio.create_task(self._consume(resume), name="delivery-consumer")

    async def stop(self) -> None:
        self._stopping = True
        if self._consumer is not None:
            self._consumer.cancel()
            with suppress(asyncio.CancelledError):
                await self._consumer
        for retry in list(self._retries.values()):
            retry.cancel()  # waiting deliveries resume from their rows on the next start
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- the event loop -------------------------------------------------------------------------

    async def _ensure_group(self) -> None:
        with suppress(ResponseError):  # BUSYGROUP: the group exists already
            await self._redis.xgroup_create(self._stream, EVENT_GROUP, id="0", mkstream=True)

    async def _consume(self, resume: bool) -> None:
        # Redis may be down when the bot starts: wait for it rather than crash.
        while True:
            try:
                await self._ensure_group()
                # First what a previous run read but never acknowledged, then new events.
                await self._read_pending()
                break
            except (RedisError, OSError) as exc:
                log.warning("event stream unavailable (%s); retrying", exc.__class__.__name__)
                await asyncio.sleep(1.0)
        if resume:
            await self.resume()
        self.backlog_done.set()
        last_rescan = time.monotonic()
        while not self._stopping:
            try:
                await self._read_new()
                if time.monotonic() - last_rescan > PENDING_RESCAN_SECONDS:
                    # Events whose handling failed stay pending; try them again now and then.
                    last_rescan = time.monotonic()
                    await self._read_pending()
            except asyncio.CancelledError:
                raise
            except ResponseError as exc:
                if "NOGROUP" in str(exc):
                    # Redis lost the stream (restarted without persistence), and every job with
                    # it: start the stream again, and enqueue again what SQLite says is waiting
                    # now rather than at the next housekeeping round.
                    log.warning("event stream was lost; recreating it, re-enqueueing requests")
                    await self._ensure_group()
                    self._spawn(self._requeue_after_loss())
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
            EVENT_GROUP, EVENT_CONSUMER, {self._stream: ">"}, count=100, block=1000
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
                EVENT_GROUP, EVENT_CONSUMER, {self._stream: start}, count=100
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

    @asynccontextmanager
    async def _lock(self, generation_id: str) -> AsyncIterator[None]:
        """One generation's events are handled one at a time, in arrival order."""
        entry = self._locks.get(generation_id)
        if entry is None:
            entry = self._locks[generation_id] = [asyncio.Lock(), 0]
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[generation_id]

    async def _handle_entry(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        event: dict[str, Any] = {}
        gen_id = ""
        try:
            raw = fields.get(EVENT_FIELD)
            event = unpack(raw) if raw else {}
            gen_id = str(event.get("generation_id", ""))
            async with self._limit, self._lock(gen_id):
                await self._apply(event)
            faults.crash_point("before_ack", event.get("type"))
            # Delete too: a "done" event carries the image bytes, which must not stay in Redis.
            # After a request's final event, nothing of it needs to stay there at all.
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.xack(self._stream, EVENT_GROUP, entry_id)
                pipe.xdel(self._stream, entry_id)
                if gen_id and event.get("type") in TERMINAL_EVENTS:
                    pipe.delete(*request_keys(gen_id))
                await pipe.execute()
        except Exception:
            # Not acknowledged: it stays pending and is tried again by the next pending scan.
            log.exception("generation %s: handling %s event failed", gen_id, event.get("type"))
        finally:
            self._inflight.discard(entry_id)

    async def _apply(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        gen_id = str(event.get("generation_id", ""))
        if kind == "started":
            running = await self._store.mark_running(gen_id, event.get("provider"))
            if running is not None:
                await self._show(running, StatusUpdate(status=Status.RUNNING))
        elif kind == "progress":
            current = await self._store.get(gen_id)
            if current is None:
                return
            await self._show(
                current,
                StatusUpdate(
                    status=Status.RUNNING,
                    position=event.get("position"),
                    detail=event.get("detail"),
                    eta_seconds=event.get("eta"),
                ),
            )
        elif kind == "done":
            await self._on_done(gen_id, event)
        elif kind == "failed":
            await self._on_failed(gen_id, event)
        else:
            log.warning("generation %s: unknown event type %r", gen_id, kind)

    async def _show(self, generation: Generation, update: StatusUpdate) -> None:
        if generation.status not in (Status.QUEUED, Status.RUNNING):
            return
        channel = self._channels.get(generation.platform)
        if channel is None:
            return
        try:
            await channel.show_status(generation, update)
        except Exception:
            # A status edit is cosmetic; never let it block the result.
            log.warning("generation %s: status update failed", generation.id, exc_info=True)

    async def _on_done(self, gen_id: str, event: dict[str, Any]) -> None:
        generation = await self._store.get(gen_id)
        if generation is None:
            log.info("generation %s: finished but deleted meanwhile; dropping image", gen_id)
            return
        if generation.status in (Status.QUEUED, Status.RUNNING):
            data = event.get("image")
            if not isinstance(data, bytes) or not data:
                await self._fail(gen_id, "internal", "The image service sent no image.")
                return
            try:
                path, width, height = self._files.write(gen_id, data)
            except BadImage as exc:
                await self._fail(
                    gen_id,
                    "bad_image",
                    f"The image service sent a picture the bot will not open ({exc}).",
                )
                return
            except OSError:
                raise
            except Exception:
                await self._fail(
                    gen_id, "bad_image", "The image service sent something that is not an image."
                )
                return
            stored = await self._store.mark_done(
                gen_id,
                provider=str(event.get("provider")),
                model=str(event.get("model")),
                image_path=str(path),
                width=width,
                height=height,
                revised_prompt=event.get("revised_prompt"),
                provider_calls=int(event.get("provider_calls") or 1),
                seed=event.get("seed"),
            )
            if stored is None:  # failed or expired meanwhile
                return
            generation = stored
            self._on_settled(gen_id)
            metrics.GENERATION_SECONDS.observe(max(0.0, time.time() - generation.created_at))
            log.info("generation %s: image stored (%dx%d)", gen_id, width, height)
        await self.deliver(gen_id, generation)

    async def _on_failed(self, gen_id: str, event: dict[str, Any]) -> None:
        await self._fail(
            gen_id,
            str(event.get("code") or "error"),
            str(event.get("reason") or "The picture could not be made."),
            provider_calls=event.get("provider_calls"),
        )

    async def _fail(
        self, gen_id: str, code: str, reason: str, *, provider_calls: int | None = None
    ) -> None:
        failed = await self._store.mark_failed(gen_id, code, reason, provider_calls=provider_calls)
        if failed is not None:
            self._on_settled(gen_id)
            metrics.JOBS.labels(code).inc()
            log.info("generation %s: failed (%s)", gen_id, code)
            await self._report_failure(failed)

    async def _report_failure(self, generation: Generation) -> None:
        channel = self._channels.get(generation.platform)
        if channel is None:
            return
        try:
            await channel.report_failure(generation)
        except Exception:
            log.warning(
                "generation %s: could not tell the user about the failure",
                generation.id,
                exc_info=True,
            )

    # -- delivery -------------------------------------------------------------------------------

    async def deliver(self, gen_id: str, current: Generation | None = None) -> None:
        """Post a `done` row's image through its platform's channel; retry or record failures."""
        generation = current or await self._store.get(gen_id)
        if generation is None or generation.status is not Status.DONE or not generation.image_path:
            return
        channel = self._channels.get(generation.platform)
        if channel is None:
            # Delivered when an adapter for this platform runs again (resume on start).
            log.info(
                "generation %s: no %s adapter running; kept for later", gen_id, generation.platform
            )
            return
        not_before = generation.handle.get(RETRY_AT)
        if isinstance(not_before, int | float) and not_before > time.time():
            self._retry_later(gen_id, not_before - time.time())  # the platform said to wait
            return
        try:
            await channel.deliver(generation, Path(generation.image_path))
        except DeliveryError as exc:
            if exc.retryable:
                await self._delivery_pending(generation, exc)
                return
            await self._store.record_delivery_attempt(gen_id, exc.reason)
            log.warning("generation %s: delivery refused for good: %s", gen_id, exc.reason)
            await self._delivery_failed(
                gen_id, f"The picture was made but could not be posted: {exc.reason}"
            )
            return
        faults.crash_point("after_deliver")
        if await self._store.mark_delivered(gen_id):
            metrics.JOBS.labels("delivered").inc()
            metrics.DELIVERY_SECONDS.observe(
                max(0.0, time.time() - (generation.finished_at or generation.created_at))
            )
        log.info("generation %s: delivered", gen_id)

    async def _delivery_pending(self, generation: Generation, exc: DeliveryError) -> None:
        """Try again after the wait the platform asked for, unless that is past the deadline."""
        gen_id = generation.id
        now = time.time()
        if exc.retry_after is not None:
            delay = exc.retry_after
        else:
            tries = generation.delivery_attempts + 1
            delay = min(DELIVERY_RETRY_MAX_SECONDS, DELIVERY_RETRY_SECONDS * 2 ** (tries - 1))
        deadline = (generation.finished_at or generation.created_at) + self._deadline
        if now + delay >= deadline:
            await self._store.record_delivery_attempt(gen_id, exc.reason)
            hours = self._deadline / 3600
            log.warning("generation %s: delivery deadline passed: %s", gen_id, exc.reason)
            await self._delivery_failed(
                gen_id,
                f"The picture was made but could not be posted within {hours:g} hours "
                f"(last answer: {exc.reason}).",
                code="delivery_expired",
            )
            return
        # The earliest next try first, so a bot killed now still waits it out after a restart.
        await self._store.update_handle(gen_id, {RETRY_AT: now + delay})
        await self._store.record_delivery_attempt(gen_id, exc.reason)
        log.info("generation %s: delivery retry in %.1fs (%s)", gen_id, delay, exc.reason)
        self._retry_later(gen_id, delay)

    async def _delivery_failed(
        self, gen_id: str, reason: str, code: str = "delivery_failed"
    ) -> None:
        failed = await self._store.mark_failed(gen_id, code, reason)
        if failed is not None:
            metrics.JOBS.labels(code).inc()
            await self._report_failure(failed)

    def _retry_later(self, gen_id: str, delay: float) -> None:
        if gen_id in self._retries or self._stopping:
            return  # one waiting retry per delivery

        async def retry() -> None:
            try:
                await asyncio.sleep(delay)
            finally:
                self._retries.pop(gen_id, None)
            async with self._lock(gen_id):
                await self.deliver(gen_id)

        task = asyncio.ensure_future(retry())
        self._retries[gen_id] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def expire_stale(self, max_age_seconds: float) -> int:
        """Fail requests that waited longer than anyone would still want them, and say so."""
        cutoff = time.time() - max_age_seconds
        expired = 0
        for generation in await self._store.stale(cutoff):
            async with self._lock(generation.id):
                minutes = max(1, round(max_age_seconds / 60))
                reason = (
                    f"This request waited more than {minutes} minutes and was cancelled. "
                    "Please try again."
                )
                failed = await self._store.mark_failed(generation.id, "expired", reason)
                if failed is None:
                    continue
                self._on_settled(generation.id)
                metrics.JOBS.labels("expired").inc()
                expired += 1
                # Tell workers not to start it; if one already has, its result is ignored.
                await self._redis.zadd(ABORT_JOBS_KEY, {generation.id: int(time.time() * 1000)})
                await self._report_failure(failed)
        if expired:
            log.warning("expired %d request(s) older than %.0fs", expired, max_age_seconds)
        return expired

    async def requeue_lost(self, older_than_seconds: float) -> None:
        """Enqueue again any waiting request whose job Redis no longer knows (e.g. Redis lost
        its data); a no-op for every job Redis still has."""
        cutoff = time.time() - older_than_seconds
        for generation in await self._store.unfinished():
            if generation.status is Status.DONE or generation.created_at > cutoff:
                continue
            if generation.platform not in self._channels:
                continue
            await self._resume_job(generation)

    async def _requeue_after_loss(self) -> None:
        try:
            await self.requeue_lost(older_than_seconds=0.0)
        except Exception:
            log.warning(
                "re-enqueueing after the stream loss failed; housekeeping retries", exc_info=True
            )

    async def resume(self) -> None:
        """Pick up every row a previous run left unfinished."""
        rows = [g for g in await self._store.unfinished() if g.platform in self._channels]
        for generation in rows:
            try:
                if generation.status in (Status.QUEUED, Status.RUNNING):
                    await self._resume_job(generation)
                elif generation.status is Status.DONE:
                    async with self._lock(generation.id):
                        await self.deliver(generation.id)
            except Exception:
                log.exception("generation %s: resume failed", generation.id)
        if rows:
            log.info("resumed %d unfinished request(s)", len(rows))
