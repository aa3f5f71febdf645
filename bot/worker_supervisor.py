"""Generation workers kept running: one inside the bot process, or `imaginebot worker`.

Either way a worker that lost Redis is built again and polls again by itself; jobs it was
running are handed on by ARQ (at-least-once) once their lock expires. What only generating
needs (the worker's runtime, ARQ's Worker) is imported where it is used: `imaginebot run
--no-worker` never loads it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import suppress
from typing import TYPE_CHECKING

from arq.connections import ArqRedis
from redis.exceptions import RedisError

from bot.core.generation.providers.base import ImageProvider
from bot.core.generation.queue import EmbeddedRedis, connect
from bot.health_checks import worker_checks, worker_health_key
from bot.settings import Settings

if TYPE_CHECKING:
    from arq import Worker

    from bot.core.generation.jobs import WorkerRuntime
    from bot.health import HealthServer

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 1.0


def make_runtime(
    settings: Settings, redis: ArqRedis, providers: dict[str, ImageProvider]
) -> WorkerRuntime:
    """What a worker needs to generate: providers behind their shared concurrency limits."""
    from bot.core.generation.jobs import WorkerRuntime
    from bot.core.generation.providers.limits import ProviderLimiter

    return WorkerRuntime(
        redis,
        providers,
        max_tries=settings.job_max_tries,
        backoff_seconds=settings.retry_backoff_seconds,
        limiter=ProviderLimiter(
            redis,
            lease_seconds=settings.job_timeout_seconds + 10,
            wait_seconds=settings.provider_wait_seconds,
        ),
        concurrency={pid: settings.max_concurrency(pid) for pid in providers},
        job_timeout=settings.job_timeout_seconds,
    )


class InProcessWorker:
    """A worker inside the bot process, on the bot's Redis (or the embedded stand-in)."""

    def __init__(
        self,
        settings: Settings,
        redis: ArqRedis,
        embedded: EmbeddedRedis | None,
        providers: dict[str, ImageProvider],
    ) -> None:
        self.settings = settings
        self.embedded = embedded
        self.pool = embedded.pool(settings) if embedded is not None else redis
        self.providers = providers
        self._worker: Worker | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """The worker task is alive (it survives Redis outages and bad messages)."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.embedded is None:
            log.info(
                "generating in this process too (REDIS_URL set; workers may also run elsewhere)"
            )
        runtime = make_runtime(self.settings, self.pool, self.providers)
        self._task = asyncio.create_task(self._run(runtime), name="in-process-worker")

    async def _run(self, runtime: WorkerRuntime) -> None:
        """Keep the worker running; after a Redis outage it starts polling again."""
        from bot.core.generation.worker import build_worker

        while True:
            self._worker = build_worker(
                self.settings,
                self.pool,
                runtime,
                embedded=self.embedded is not None,
                handle_signals=False,
            )
            try:
                await self._worker.async_run()
                return
            except (RedisError, OSError) as exc:
                log.warning("worker lost Redis (%s); retrying in 1s", exc.__class__.__name__)
                await asyncio.sleep(RECONNECT_SECONDS)

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.handle_sig(signal.SIGINT)  # cancel running jobs; they stay queued
            if self._task is not None:
                with suppress(asyncio.CancelledError, Exception):
                    await self._task


async def serve_worker_process(settings: Settings, providers: dict[str, ImageProvider]) -> None:
    """`imaginebot worker`: generate jobs from Redis until SIGINT/SIGTERM, connecting again
    after every Redis outage; /healthz (on HEALTH_PORT) follows the newest connection."""
    from bot.core.generation.worker import build_worker

    stopping = asyncio.Event()
    health: HealthServer | None = None
    current: list[ArqRedis] = []
    try:
        while not stopping.is_set():
            try:
                redis = await connect(settings, None)
                current[:] = [redis]
                if health is None and settings.health_port:
                    from bot.health import HealthServer

                    health = HealthServer(
                        settings.health_port,
                        worker_checks(settings, lambda: current[0] if current else None),
                    )
                    await health.start()
                runtime = make_runtime(settings, redis, providers)
                worker = build_worker(settings, redis, runtime, embedded=False, handle_signals=True)
                worker.on_stop = lambda _signal: stopping.set()
                log.info(
                    "worker started: providers %s, max_jobs %d",
                    ", ".join(providers),
                    settings.worker_max_jobs,
                )
                try:
                    await worker.async_run()
                finally:
                    with suppress(Exception):
                        await worker.close()
            except asyncio.CancelledError:
                break
            except (RedisError, OSError) as exc:
                log.warning("Redis unavailable (%s); reconnecting in 1s", exc.__class__.__name__)
                await asyncio.sleep(RECONNECT_SECONDS)
    finally:
        if health is not None:
            await health.stop()


async def check_worker_heartbeat(settings: Settings) -> bool:
    """`imaginebot worker --check`: is any worker's heartbeat fresh?"""
    redis = await connect(settings, None)
    try:
        return bool(await redis.exists(worker_health_key(settings)))
    finally:
        await redis.aclose()
