"""A worker process yields the CPU to a bot on the same machine (`WORKER_NICENESS`).

A bot has one event loop that must acknowledge every command within a second; a worker's
work (decoding a provider's answer, checking its pictures, composing a grid, packing the
result) can wait a few milliseconds more. When both share a machine's cores in a burst,
equal priorities let the workers take the cores the bot needs: measured in the grid
benchmark (docs/benchmarks.md), acknowledgements of a burst of four-picture requests were
slower than of single pictures only because the workers then used more CPU. A lower
priority costs a worker nothing when the CPU is free, or on a machine of its own.

Linux keeps niceness per thread, and a thread inherits it from the thread that starts it:
so every thread the process has is lowered, and the threads it starts later follow.
"""

from __future__ import annotations

import logging
import os
from contextlib import suppress
from pathlib import Path

log = logging.getLogger(__name__)

TASKS = Path("/proc/self/task")


def lower_thread_priority(thread: int, increment: int) -> None:
    """Add `increment` to one thread's niceness (its native id; 0: the calling thread),
    never past 19, the lowest priority. Raises OSError where that is not allowed."""
    # PRIO_PROCESS with a thread's id: on Linux that thread alone.
    current = os.getpriority(os.PRIO_PROCESS, thread)
    os.setpriority(os.PRIO_PROCESS, thread, min(19, current + increment))


def lower_process_priority(increment: int) -> int | None:
    """Add `increment` to the niceness of every thread of this process; returns the
    process's niceness after, or None where it cannot be read or changed (another OS, a
    sandbox that forbids it: the process keeps its priority)."""
    if not hasattr(os, "getpriority"):
        if increment > 0:
            log.warning("worker: CPU priority not lowered (not supported here)")
        return None
    try:
        if increment > 0:
            threads = [int(name) for name in os.listdir(TASKS)] if TASKS.is_dir() else [0]
            for thread in threads:
                with suppress(ProcessLookupError):  # a thread that ended meanwhile
                    lower_thread_priority(thread, increment)
        return os.getpriority(os.PRIO_PROCESS, 0)
    except OSError as exc:
        log.warning("worker: CPU priority not lowered (%s)", exc)
        return None
