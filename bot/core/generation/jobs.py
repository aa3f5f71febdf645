"""The generation job: call the providers in order, report start, progress and end as events.

A job may run more than once (ARQ is at-least-once). Everything it does is safe to repeat:
events carry the generation id and the bot ignores a second "done"; paid provider calls
are counted in Redis across tries so duplicates are visible, never hidden. A job that is not
a readable `JobMessage` is dead-lettered and ends there; the bot's housekeeping enqueues a
fresh one from its own record of the request, which it can always read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any, TypeVar

import msgpack
from arq import Retry
from arq.connections import ArqRedis

from bot.core import metrics
from bot.core.errors import (
    CENSORED,
    INTERNAL_FAILURE,
    NO_PROVIDER,
    WORKER_LOST,
    ProviderError,
    ProviderRateLimited,
    ProviderRefused,
    ProviderRejected,
    ProviderTimeout,
    english,
    retrying_detail,
)
from bot.core.generation.deadletters import dead_letter
from bot.core.generation.events import publish
from bot.core.generation.operations import Outcome, calls_for, can_serve, perform, request_for
from bot.core.generation.picture_threads import in_background
from bot.core.generation.providers.base import ImageProvider, ProviderImage
from bot.core.generation.providers.limits import ProviderLimiter, SlotAdmission
from bot.core.generation.queue import UNREADABLE_JOB, calls_key, spent_key
from bot.core.images.pixels import check_provider_image, compose_grid, inspect
from bot.core.messages import (
    BadMessage,
    Done,
    DoneImage,
    Event,
    Failed,
    JobMessage,
    Progress,
    Started,
    job_from_wire,
)
from bot.core.models import StatusUpdate

log = logging.getLogger(__name__)

JOB_MARGIN_SECONDS = 5.0
MIN_ATTEMPT_SECONDS = 0.2

Emit = Callable[[Event], Awaitable[None]]
T = TypeVar("T")


class WorkerRuntime:
    """What one worker process holds: the providers and its Redis connection."""

    def __init__(
        self,
        redis: ArqRedis,
        providers: Mapping[str, ImageProvider],
        *,
        max_tries: int,
        backoff_seconds: float,
        limiter: ProviderLimiter | None = None,
        concurrency: Mapping[str, int] | None = None,
        job_timeout: float | None = None,
    ) -> None:
        self.redis = redis
        self.providers = providers
        self.max_tries = max_tries
        self.backoff_seconds = backoff_seconds
        self.limiter = limiter
        self.concurrency = dict(concurrency or {})
        # Jobs leave the queue only with a slot of the first provider (see SlotAdmission).
        first = next(iter(providers), None)
        self.admission = (
            SlotAdmission(limiter, first, self.concurrency.get(first, 4))
            if limiter is not None and first is not None
            else None
        )
        # Provider calls end a little before ARQ would kill the job, so a timeout is reported
        # (or retried) like any other provider failure.
        self.job_seconds = (
            job_timeout - min(JOB_MARGIN_SECONDS, job_timeout / 10) if job_timeout else None
        )

    async def _call_provider(
        self,
        provider_id: str,
        call: Callable[[], Awaitable[T]],
        generation_id: str,
        calls: int,
        reserved: str | None = None,
    ) -> T:
        """One provider attempt inside that provider's shared concurrency limit; a 429's
        retry-after becomes a cool-down every worker respects."""
        if self.limiter is None:
            return await call()
        limit = self.concurrency.get(provider_id, 4)
        async with self.limiter.slot(provider_id, limit, reserved):
            await self._count_call(generation_id, calls)
            metrics.PROVIDER_CALLS.labels(provider_id).inc(calls)
            try:
                return await call()
            except ProviderRateLimited as exc:
                await self.limiter.cool_down(provider_id, exc.retry_after or 1.0)
                raise

    async def _count_call(self, generation_id: str, calls: int = 1) -> int:
        key = calls_key(generation_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incrby(key, calls)
            pipe.expire(key, 7 * 86400)
            count, _ = await pipe.execute()
        return int(count)

    async def _calls(self, generation_id: str) -> int:
        value = await self.redis.get(calls_key(generation_id))
        return int(value or 0)

    async def _failed(self, gen_id: str, code: str, reason: str) -> Failed:
        return Failed(
            generation_id=gen_id,
            ts=time.time(),
            code=code,
            reason=reason,
            provider_calls=await self._calls(gen_id),
        )

    async def run(self, job: JobMessage, job_try: int, job_id: str | None = None) -> dict[str, Any]:
        gen_id = job.generation_id

        async def emit(event: Event) -> None:
            await publish(self.redis, job.reply_stream, event)

        if job_try > self.max_tries:
            # The worker died during the last allowed try: say so instead of vanishing.
            log.warning("generation %s: giving up after %d tries", gen_id, job_try - 1)
            await emit(
                await self._failed(
                    gen_id,
                    "worker_lost",
                    english(WORKER_LOST),
                )
            )
            return {"status": "failed"}

        if not job.providers and job.operation != "generate":
            # An upscale without an upscaler gives the original; a describe of a picture
            # that carries its own parameters needs no describer.
            # Named for the Info: the original image, or the picture's own parameters.
            source = "original" if job.operation == "upscale" else "parameters"
            await self._done(emit, gen_id, source, _as_is(job))
            return {"status": "done", "provider": source}
        chain = [p for p in job.providers if p in self.providers]
        chain = [p for p in chain if can_serve(self.providers[p].capabilities, job)]
        if not chain:
            await emit(await self._failed(gen_id, "no_provider", english(NO_PROVIDER)))
            return {"status": "failed"}

        # Providers that failed for good in an earlier try (credentials, quota, setup) are
        # not asked again; the ones that may recover are.
        spent = await self._spent(gen_id)
        chain = [p for p in chain if p not in spent] or chain
        deadline = time.monotonic() + self.job_seconds if self.job_seconds else None
        errors: list[ProviderError] = []
        for provider_id in chain:
            result = await self._try_provider(job, job_try, job_id, provider_id, emit, deadline)
            if isinstance(result, ProviderError):
                errors.append(result)
                continue
            return result

        # Every provider failed, none because of the request itself. Try again later when
        # any of them may recover (outage, rate limit, timeout); otherwise say why it ended.
        retryable = [e for e in errors if e.retryable]
        if retryable and job_try < self.max_tries:
            waits = [e.retry_after or 0.0 for e in retryable]
            delay = max(*waits, self.backoff_seconds * (2 ** (job_try - 1)))
            # Said by the latest failure: unreachable, rate limited, timed out or busy.
            detail = retrying_detail(retryable[-1].code)
            await emit(Progress(generation_id=gen_id, ts=time.time(), detail=detail))
            raise Retry(defer=delay)
        await self._fail(emit, gen_id, errors[-1])
        return {"status": "failed"}

    async def _reserved_slot(self, provider_id: str, job_id: str | None) -> str | None:
        """The admission slot taken for this job, when this provider is the one it was taken
        for; asking another provider frees it for the next request."""
        if self.admission is None or job_id is None:
            return None
        if provider_id == self.admission.provider:
            return self.admission.token(job_id)
        await self.admission.release(job_id)
        return None

    async def _try_provider(
        self,
        job: JobMessage,
        job_try: int,
        job_id: str | None,
        provider_id: str,
        emit: Emit,
        deadline: float | None,
    ) -> dict[str, Any] | ProviderError:
        """One provider's attempt: the job's result (done or failed for good), or the error
        after which the next provider is asked."""
        gen_id = job.generation_id
        reserved = await self._reserved_slot(provider_id, job_id)
        await emit(
            Started(generation_id=gen_id, ts=time.time(), provider=provider_id, attempt=job_try)
        )

        async def progress(update: StatusUpdate) -> None:
            await emit(
                Progress(
                    generation_id=gen_id,
                    ts=time.time(),
                    position=update.position,
                    detail=update.detail,
                    eta=update.eta_seconds,
                )
            )

        provider = self.providers[provider_id]
        call = partial(perform, provider, request_for(provider, job), job, progress)
        try:
            calls = calls_for(provider.capabilities, job)
            outcome = await self._attempt(provider_id, call, gen_id, calls, deadline, reserved)
            checked(provider_id, outcome)
        except ProviderError as exc:
            return await self._provider_failed(emit, gen_id, provider_id, exc)
        except Exception:
            log.exception("generation %s: provider %s crashed", gen_id, provider_id)
            await emit(await self._failed(gen_id, "internal", english(INTERNAL_FAILURE)))
            return {"status": "failed"}
        if any(image.censored for image in outcome.images):
            # The provider blurred or blocked its own result: never post it as if fine.
            await emit(
                await self._failed(
                    gen_id,
                    "censored",
                    english(CENSORED),
                )
            )
            return {"status": "failed"}
        labels = tuple(variant.label for variant in job.variants)
        await self._done(emit, gen_id, provider_id, outcome, labels)
        return {"status": "done", "provider": provider_id}

    async def _provider_failed(
        self, emit: Emit, gen_id: str, provider_id: str, exc: ProviderError
    ) -> dict[str, Any] | ProviderError:
        """A provider's error: final when the request itself was refused; otherwise the error
        to remember (a provider that failed for good is not asked again on a retry)."""
        metrics.PROVIDER_ERRORS.labels(provider_id, exc.code).inc()
        refused = isinstance(exc, ProviderRefused | ProviderRejected)
        # Credentials, quota and setup problems need the operator: say so louder.
        operator = not exc.retryable and not refused
        log.log(
            logging.WARNING if operator else logging.INFO,
            "generation %s: provider %s failed (%s, retryable=%s): %s",
            gen_id,
            provider_id,
            exc.code,
            exc.retryable,
            exc.detail,
        )
        if refused:
            # The user's request itself was refused: final, never shopped around.
            await self._fail(emit, gen_id, exc)
            return {"status": "failed"}
        if not exc.retryable:
            await self._mark_spent(gen_id, provider_id)
        return exc

    async def _attempt(
        self,
        provider_id: str,
        call: Callable[[], Awaitable[T]],
        generation_id: str,
        calls: int,
        deadline: float | None,
        reserved: str | None = None,
    ) -> T:
        """One provider attempt (slot wait included) within what is left of the job's time,
        so a slow first provider leaves the job a clean failure to report, not an ARQ kill."""
        if self.limiter is None:
            await self._count_call(generation_id, calls)
            metrics.PROVIDER_CALLS.labels(provider_id).inc(calls)
        if deadline is None:
            return await self._call_provider(provider_id, call, generation_id, calls, reserved)
        remaining = deadline - time.monotonic()
        if remaining < MIN_ATTEMPT_SECONDS:
            raise ProviderTimeout(f"{provider_id}: no time left in this try")
        try:
            async with asyncio.timeout(remaining):
                return await self._call_provider(provider_id, call, generation_id, calls, reserved)
        except TimeoutError:
            raise ProviderTimeout(f"{provider_id}: ran out of this try's time") from None

    async def _spent(self, generation_id: str) -> set[str]:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.smembers(spent_key(generation_id))
            (members,) = await pipe.execute()
        return {m.decode() if isinstance(m, bytes) else str(m) for m in members}

    async def _mark_spent(self, generation_id: str, provider_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.sadd(spent_key(generation_id), provider_id)
            pipe.expire(spent_key(generation_id), 86400)
            await pipe.execute()

    async def _fail(self, emit: Emit, gen_id: str, exc: ProviderError) -> None:
        await emit(await self._failed(gen_id, exc.code, exc.user_message))

    async def _done(
        self,
        emit: Emit,
        gen_id: str,
        provider_id: str,
        outcome: Outcome,
        labels: tuple[str, ...] = (),
    ) -> None:
        images = tuple(
            DoneImage(
                data=image.data,
                width=image.width or 0,
                height=image.height or 0,
                seed=image.seed,
            )
            for image in outcome.images
        )
        first = outcome.images[0] if outcome.images else None
        grid = b""
        if len(images) > 1:
            # Composed here, not in the bot: the bot's one event loop serves every chat, and
            # workers are the part that scales out with the picture work.
            pictures = [image.data for image in images]
            grid = (await in_background(compose_grid, pictures, labels=labels)).data
        await emit(
            Done(
                generation_id=gen_id,
                ts=time.time(),
                provider=provider_id,
                model=outcome.model,
                seed=first.seed if first else None,
                revised_prompt=first.revised_prompt if first else None,
                images=images,
                suggestions=outcome.suggestions,
                crop_note=outcome.crop_note,
                grid=grid,
                provider_calls=await self._calls(gen_id),
            )
        )


def _as_is(job: JobMessage) -> Outcome:
    """The job's own picture handed back (an upscale with no upscaler in the chain)."""
    if job.operation != "upscale" or not job.init_image:
        return Outcome(model="parameters")
    info = inspect(job.init_image)
    image = ProviderImage(
        data=job.init_image, model="original", seed=job.seed, width=info.width, height=info.height
    )
    return Outcome(model="original", images=(image,))


