"""Telegram long polling by one process of the deployment at a time.

Telegram answers a second concurrent `getUpdates` with 409 Conflict, so bot processes that
share a token take turns through a lease (`bot.core.ports.Lease`): the holder polls and
renews the lease every third of its time to live; the others stay connected (they deliver
results over the Bot API like the holder) and try to take the lease every second, so one of
them is polling within the lease's time to live of the holder's death. A holder that fails
to renew stops polling at once: the lease may be someone else's by then.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from bot.core.ports import Lease

log = logging.getLogger(__name__)

TAKEOVER_TRY_SECONDS = 1.0


class LeasedPolling:
    def __init__(
        self,
        lease: Lease,
        *,
        start_polling: Callable[[], Awaitable[None]],
        stop_polling: Callable[[], Awaitable[None]],
    ) -> None:
        self._lease = lease
        self._start_polling = start_polling
        self._stop_polling = stop_polling
        self.polling = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Poll now if nobody else does (a start-up error surfaces here), then keep turns."""
        await self._step()
        self._task = asyncio.create_task(self._run(), name="telegram-polling-lease")

    @property
    def alive(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _step(self) -> None:
        if self.polling:
            if not await self._lease.renew():
                log.warning("Telegram polling lease lost; another bot process polls now")
                self.polling = False
                await self._stop_polling()
            return
        if await self._lease.acquire():
            log.info("took the Telegram polling lease; polling for updates")
            self.polling = True
            try:
                await self._start_polling()
            except BaseException:
                self.polling = False
                with suppress(Exception):
                    await self._lease.release()
                raise

    async def _run(self) -> None:
        while True:
            pause = self._lease.ttl_seconds / 3 if self.polling else TAKEOVER_TRY_SECONDS
            await asyncio.sleep(pause)
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception:
                # Redis away: a holder that cannot renew must assume it lost the lease.
                log.warning("Telegram polling lease not renewed", exc_info=True)
                if self.polling:
                    self.polling = False
                    with suppress(Exception):
                        await self._stop_polling()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        if self.polling:
            self.polling = False
            await self._stop_polling()
            with suppress(Exception):
                await self._lease.release()  # another process may take over at once
