"""Builds ARQ workers from the settings: in-process (embedded mode) or `imaginebot worker`."""

from __future__ import annotations

import logging
from typing import Any

from arq import Worker
from arq.connections import ArqRedis
from arq.worker import func

from bot.core.generation.jobs import WorkerRuntime, generate
from bot.core.generation.queue import (
    JOB_FUNCTION,
    EmbeddedWorker,
    QuickPollWorker,
    pack,
    unpack_job,
    wake_key,
)
from bot.settings import Settings

log = logging.getLogger(__name__)

HEALTH_CHECK_SECONDS = 5


def build_worker(
    settings: Settings,
    redis: ArqRedis,
    runtime: WorkerRuntime,
    *,
    embedded: bool,
    handle_signals: bool,
) -> Worker:
    worker_class = EmbeddedWorker if embedded else QuickPollWorker
    kwargs: dict[str, Any] = {
        "functions": [
            func(
                generate,
                name=JOB_FUNCTION,
                # One more try than configured: the last one only reports that the
                # worker kept dying, so a request never ends silently.
                max_tries=settings.job_max_tries + 1,
                timeout=settings.job_timeout_seconds,
            )
        ],
        "redis_pool": redis,
        "queue_name": settings.queue_name,
        "max_jobs": settings.worker_max_jobs,
        "poll_delay": settings.worker_poll_delay_seconds,
        "job_timeout": settings.job_timeout_seconds,
        # No results kept: the bot learns the outcome from the event stream, and the final
        # event's marker (queue.finished_key) guards against running a finished job again.
        "keep_result": 0,
        "max_tries": settings.job_max_tries + 1,
        "handle_signals": handle_signals,
        "job_serializer": pack,
        # A job that is not msgpack or not ARQ's envelope still reaches `generate`, which
        # dead-letters it (see queue.unpack_job).
        "job_deserializer": unpack_job,
        "health_check_interval": HEALTH_CHECK_SECONDS,
        "ctx": {"runtime": runtime, "queue_name": settings.queue_name},
        "log_results": False,
        "allow_abort_jobs": True,
        # On SIGTERM/SIGINT: stop taking jobs, let running ones finish for a while, then
        # cancel the rest, which ARQ hands back to the queue for another worker.
        "job_completion_wait": settings.worker_shutdown_grace_seconds if handle_signals else 0,
    }
    if not embedded:
        # The wait between polls is the blocking read of the wake-up list instead.
        kwargs["poll_delay"] = 0.0
    worker = worker_class(**kwargs)
    worker.admission = runtime.admission
    if not embedded:
        # The in-process stand-in keeps plain polling: it has no blocking reads to wait on.
        worker.wake_key = wake_key(settings.queue_name)
        worker.idle_wait_s = settings.worker_poll_delay_seconds
    return worker
