"""The composition root and the top of the house: what each process is built from.

`BotApp.create` builds, from one `Settings`, the style catalogue, the safety checks, the
providers, the store, the queue, the service and the delivery coordinator, and (with
`chat=True`) the chat adapters whose tokens are set. `imaginebot run` then calls `serve`;
the one-shot commands and the tests `start` and `close` it themselves. Nothing else builds
these parts, and nothing below imports this module: adapters are handed the service and the
core's ports (bot/core/ports.py), never the app.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING

import httpx
from arq.connections import ArqRedis
from redis.exceptions import RedisError

from bot import __version__
from bot.adapters.base import PlatformAdapter
from bot.core import metrics
from bot.core.delivery.coordinator import DeliveryCoordinator, ResultChannel
from bot.core.delivery.housekeeping import Housekeeping
from bot.core.delivery.leases import RedisLease, RedisOnceOnly
from bot.core.generation.events import events_stream
from bot.core.generation.process_priority import lower_process_priority
from bot.core.generation.providers.base import Capabilities, ImageProvider
from bot.core.generation.providers.registry import build_providers
from bot.core.generation.queue import EmbeddedRedis, JobQueue, connect
from bot.core.images.files import ImageFiles
from bot.core.limits.safety import BannedTerms, Moderator, OpenAIModerator, TextGate
from bot.core.requests.prompt_translation import prompt_translation
from bot.core.requests.service import GenerationService
from bot.core.requests.styles import StyleCatalogue, load_catalogue
from bot.core.store import Store, open_configured_store
from bot.health_checks import bot_checks
from bot.heap import freeze_start_up_objects
from bot.http_client import http_client
from bot.provider_checks import log_provider_checks
from bot.settings import ConfigError, Settings
from bot.startup import StartupError, host_of
from bot.web.edit_orders import EditDesk, EditorSetup
from bot.web.embedded import EmbeddedGallery
from bot.worker_supervisor import InProcessWorker, serve_worker_process

# aiohttp's web server is only needed with HEALTH_PORT: imported where it is used.
if TYPE_CHECKING:
    from bot.health import HealthServer
    from bot.web.access import GalleryAccess
    from bot.web.links import EditorLinks

log = logging.getLogger(__name__)

NO_CHAT_PLATFORM = (
    "no chat platform configured. Set DISCORD_TOKEN and/or TELEGRAM_TOKEN "
    "(in the environment or in .env)."
)


def chat_adapters(
    settings: Settings,
    service: GenerationService,
    store: Store,
    gallery: GalleryAccess | None,
    editor: EditorLinks | None = None,
) -> list[PlatformAdapter]:
    """One adapter per chat token set. Each gets the service, the web gallery's links (None
    without one), the brush editor's (None where this process does not serve it) and, of
    the store, only the ports it keeps records through (the store satisfies them)."""
    adapters: list[PlatformAdapter] = []
    if settings.discord_token is not None:
        from bot.adapters.discord.adapter import DiscordAdapter

        adapters.append(
            DiscordAdapter(
                settings,
                service,
                handles=store,
                sync_state=store,
                gallery=gallery,
                editor=editor,
            )
        )
    if settings.telegram_token is not None:
        from bot.adapters.telegram.adapter import (  # type: ignore[import-untyped,unused-ignore]
            TelegramAdapter,
        )

        lease, seen = telegram_coordination(settings, service.queue.redis)
        adapters.append(
            TelegramAdapter(
                settings,
                service,
                handles=store,
                gallery=gallery,
                polling_lease=lease,
                seen_updates=seen,
                editor=editor,
            )
        )
    return adapters


def chat_adapters_with_editor(
    settings: Settings, service: GenerationService, store: Store, web: EmbeddedGallery | None
) -> list[PlatformAdapter]:
    """The chat adapters, and the brush editor's desks handed to the embedded gallery."""
    gallery = web.access if web is not None else None
    editor = web.editor_links if web is not None else None
    adapters = chat_adapters(settings, service, store, gallery, editor)
    if web is not None:
        web.edits = editor_setup(settings, adapters)
    return adapters


def editor_setup(settings: Settings, adapters: Sequence[PlatformAdapter]) -> EditorSetup:
    """The desks the brush editor hands its edits to: one per chat adapter that offers it."""
    desks: dict[str, EditDesk] = {}
    for adapter in adapters:
        desk = getattr(adapter, "edit_desk", None)
        if desk is not None:
            desks[adapter.platform] = desk
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else None
    return EditorSetup(
        desks, telegram_token=token, webapp_auth_seconds=settings.webapp_auth_seconds
    )


def telegram_coordination(
    settings: Settings, redis: ArqRedis
) -> tuple[RedisLease | None, RedisOnceOnly | None]:
    """With a shared Redis, several bot processes may serve one Telegram bot: long polling
    goes by a lease, and updates are de-duplicated across processes. The embedded Redis
    means one process: neither is needed."""
    if settings.embedded_queue:
        return None, None
    prefix = f"imaginebot:telegram:{settings.bot_instance}"
    return (
        RedisLease(redis, f"{prefix}:poller", ttl_seconds=settings.telegram_poll_lease_seconds),
        RedisOnceOnly(redis, f"{prefix}:seen", remember_seconds=24 * 3600),
    )


