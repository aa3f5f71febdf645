"""Composition root: builds the store, queue, providers, service and delivery for one process."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING

import httpx
from arq.connections import ArqRedis
from redis.exceptions import RedisError

from bot import __version__
from bot.core import metrics
from bot.core.delivery import DeliveryCoordinator, ResultChannel
from bot.core.events import events_stream
from bot.core.housekeeping import Housekeeping
from bot.core.imagefiles import ImageFiles
from bot.core.providers.base import ImageProvider
from bot.core.providers.registry import build_providers
from bot.core.queue import EmbeddedRedis, JobQueue, connect, health_key
from bot.core.safety import BannedTerms, OpenAIModerator
from bot.core.service import GenerationService
from bot.core.store import Store, open_configured_store
from bot.core.styles import load_catalogue
from bot.settings import ConfigError, Settings
from bot.startup import StartupError, host_of
from bot.web.embedded import EmbeddedGallery

# What only generating (the worker's runtime, ARQ's Worker) or HEALTH_PORT (aiohttp's web
# server) needs is imported where it is used: `imaginebot run --no-worker` without a health
# port never loads it.
if TYPE_CHECKING:
    from arq import Worker

    from bot.adapters.base import PlatformAdapter
    from bot.core.jobs import WorkerRuntime
    from bot.health import Check, HealthServer
    from bot.web.access import GalleryAccess

log = logging.getLogger(__name__)


def http_client(settings: Settings) -> httpx.AsyncClient:
    """The one shared HTTP client of a process; every call has a timeout."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.openai_timeout_seconds, connect=10.0),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        headers={"User-Agent": f"imaginebot/{__version__}"},
        follow_redirects=False,
    )


def make_runtime(
    settings: Settings, redis: ArqRedis, providers: dict[str, ImageProvider]
) -> WorkerRuntime:
    """What a worker needs to generate: providers behind their shared concurrency limits."""
    from bot.core.jobs import WorkerRuntime
    from bot.core.providers.limits import ProviderLimiter

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


