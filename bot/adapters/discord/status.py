"""Throttled status edits of acknowledgement messages.

Each request's message is edited at most once per `interval` and never to the same text
twice, so a busy queue cannot push the bot into Discord's rate limits. An update arriving
inside the interval is kept and shown when the interval ends, unless the result came first.
Once a request is final (delivered or failed), no status edit may overwrite it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

log = logging.getLogger(__name__)

EditFn = Callable[[str], Awaitable[object]]
FINAL_MEMORY = 10_000  # finished ids remembered so a late status event cannot reopen one


class StatusBoard:
    def __init__(self, interval: float = 1.5) -> None:
        self.interval = interval
        self._last: dict[str, tuple[float, str]] = {}
        self._pending: dict[str, tuple[EditFn, str]] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._final: OrderedDict[str, None] = OrderedDict()

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    def is_final(self, key: str) -> bool:
        return key in self._final

    async def show(self, key: str, text: str, edit: EditFn) -> None:
        if key in self._final:
            return
        last = self._last.get(key)
        pending = self._pending.get(key)
        if (pending and pending[1] == text) or (not pending and last and last[1] == text):
            return
        wait = self.interval - (time.monotonic() - last[0]) if last else 0.0
        if wait > 0:
            self._pending[key] = (edit, text)
            if key not in self._timers:
                self._timers[key] = asyncio.create_task(self._later(key, wait))
            return
        await self._edit(key, text, edit)

    async def _later(self, key: str, wait: float) -> None:
        try:
            await asyncio.sleep(wait)
        finally:
            self._timers.pop(key, None)
        pending = self._pending.pop(key, None)
        if pending is not None:
            try:
                await self._edit(key, pending[1], pending[0])
            except Exception:
                log.warning("status edit failed", exc_info=True)

    async def _edit(self, key: str, text: str, edit: EditFn) -> None:
        async with self._lock(key):
            if key in self._final:
                return
            self._last[key] = (time.monotonic(), text)
            await edit(text)

    @asynccontextmanager
    async def finishing(self, key: str) -> AsyncIterator[None]:
        """Hold off status edits while the final message is written; none may follow it."""
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        self._pending.pop(key, None)
        async with self._lock(key):
            self._final[key] = None
            self._final.move_to_end(key)
            while len(self._final) > FINAL_MEMORY:
                self._final.popitem(last=False)
            yield
        self._last.pop(key, None)
        self._locks.pop(key, None)

    async def close(self) -> None:
        timers = list(self._timers.values())
        for timer in timers:
            timer.cancel()
        for timer in timers:
            with suppress(asyncio.CancelledError):
                await timer