class BotApp:
    """Everything the bot process owns. Build with `create`, then `start` (or `serve`), then
    `close`."""

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
        web: EmbeddedGallery | None = None,
        adapters: Sequence[PlatformAdapter] = (),
    ) -> None:
        self.settings = settings
        self.store = store
        self.redis = redis
        self.embedded = embedded
        self.http = http
        self.providers = providers
        self.service = service
        self.coordinator = coordinator
        self.web = web
        self.adapters = tuple(adapters)
        for adapter in self.adapters:
            coordinator.register(adapter)
        coordinator.register(service.previews)  # a community style's preview pictures
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
        self._housekeeping: asyncio.Task[None] | None = None
        self.worker: InProcessWorker | None = None
        self._health: HealthServer | None = None
        self._started: list[PlatformAdapter] = []

    @property
    def gallery(self) -> GalleryAccess | None:
        return self.web.access if self.web is not None else None

    @classmethod
    async def create(cls, settings: Settings, *, chat: bool = False) -> BotApp:
        """Build every part; with `chat`, also the adapters of the chat tokens set (at least
        one must be)."""
        if chat and settings.discord_token is None and settings.telegram_token is None:
            raise ConfigError(NO_CHAT_PLATFORM)
        styles = checked_styles(settings)
        banned, moderator = content_checks(settings)
        http, providers, store = await open_providers_and_store(settings)
        embedded = EmbeddedRedis() if settings.embedded_queue else None
        try:
            redis = await connect(settings, embedded)
        except (RedisError, OSError):
            await store.close()
            await http.aclose()
            raise StartupError(redis_unreachable(settings)) from None
        files = ImageFiles(settings.images_dir)
        stream = events_stream(settings.bot_instance)
        queue = JobQueue(redis, settings)
        capabilities = {pid: p.capabilities for pid, p in providers.items()}
        service = GenerationService(
            settings=settings,
            store=store,
            styles=styles,
            queue=queue,
            capabilities=capabilities,
            reply_stream=stream,
            files=files,
            banned=banned,
            moderator=moderator,
            translation=prompt_translation(settings, store, redis, capabilities),
        )
        coordinator = build_coordinator(
            settings, redis, store, files, stream, service, capabilities, banned, moderator
        )
        web: EmbeddedGallery | None = None
        try:
            await service.load_quotas()
            web = await EmbeddedGallery.open(settings)  # None without PUBLIC_URL or WEB_PORT
            adapters = chat_adapters_with_editor(settings, service, store, web) if chat else []
        except BaseException:
            if web is not None:
                await web.close()
            with suppress(Exception):
                await redis.aclose()
            await store.close()
            await http.aclose()
            raise
        return cls(
            settings=settings,
            store=store,
            redis=redis,
            embedded=embedded,
            http=http,
            providers=providers,
            service=service,
            coordinator=coordinator,
            queue=queue,
            web=web,
            adapters=adapters,
        )

    def register(self, channel: ResultChannel) -> None:
        """A result channel built outside (the terminal of `imaginebot imagine`, a test's)."""
        self.coordinator.register(channel)

    async def start(
        self, *, resume: bool = True, worker: bool = True, serve_health: bool = True
    ) -> None:
        """Connect the chat adapters, then deliver (and, with `resume`, pick up what an
        earlier run left) and, with `worker`, generate in this process too."""
        for adapter in self.adapters:
            self._started.append(adapter)
            await adapter.start()
            log.info("%s adapter started", adapter.platform)
        await self.coordinator.start(resume=resume)
        if resume:
            self._housekeeping = asyncio.create_task(self.housekeeping.run(), name="housekeeping")
        if serve_health and self.settings.health_port:
            from bot.health import HealthServer

            checks = bot_checks(self.settings, self.redis, self.store, self.adapters)
            self._health = HealthServer(
                self.settings.health_port, checks, before_scrape=self._refresh_metrics
            )
            await self._health.start()
        if self.web is not None:
            await self.web.start()
        if worker:
            self.worker = InProcessWorker(self.settings, self.redis, self.embedded, self.providers)
            self.worker.start()

    async def serve(self, stop: asyncio.Event, *, worker: bool) -> None:
        """`imaginebot run`: start everything, run until `stop` is set, then stop it all."""
        provider_checks: asyncio.Task[None] | None = None
        try:
            await self.start(resume=True, worker=worker)
            # Everything start-up made lives as long as the process: no collection needs to
            # walk it again (bot/heap.py).
            freeze_start_up_objects()
            # Checked where the provider calls are made (here only with the worker in this
            # process; `imaginebot worker` checks its own), in the background: a slow
            # provider must not hold up the start.
            if worker:
                provider_checks = asyncio.create_task(log_provider_checks(self.settings))
            mode = "embedded queue" if self.settings.embedded_queue else "Redis queue"
            log.info(
                "imaginebot %s running (%s; providers %s; %s)",
                __version__,
                ", ".join(a.platform for a in self.adapters),
                ", ".join(self.settings.providers),
                mode + (", with a worker in this process" if worker else ""),
            )
            await stop.wait()
            log.info("stopping")
        finally:
            if provider_checks is not None:
                provider_checks.cancel()
            await self.close()

    async def _refresh_metrics(self) -> None:
        metrics.QUEUE_DEPTH.set(await self.service.queue.depth())

    async def purge_history(self) -> int:
        """Delete finished requests, their images and refusals past HISTORY_RETENTION_DAYS."""
        return await self.housekeeping.purge_history()

    async def close(self, *, drop_event_stream: bool = False) -> None:
        while self._started:
            adapter = self._started.pop()
            try:
                await adapter.stop()
            except Exception as exc:
                log.warning(
                    "stopping %s adapter failed (%s)",
                    adapter.platform,
                    exc.__class__.__name__,
                    exc_info=log.isEnabledFor(logging.DEBUG),
                )
        if self._health is not None:
            await self._health.stop()
        if self.web is not None:
            await self.web.close()
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with suppress(asyncio.CancelledError):
                await self._housekeeping
        if self.worker is not None:
            await self.worker.stop()
        await self.coordinator.stop()
        if self.service.translation is not None:
            await self.service.translation.aclose()
        if drop_event_stream:
            with suppress(Exception):
                await self.redis.delete(events_stream(self.settings.bot_instance))
        with suppress(Exception):
            await self.redis.aclose()
        await self.store.close()
        await self.http.aclose()