def checked(provider_id: str, outcome: Outcome) -> None:
    """Refuse, before anything decodes them, pictures over the pixel limit or none at all."""
    for image in outcome.images:
        if not image.censored:  # a censored result is never posted anyway
            check_provider_image(provider_id, image.data)


async def generate(ctx: dict[str, Any], payload: object) -> dict[str, Any]:
    """The ARQ job function: read the job, then run it; an unreadable one is set aside."""
    runtime: WorkerRuntime = ctx["runtime"]
    try:
        if isinstance(payload, dict) and UNREADABLE_JOB in payload:
            raise BadMessage(str(payload.get("reason")))
        job = job_from_wire(payload)
    except BadMessage as exc:
        await dead_letter(
            runtime.redis,
            kind="job",
            source=str(ctx.get("queue_name", "jobs")),
            raw=raw_job(payload),
            reason=exc.reason,
            generation_id=exc.generation_id,
        )
        # Finished as far as ARQ is concerned: retrying would fail the same way.
        return {"status": "dead-lettered"}
    return await runtime.run(job, int(ctx["job_try"]), str(ctx["job_id"]))


def raw_job(payload: object) -> bytes:
    """The bytes to keep of an unreadable job: as they arrived, or its argument re-packed."""
    if isinstance(payload, dict) and isinstance(payload.get(UNREADABLE_JOB), bytes):
        return payload[UNREADABLE_JOB]  # type: ignore[no-any-return]
    return msgpack.packb(payload, use_bin_type=True, default=str)  # type: ignore[no-any-return]
