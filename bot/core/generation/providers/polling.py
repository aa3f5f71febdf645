"""The one submit / poll / cancel loop of the asynchronous providers (AI Horde, ComfyUI).

Both take a job, hand back an id, and are then asked "is it done?" at a steady pace; while
waiting, the queue position and estimate go to the chat's status message; when the bot gives
up (deadline, failure, cancellation) the provider is told to drop the job, so it does not run
for nobody. Each provider supplies only its own three calls.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.core.errors import ProviderTimeout
from bot.core.generation.providers.base import ProgressCallback
from bot.core.models import Status, StatusUpdate

T = TypeVar("T")


@dataclass(frozen=True)
class Poll(Generic[T]):
    """One answer to "is it done?": the result when it is, else where the job stands."""

    result: T | None = None
    position: int | None = None
    eta_seconds: float | None = None
    running: bool = False


@dataclass(frozen=True)
class Wording:
    """What the chat's status message says while the provider queues, then runs the job."""

    queued: str
    running: str
    gave_up: str  # the timeout's detail, e.g. "horde: gave up waiting"


async def follow(
    job_id: str,
    *,
    check: Callable[[str], Awaitable[Poll[T]]],
    cancel: Callable[[str], Awaitable[None]],
    progress: ProgressCallback,
    interval: float,
    deadline: float,
    wording: Wording,
) -> T:
    """Poll `check` every `interval` seconds until it has a result; `cancel` the job on any
    way out but success (timeout, a provider error, task cancellation)."""
    try:
        return await _wait(job_id, check, progress, interval, deadline, wording)
    except BaseException:
        await cancel(job_id)
        raise


async def _wait(
    job_id: str,
    check: Callable[[str], Awaitable[Poll[T]]],
    progress: ProgressCallback,
    interval: float,
    deadline: float,
    wording: Wording,
) -> T:
    last_shown: tuple[int | None, float | None, bool] | None = None
    while True:
        poll = await check(job_id)
        if poll.result is not None:
            return poll.result
        running = poll.running and not poll.position
        shown = (poll.position, poll.eta_seconds, running)
        if shown != last_shown:
            last_shown = shown
            await progress(
                StatusUpdate(
                    status=Status.RUNNING,
                    position=poll.position,
                    eta_seconds=poll.eta_seconds,
                    detail=wording.running if running else wording.queued,
                )
            )
        if time.monotonic() + interval > deadline:
            raise ProviderTimeout(wording.gave_up)
        await asyncio.sleep(interval)
