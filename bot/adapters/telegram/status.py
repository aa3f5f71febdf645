"""Live status of a request, shown by editing its status reply: coalesced and throttled.

Each request's status reply is the acknowledgement ("Queued…"); later the picture replaces
it. In between, the queue position and "Generating…" are worth showing only when the user
actually waits for them, so edits are held back: none in the first `grace` seconds after
the reply, at most one per `interval` afterwards, and only the latest text is sent. A
request that is done within the grace period costs two Bot API calls (the reply and the
photo), whatever happened in between; under a burst that halves the bot's calls.

Telegram counts edits against the chat's flood budget, so an intermediate edit is made only
from spare budget: when the limiter refuses it (`OverBudget`), nothing was sent and the
latest text is tried again an interval later (the picture usually replaces it first). The
final word on a request that failed (`show_now`) is not intermediate: it waits its turn.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram.error import TelegramError

from bot.adapters.telegram.flood import OverBudget

log = logging.getLogger(__name__)

Key = tuple[int, int]  # (chat id, status message id)
EditFn = Callable[[int, int, str], Awaitable[None]]
MAX_TRACKED = 50_000


@dataclass
class _Status:
    shown: str
    not_before: float  # no edit before this (monotonic)
    wanted: str | None = None
    timer: asyncio.TimerHandle | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


class StatusEditor:
    def __init__(
        self,
        edit: EditFn,
        *,
        final_edit: EditFn | None = None,
        grace: float,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._edit = edit
        self._final_edit = final_edit or edit
        self.grace = grace
        self.interval = interval
        self._clock = clock
        self._statuses: dict[Key, _Status] = {}

    def track(self, chat_id: int, message_id: int, shown: str) -> None:
        """A status reply was just sent showing `shown`."""
        if len(self._statuses) >= MAX_TRACKED:
            # Requests that never ended (should not happen: expiry ends them) go first.
            for key in list(self._statuses)[: MAX_TRACKED // 10]:
                self.close(*key)
        self._statuses[(chat_id, message_id)] = _Status(shown, self._clock() + self.grace)

    async def show(self, chat_id: int, message_id: int, text: str) -> None:
        """Show `text` when the grace period and the throttle allow; only the latest counts."""
        key = (chat_id, message_id)
        status = self._statuses.get(key)
        if status is None:
            # Not tracked (e.g. a request resumed after a restart): no grace period.
            status = self._statuses[key] = _Status("", self._clock())
        if text == status.shown:
            status.wanted = None
            return
        status.wanted = text
        delay = status.not_before - self._clock()
        if delay <= 0 and status.timer is None:
            await self._flush(key, status)
        elif status.timer is None:
            status.timer = asyncio.get_running_loop().call_later(delay, self._due, key)

    async def show_now(self, chat_id: int, message_id: int, text: str) -> None:
        """The request ended without a picture: show `text` now and stop tracking."""
        self.close(chat_id, message_id)
        await self._final_edit(chat_id, message_id, text)

    def close(self, chat_id: int, message_id: int) -> None:
        """The request ended: nothing pending may edit its message any more."""
        status = self._statuses.pop((chat_id, message_id), None)
        if status is not None and status.timer is not None:
            status.timer.cancel()

    def close_all(self) -> None:
        for key in list(self._statuses):
            self.close(*key)

    def tracked(self) -> int:
        return len(self._statuses)

    def _due(self, key: Key) -> None:
        status = self._statuses.get(key)
        if status is None:
            return
        status.timer = None
        task = asyncio.get_running_loop().create_task(self._flush(key, status))
        status.tasks.add(task)
        task.add_done_callback(status.tasks.discard)

    async def _flush(self, key: Key, status: _Status) -> None:
        text = status.wanted
        if text is None or self._statuses.get(key) is not status:
            return
        status.wanted = None
        shown, status.shown = status.shown, text
        status.not_before = self._clock() + self.interval
        try:
            await self._edit(key[0], key[1], text)
        except OverBudget:
            # Not sent: try the latest text again after an interval, unless it changed back.
            status.shown = shown
            if status.wanted is None and text != shown:
                status.wanted = text
        except TelegramError as exc:
            # A status line is best effort: the picture or the failure message follows.
            log.debug("status edit of %s failed: %s", key, exc)
        if status.wanted is not None and status.timer is None and key in self._statuses:
            delay = max(0.0, status.not_before - self._clock())
            status.timer = asyncio.get_running_loop().call_later(delay, self._due, key)
