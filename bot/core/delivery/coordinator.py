"""A request's states after the worker: completion event -> stored image -> the adapter that
owns the chat -> `delivered`.

Events come typed from the completion stream (`events.EventConsumer`); one generation's
events are handled one at a time, in arrival order. On start, once the previous run's
unacknowledged events are in hand, every unfinished row is resumed (`recovery.py`).

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
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from arq.connections import ArqRedis

from bot.core import errors, faults, metrics
from bot.core.delivery.acknowledgements import Acknowledgements
from bot.core.delivery.offers import follow_ups_for
from bot.core.delivery.recovery import Recovery, ResumeJob
from bot.core.delivery.result_files import StoredResult, store_result
from bot.core.errors import DeliveryError, delivery_expired_text, english
from bot.core.generation.consumers import DEFAULT_CLAIM_IDLE_SECONDS
from bot.core.generation.events import EventConsumer
from bot.core.generation.providers.base import Capabilities
from bot.core.images.files import ImageFiles
from bot.core.images.pixels import BadImage
from bot.core.limits.quotas import settled_nowhere
from bot.core.limits.safety import BannedTerms, TextGate
from bot.core.messages import Done, Event, Failed, Progress, Started
from bot.core.models import (
    PREVIEWS,
    STYLE_PREVIEW,
    DeliveryPolicy,
    Generation,
    Kind,
    Status,
    StatusUpdate,
)
from bot.core.store import Store

log = logging.getLogger(__name__)

DELIVERY_RETRY_SECONDS = 2.0  # the first pause after a network error; it doubles each time
DELIVERY_RETRY_MAX_SECONDS = 300.0
DELIVERY_DEADLINE_SECONDS = 24 * 3600.0
RUNNING_ROWS_KEPT = 4096  # rows kept for Progress events (a Done handled elsewhere leaves one)


class ResultChannel(Protocol):
    """What a platform adapter (or the CLI) implements to show progress and post results."""

    platform: str

    async def show_status(self, generation: Generation, update: StatusUpdate) -> None: ...

    async def deliver(self, generation: Generation, image_path: Path) -> None:
        """Post the image; raise `DeliveryError` if the platform would not take it.

        `image_path` is what the chat shows: the one image, or the grid of several
        (`generation.images` holds each image: index, size, seed; `generation.follow_ups`
        the buttons to offer). A describe (`generation.kind` is `describe`) gets its
        input picture here and its suggestions in `generation.suggestions`."""

    async def report_failure(self, generation: Generation) -> None: ...


NO_IDEAS = ("no_suggestions", english(errors.NO_IDEAS))
REFUSED_IDEAS = ("content_refused", english(errors.IDEAS_REFUSED))


class DeliveryCoordinator:
    def __init__(
        self,
        *,
        redis: ArqRedis,
        store: Store,
        files: ImageFiles,
        stream: str,
        resume_job: ResumeJob,
        on_settled: Callable[[str], Awaitable[None]] = settled_nowhere,
        max_concurrency: int = 64,
        delivery_deadline_seconds: float = DELIVERY_DEADLINE_SECONDS,
        capabilities: Mapping[str, Capabilities] | None = None,
        claim_idle_seconds: float = DEFAULT_CLAIM_IDLE_SECONDS,
        acknowledgements: Acknowledgements | None = None,
        text_gate: TextGate | None = None,
    ) -> None:
        self._text_gate = text_gate or TextGate(BannedTerms([]), None)
        self._capabilities = dict(capabilities or {})
        self._acknowledgements = acknowledgements or Acknowledgements()
        self._deadline = delivery_deadline_seconds
        self._retries: dict[str, asyncio.Task[None]] = {}  # generation id -> its waiting retry
        self._tasks: set[asyncio.Task[None]] = set()  # every retry until it ends (strong refs)
        self._on_settled = on_settled
        self._store = store
        self._files = files
        self._channels: dict[str, ResultChannel] = {}
        self._locks: dict[str, list[Any]] = {}
        # The row of each request running here, as its Started event left it: a Progress
        # event shows its status from it, with no store read (oldest dropped past the cap).
        self._running: OrderedDict[str, Generation] = OrderedDict()
        self._stopping = False
        self.recovery = Recovery(store, self, resume_job)
        self.consumer = EventConsumer(
            redis=redis,
            stream=stream,
            handle=self.apply,
            on_stream_lost=self.recovery.requeue_after_loss,
            max_concurrency=max_concurrency,
            claim_idle_seconds=claim_idle_seconds,
        )

    @property
    def backlog_done(self) -> asyncio.Event:
        return self.consumer.backlog_done

    def _channel_of(self, generation: Generation) -> ResultChannel | None:
        """The row's platform's channel; a style preview's rows go to the previews' own."""
        if STYLE_PREVIEW in generation.handle:
            return self._channels.get(PREVIEWS)
        return self._channels.get(generation.platform)

    def register(self, channel: ResultChannel) -> None:
        self._channels[channel.platform] = channel

    def channel_for(self, platform: str) -> ResultChannel | None:
        return self._channels.get(platform)

    def serves(self, platform: str) -> bool:
        """An adapter for this platform runs here, so its requests can be finished."""
        return platform in self._channels

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, *, resume: bool = True) -> None:
        self.consumer.start(after_backlog=self.recovery.resume if resume else None)

    async def stop(self) -> None:
        self._stopping = True
        await self.consumer.stop()
        for retry in list(self._retries.values()):
            retry.cancel()  # waiting deliveries resume from their rows on the next start
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    @asynccontextmanager
    async def lock(self, generation_id: str) -> AsyncIterator[None]:
        """One generation is worked on by one task at a time (events, retries, expiry)."""
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

    # -- events ---------------------------------------------------------------------------------

    async def apply(self, event: Event) -> None:
        gen_id = event.generation_id
        # Commands waiting for their acknowledgement go first (acknowledgements.py).
        await self._acknowledgements.first()
        async with self.lock(gen_id):
            if isinstance(event, Started):
                running = await self._store.mark_running(gen_id, event.provider)
                if running is not None:
                    self._remember(running)
                    await self._show(running, StatusUpdate(status=Status.RUNNING))
            elif isinstance(event, Progress):
                current = await self._running_row(gen_id)
                if current is not None:
                    update = StatusUpdate(
                        status=Status.RUNNING,
                        position=event.position,
                        detail=event.detail,
                        eta_seconds=event.eta,
                    )
                    await self._show(current, update)
            elif isinstance(event, Done):
                self._running.pop(gen_id, None)
                await self._on_done(event)
            elif isinstance(event, Failed):
                await self.fail(
                    gen_id, event.code, event.reason, provider_calls=event.provider_calls
                )

    def _remember(self, running: Generation) -> None:
        self._running[running.id] = running
        self._running.move_to_end(running.id)
        while len(self._running) > RUNNING_ROWS_KEPT:
            self._running.popitem(last=False)

    async def _running_row(self, gen_id: str) -> Generation | None:
        """The row a Progress event shows: kept from its Started event, or read once (its
        Started was handled by another process, or before a restart)."""
        current = self._running.get(gen_id)
        if current is None:
            current = await self._store.get(gen_id)
            if current is not None and current.status in (Status.QUEUED, Status.RUNNING):
                self._remember(current)
        return current

    async def _show(self, generation: Generation, update: StatusUpdate) -> None:
        if generation.status not in (Status.QUEUED, Status.RUNNING):
            return
        channel = self._channel_of(generation)
        if channel is None:
            return
        try:
            await channel.show_status(generation, update)
        except Exception:
            # A status edit is cosmetic; never let it block the result.
            log.warning("generation %s: status update failed", generation.id, exc_info=True)

    async def _on_done(self, event: Done) -> None:
        gen_id = event.generation_id
        generation = await self._store.get(gen_id)
        if generation is None:
            log.info("generation %s: finished but deleted meanwhile; dropping image", gen_id)
            return
        if generation.status not in (Status.QUEUED, Status.RUNNING):
            # Stored before: an event read again after its process died, maybe after posting.
            await self.deliver(gen_id, generation)
            return
        stored = await self._store_image(generation, event)
        if stored is not None:
            await self.deliver(gen_id, stored, may_be_posted=False)

    async def _store_image(self, generation: Generation, event: Done) -> Generation | None:
        """Each image's file, the grid, their rows and the `done` row; None if the request
        ended another way."""
        gen_id = generation.id
        describe = generation.kind is Kind.DESCRIBE
        if not event.pictures and not describe:
            await self.fail(gen_id, "internal", english(errors.NO_IMAGE))
            return None
        try:
            # Decoding and composing the grid take CPU: off the event loop.
            result: StoredResult = await asyncio.to_thread(store_result, self._files, gen_id, event)
        except BadImage as exc:
            await self.fail(gen_id, "bad_image", english(errors.unopenable_text(str(exc))))
            return None
        except OSError:
            raise
        except Exception:
            await self.fail(gen_id, "bad_image", english(errors.NOT_AN_IMAGE))
            return None
        found = [*generation.suggestions, *event.suggestions]
        suggestions = await self._text_gate.screen(found)  # posted as the bot's own words
        if describe and not suggestions:
            await self.fail(gen_id, *(REFUSED_IDEAS if found else NO_IDEAS))
            return None
        await self._store.record_images(
            gen_id, result.images, crop_note=event.crop_note, suggestions=suggestions
        )
        stored = await self._store.mark_done(
            gen_id,
            provider=event.provider,
            model=event.model,
            image_path=result.path,
            width=result.width,
            height=result.height,
            revised_prompt=event.revised_prompt,
            provider_calls=event.provider_calls or 1,
            seed=result.images[0].seed if result.images else event.seed,
        )
        if stored is None:  # failed or expired meanwhile
            return None
        await self._on_settled(gen_id)
        # The images just recorded go with the row: delivery does not read them back.
        stored = stored.model_copy(update={"images": result.images})
        metrics.GENERATION_SECONDS.observe(max(0.0, time.time() - stored.created_at))
        log.info(
            "generation %s: %d image(s) stored (%dx%d)",
            gen_id,
            len(result.images),
            result.width,
            result.height,
        )
        return stored

    async def _enriched(self, generation: Generation, may_be_posted: bool) -> Generation:
        """The row with its images and the buttons the chain's capabilities allow."""
        if not generation.images:  # a row read from the store, not one just stored here
            generation = await self._store.with_images(generation)
        follow_ups = follow_ups_for(generation, self._capabilities)
        return generation.model_copy(
            update={"follow_ups": follow_ups, "may_be_posted": may_be_posted}
        )

    async def fail(
        self, gen_id: str, code: str, reason: str, *, provider_calls: int | None = None
    ) -> Generation | None:
        """End a queued or running request with a reason, and tell the user."""
        self._running.pop(gen_id, None)
        failed = await self._store.mark_failed(gen_id, code, reason, provider_calls=provider_calls)
        if failed is not None:
            await self._on_settled(gen_id)
            metrics.JOBS.labels(code).inc()
            log.info("generation %s: failed (%s)", gen_id, code)
            await self.report_failure(failed)
        return failed

    async def report_failure(self, generation: Generation) -> None:
        channel = self._channel_of(generation)
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

    async def deliver(
        self, gen_id: str, current: Generation | None = None, *, may_be_posted: bool = True
    ) -> None:
        """Post a `done` row's image through its platform's channel; retry or record failures.

        `may_be_posted` is False only where this process knows nobody posted it yet: it has
        just stored the image."""
        generation = current or await self._store.get(gen_id)
        if generation is None or generation.status is not Status.DONE:
            return
        shown = generation.image_path
        if generation.kind is Kind.DESCRIBE:
            shown = generation.input_path  # never in the gallery: the user's own picture
        if not shown:
            return
        channel = self._channel_of(generation)
        if channel is None:
            # Delivered when an adapter for this platform runs again (resume on start).
            log.info(
                "generation %s: no %s adapter running; kept for later", gen_id, generation.platform
            )
            return
        not_before = generation.policy.not_before
        if not_before is not None and not_before > time.time():
            self._retry_later(gen_id, not_before - time.time())  # the platform said to wait
            return
        try:
            await channel.deliver(await self._enriched(generation, may_be_posted), Path(shown))
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
                english(delivery_expired_text(hours, exc.reason)),
                code="delivery_expired",
            )
            return
        # The earliest next try first, so a bot killed now still waits it out after a restart.
        await self._store.update_handle(gen_id, DeliveryPolicy(not_before=now + delay))
        await self._store.record_delivery_attempt(gen_id, exc.reason)
        log.info("generation %s: delivery retry in %.1fs (%s)", gen_id, delay, exc.reason)
        self._retry_later(gen_id, delay)

    async def _delivery_failed(
        self, gen_id: str, reason: str, code: str = "delivery_failed"
    ) -> None:
        failed = await self._store.mark_failed(gen_id, code, reason)
        if failed is not None:
            metrics.JOBS.labels(code).inc()
            await self.report_failure(failed)

    def _retry_later(self, gen_id: str, delay: float) -> None:
        if gen_id in self._retries or self._stopping:
            return  # one waiting retry per delivery

        async def retry() -> None:
            try:
                await asyncio.sleep(delay)
            finally:
                self._retries.pop(gen_id, None)
            async with self.lock(gen_id):
                # Still maybe: a network error or a timeout may have come after Discord
                # had taken the edit.
                await self.deliver(gen_id)

        task = asyncio.ensure_future(retry())
        self._retries[gen_id] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