class BotApp:
    """Everything the bot process owns. Build with `create`, then `start`, then `close`."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        redis: ArqRedis,
        embedded: EmbeddedRedis | None,
        http: httpx.AsyncClient,
        providers: dict[str, ImageProvider],
        service: GenerationService,
        coordinator: DeliveryCoordinator,
        queue: JobQueue,
    ) -> None:
        self.settings = settings
        self.store = store
        self.redis = redis
        self.embedded = embedded
        self.http = http
        self.providers = providers
        self.service = service
        self.coordinator = coordinator
        self.clock: Callable[[], float] = time.time  # the retention purge's "now"; tests move it
        self.housekeeping = Housekeeping(
            store=store,
            delivery=coordinator,
            queue=queue,
            files=service.files,
            max_request_age_seconds=settings.max_request_age_seconds,
            history_retention_days=settings.history_retention_days,
            on_settled=service.settled,
            clock=lambda: self.clock(),
        )
        self._worker: Worker | None = None
        self._worker_task: asyncio.Task[None] | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self._health: HealthServer | None = None
        self.adapters: list[PlatformAdapter] = []
        self.web: EmbeddedGallery | None = None

    @property
    def gallery(self) -> GalleryAccess | None:
        return self.web.access if self.web is not None else None

    @classmethod
    async def create(cls, settings: Settings) -> BotApp:
        styles = load_catalogue()
        if settings.default_style not in styles:
            raise ConfigError(
                f"DEFAULT_STYLE: {settings.default_style!r} is not a style id; "
                f"choose one of {', '.join(styles.ids)}"
            )
        http = http_client(settings)
        try:
            providers = build_providers(settings, http)
        except ConfigError:
            await http.aclose()
            raise
        try:
            banned = BannedTerms.load(settings.banned_terms_file)
        except (OSError, ValueError) as exc:
            await http.aclose()
            raise ConfigError(f"BANNED_TERMS_FILE: {exc}") from None
        moderator = None
        if settings.moderation == "openai":
            if settings.openai_api_key is None:
                await http.aclose()
                raise ConfigError("MODERATION=openai needs OPENAI_API_KEY")
            moderator = OpenAIModerator(
                api_key=settings.openai_api_key.get_secret_value(),
                base_url=settings.openai_base_url,
                timeout=10.0,
            )
        try:
            store = await open_configured_store(settings)
        except BaseException:
            await http.aclose()
            raise
        embedded = EmbeddedRedis() if settings.embedded_queue else None
        try:
            redis = await connect(settings, embedded)
        except (RedisError, OSError):
            await store.close()
            await http.aclose()
            raise StartupError(
                f"Redis did not answer at {host_of(settings.redis_url, 'REDIS_URL')}; start "
                "Redis or fix REDIS_URL"
            ) from None
        files = ImageFiles(settings.images_dir)
        stream = events_stream(settings.bot_instance)
        queue = JobQueue(redis, settings)
        service = GenerationService(
            settings=settings,
            store=store,
            styles=styles,
            queue=queue,
            capabilities={pid: p.capabilities for pid, p in providers.items()},
            reply_stream=stream,
            files=files,
            banned=banned,
            moderator=moderator,
        )
        await service.load_quotas()
        coordinator = DeliveryCoordinator(
            redis=redis,
            store=store,
            files=files,
            stream=stream,
            resume_job=service.resume_job,
            on_settled=service.settled,
            delivery_deadline_seconds=settings.delivery_deadline_hours * 3600,
        )
        app = cls(
            settings=settings,
            store=store,
            redis=redis,
            embedded=embedded,
            http=http,
            providers=providers,
            service=service,
            coordinator=coordinator,
            queue=queue,
        )
        app.web = await EmbeddedGallery.open(settings)  # None without PUBLIC_URL or WEB_PORT
        return app

    def register(self, channel: ResultChannel) -> None:
        self.coordinator.register(channel)

    async def start(
        self, *, resume: bool = True, worker: bool = True, serve_health: bool = True
    ) -> None:
        await self.coordinator.start(resume=resume)
        if resume:
            self._housekeeping = asyncio.create_task(self.housekeeping.run(), name="housekeeping")
        if serve_health and self.settings.health_port:
            from bot.health import HealthServer

            self._health = HealthServer(
                self.settings.health_port, self._checks(), before_scrape=self._refresh_metrics
            )
            await self._health.start()
        if self.web is not None:
            await self.web.start()
        if worker:
            if self.embedded is None:
                log.info(
                    "generating in this process too (REDIS_URL set; workers may also run elsewhere)"
                )
            self._start_worker()

    def _start_worker(self) -> None:
        if self.embedded is not None:
            pool = self.embedded.pool(self.settings)
        else:
            pool = self.redis
        runtime = make_runtime(self.settings, pool, self.providers)
        self._worker_task = asyncio.create_task(
            self._run_worker(pool, runtime), name="in-process-worker"
        )

    async def _run_worker(self, pool: ArqRedis, runtime: WorkerRuntime) -> None:
        """Keep the in-process worker running; after a Redis outage it starts polling again."""
        from bot.core.worker import build_worker

        while True:
            self._worker = build_worker(
                self.settings,
                pool,
                runtime,
                embedded=self.embedded is not None,
                handle_signals=False,
            )
            try:
                await self._worker.async_run()
                return
            except (RedisError, OSError) as exc:
                log.warning("worker lost Redis (%s); retrying in 1s", exc.__class__.__name__)
                await asyncio.sleep(1.0)

    def _checks(self) -> dict[str, Check]:
        async def redis_ok() -> bool:
            return bool(await self.redis.ping())

        async def sqlite_writable() -> bool:
            await self.store.set_state("health", str(time.time()))
            return True

        checks: dict[str, Check] = {"redis": redis_ok, "sqlite": sqlite_writable}
        # One check per chat adapter, named by its platform: each reports its own real
        # connection (Discord: gateway READY; Telegram: the last poll reached Telegram).
        for adapter in self.adapters:
            checks[adapter.platform] = adapter_check(adapter)
        checks.update(worker_checks(self.settings, lambda: self.redis))
        del checks["redis"]
        checks["redis"] = redis_ok
        return checks

    async def _refresh_metrics(self) -> None:
        metrics.QUEUE_DEPTH.set(await self.service.queue.depth())

    async def purge_history(self) -> int:
        return await self.housekeeping.purge_history()

    async def close(self, *, drop_event_stream: bool = False) -> None:
        if self._health is not None:
            await self._health.stop()
        if self.web is not None:
            await self.web.close()
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with suppress(asyncio.CancelledError):
                await self._housekeeping
        if self._worker is not None:
            self._worker.handle_sig(signal.SIGINT)  # cancel running jobs; they stay queued
            if self._worker_task is not None:
                with suppress(asyncio.CancelledError, Exception):
                    await self._worker_task
        await self.coordinator.stop()
        if drop_event_stream:
            with suppress(Exception):
                await self.redis.delete(events_stream(self.settings.bot_instance))
        with suppress(Exception):
            await self.redis.aclose()
        await self.store.close()
        await self.http.aclose()


def adapter_check(adapter: PlatformAdapter) -> Check:
    async def check() -> bool:
        return adapter.healthy()

    return check


def worker_health_key(settings: Settings) -> str:
    return health_key(settings.queue_name)


async def run_worker_process(settings: Settings) -> None:
    """`imaginebot worker`: generate jobs from Redis until SIGINT/SIGTERM.

    If Redis goes away the worker logs it, waits and connects again by itself; jobs it was
    running are handed on by ARQ (at-least-once) once their lock expires.
    """
    from bot.core.worker import build_worker

    if settings.embedded_queue:
        raise ConfigError("REDIS_URL: `imaginebot worker` needs a shared Redis; set REDIS_URL")
    http = http_client(settings)
    providers = build_providers(settings, http)
    stopping = asyncio.Event()
    health: HealthServer | None = None
    # The health checks always look at the newest connection (it is rebuilt after outages).
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
                await asyncio.sleep(1.0)
    finally:
        if health is not None:
            await health.stop()
        for provider in providers.values():
            await provider.aclose()
        await http.aclose()


def worker_checks(settings: Settings, redis: Callable[[], ArqRedis | None]) -> dict[str, Check]:
    async def redis_ok() -> bool:
        client = redis()
        return client is not None and bool(await client.ping())

    async def heartbeat() -> bool:
        client = redis()
        return client is not None and bool(await client.exists(worker_health_key(settings)))

    return {"redis": redis_ok, "worker_heartbeat": heartbeat}


async def check_worker_heartbeat(settings: Settings) -> bool:
    """`imaginebot worker --check`: is any worker's heartbeat fresh?"""
    redis = await connect(settings, None)
    try:
        return bool(await redis.exists(worker_health_key(settings)))
    finally:
        await redis.aclose()
