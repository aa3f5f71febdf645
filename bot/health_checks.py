"""What /healthz checks, for the bot process and for worker processes.

Built here, without the web server, so the checks can be read (and tested) on their own:
bot/health.py serves them. Each check answers one question with True or False; a check that
raises counts as failing.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

from arq.connections import ArqRedis

from bot.adapters.base import PlatformAdapter
from bot.core.generation.queue import health_key
from bot.core.ports import SyncState
from bot.settings import Settings

Check = Callable[[], Awaitable[bool]]


def worker_health_key(settings: Settings) -> str:
    return health_key(settings.queue_name)


def worker_checks(settings: Settings, redis: Callable[[], ArqRedis | None]) -> dict[str, Check]:
    """Redis answers, and some worker's heartbeat is fresh (`redis` gives the newest
    connection: a worker process rebuilds it after an outage)."""

    async def redis_ok() -> bool:
        client = redis()
        return client is not None and bool(await client.ping())

    async def heartbeat() -> bool:
        client = redis()
        return client is not None and bool(await client.exists(worker_health_key(settings)))

    return {"redis": redis_ok, "worker_heartbeat": heartbeat}


def adapter_check(adapter: PlatformAdapter) -> Check:
    async def check() -> bool:
        return adapter.healthy()

    return check


def bot_checks(
    settings: Settings,
    redis: ArqRedis,
    store: SyncState,
    adapters: Iterable[PlatformAdapter],
) -> dict[str, Check]:
    """The bot process: the database takes a write, one check per chat adapter named by its
    platform (each reports its own real connection: Discord's gateway READY, Telegram's last
    poll reaching Telegram), the worker heartbeat, and Redis."""

    async def sqlite_writable() -> bool:
        await store.set_state("health", str(time.time()))
        return True

    checks: dict[str, Check] = {"sqlite": sqlite_writable}
    for adapter in adapters:
        checks[adapter.platform] = adapter_check(adapter)
    checks.update(worker_checks(settings, lambda: redis))
    return checks