async def run_worker_process(settings: Settings) -> None:
    """`imaginebot worker`: generate jobs from Redis until SIGINT/SIGTERM."""
    if settings.embedded_queue:
        raise ConfigError("REDIS_URL: `imaginebot worker` needs a shared Redis; set REDIS_URL")
    # Before anything else starts a thread: a bot on this machine answers commands first.
    niceness = lower_process_priority(settings.worker_niceness)
    log.info("worker: CPU niceness %s (WORKER_NICENESS=%d)", niceness, settings.worker_niceness)
    http = http_client(settings)
    providers = build_providers(settings, http)
    try:
        await serve_worker_process(settings, providers)
    finally:
        for provider in providers.values():
            await provider.aclose()
        await http.aclose()


def checked_styles(settings: Settings) -> StyleCatalogue:
    """The style catalogue, with DEFAULT_STYLE one of its ids."""
    styles = load_catalogue()
    if settings.default_style not in styles:
        raise ConfigError(
            f"DEFAULT_STYLE: {settings.default_style!r} is not a style id; "
            f"choose one of {', '.join(styles.ids)}"
        )
    return styles


def content_checks(settings: Settings) -> tuple[BannedTerms, Moderator | None]:
    """The operator's banned terms and, with MODERATION=openai, the moderation client."""
    moderator = None
    if settings.moderation == "openai":
        if settings.openai_api_key is None:
            raise ConfigError("MODERATION=openai needs OPENAI_API_KEY")
        moderator = OpenAIModerator(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url,
            timeout=10.0,
        )
    try:
        banned = BannedTerms.load(settings.banned_terms_file)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"BANNED_TERMS_FILE: {exc}") from None
    return banned, moderator


def build_coordinator(
    settings: Settings,
    redis: ArqRedis,
    store: Store,
    files: ImageFiles,
    stream: str,
    service: GenerationService,
    capabilities: Mapping[str, Capabilities],
    banned: BannedTerms,
    moderator: Moderator | None,
) -> DeliveryCoordinator:
    return DeliveryCoordinator(
        redis=redis,
        store=store,
        files=files,
        stream=stream,
        resume_job=service.resume_job,
        on_settled=service.settled,
        delivery_deadline_seconds=settings.delivery_deadline_hours * 3600,
        capabilities=capabilities,  # which follow-up buttons a result offers
        claim_idle_seconds=settings.event_claim_idle_seconds,
        acknowledgements=service.acknowledgements,
        text_gate=TextGate(banned, moderator),
    )


def redis_unreachable(settings: Settings) -> str:
    return (
        f"Redis did not answer at {host_of(settings.redis_url, 'REDIS_URL')}; start "
        "Redis or fix REDIS_URL"
    )


async def open_providers_and_store(
    settings: Settings,
) -> tuple[httpx.AsyncClient, dict[str, ImageProvider], Store]:
    """The shared HTTP client, the providers on it and the store (the client closed again
    when either fails)."""
    http = http_client(settings)
    try:
        providers = build_providers(settings, http)
        store = await open_configured_store(settings)
    except BaseException:
        await http.aclose()
        raise
    return http, providers, store
