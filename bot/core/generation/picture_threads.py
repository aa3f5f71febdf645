"""Picture work a worker does itself (composing a grid): on threads that yield the CPU.

A worker and a bot often share a machine (the compose file's default, `imaginebot run` with
its embedded worker). Composing a grid costs tens of milliseconds of CPU per request; in a
burst, hundreds of them would take the cores from the bot, whose one event loop must keep
acknowledging commands within a second. So this work runs on threads of its own whose
scheduling priority is lowered (niceness +10: Linux sets it per thread): the bot, and the
worker's own event loop, come first, and the grids use what CPU is left. Where a thread's
priority cannot be changed (another OS, a sandbox that forbids it), the threads run at the
normal priority.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

from bot.core.generation.process_priority import lower_thread_priority

log = logging.getLogger(__name__)

NICENESS = 10
THREADS = 2

P = ParamSpec("P")
T = TypeVar("T")


def _lower_priority() -> None:
    try:
        # Relative to the priority the thread started with (the process's).
        lower_thread_priority(threading.get_native_id(), NICENESS)
    except (AttributeError, OSError) as exc:
        log.debug("picture threads keep the normal priority: %s", exc)


_threads = ThreadPoolExecutor(THREADS, "pictures", initializer=_lower_priority)


async def in_background(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`function(*args, **kwargs)` on a low-priority picture thread."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_threads, partial(function, *args, **kwargs))
