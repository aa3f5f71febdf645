"""Live status of a request on Telegram, shown by editing its status reply.

The rules (grace period, throttle, only the latest text, nothing after the final word) are
the core's `StatusThrottle`; this module says how Telegram edits a status reply and which
errors mean what. Each request's status reply is the acknowledgement ("Queued…"); later the
picture replaces it. A request that is done within the grace period costs two Bot API calls
(the reply and the photo), whatever happened in between; under a burst that halves the
bot's calls.

Telegram counts edits against the chat's flood budget, so an intermediate edit is made only
from spare budget: when the limiter refuses it (`OverBudget`), nothing was sent and the
latest text is tried again an interval later (the picture usually replaces it first). The
final word on a request that failed (`show_now`) is not intermediate: it waits its turn.
However the flood control is set (or turned off, for a local Bot API server), intermediate
edits are also capped per process (`per_second`): each costs the bot about a millisecond of
CPU, and in a burst they would take it from the acknowledgements.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from telegram.error import TelegramError

from bot.adapters.telegram.flood import OverBudget
from bot.core.delivery.status_throttle import StatusThrottle

Key = tuple[int, int]  # (chat id, status message id)
EditFn = Callable[[int, int, str], Awaitable[None]]


class StatusEditor:
    def __init__(
        self,
        edit: EditFn,
        *,
        final_edit: EditFn | None = None,
        grace: float,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        per_second: float | None = None,
    ) -> None:
        self._edit = edit
        self._final_edit = final_edit or edit
        self._throttle: StatusThrottle[Key] = StatusThrottle(
            interval=interval,
            grace=grace,
            deferred=(OverBudget,),
            expected=(TelegramError,),
            clock=clock,
            per_second=per_second,
        )

    def track(self, chat_id: int, message_id: int, shown: str) -> None:
        """A status reply was just sent showing `shown`."""
        self._throttle.track((chat_id, message_id), shown)

    async def show(self, chat_id: int, message_id: int, text: str) -> None:
        """Show `text` when the grace period and the throttle allow; only the latest counts."""

        async def edit(latest: str) -> None:
            await self._edit(chat_id, message_id, latest)

        await self._throttle.show((chat_id, message_id), text, edit)

    async def show_now(self, chat_id: int, message_id: int, text: str) -> None:
        """The request ended without a picture: show `text` now and stop tracking."""
        async with self.finishing(chat_id, message_id):
            await self._final_edit(chat_id, message_id, text)

    @asynccontextmanager
    async def finishing(self, chat_id: int, message_id: int) -> AsyncIterator[None]:
        """The picture replaces the status reply inside this block; no status edit follows."""
        async with self._throttle.finishing((chat_id, message_id)):
            yield

    def close(self, chat_id: int, message_id: int) -> None:
        """The request ended: nothing pending may edit its message any more."""
        self._throttle.close((chat_id, message_id))

    async def aclose(self) -> None:
        await self._throttle.aclose()

    def tracked(self) -> int:
        return self._throttle.tracked()
