"""Telegram's flood control, kept on our side: one limiter for every call that creates or
changes a message.

Telegram counts sends *and* edits (`editMessageText`, `editMessageMedia`,
`editMessageCaption`, `editMessageReplyMarkup`) against about one message per second per
private chat (a short burst passes), 20 per minute per group and 30 per second overall; a
media group counts once per item. A bot that keeps calling while a `retry_after` runs earns
longer bans. Hand-written rather than python-telegram-bot's `AIORateLimiter` because that one
counts every call (reads and callback answers too), has no per-private-chat limit, lets a
leaky-bucket burst through that Telegram answers with 429, and knows no priorities.

- **Windows.** Each scope (a chat, and everything) is a sliding window of `limit` calls per
  `period`. A call holds its place while in flight and for a full period *after Telegram
  answered it*, so however calls are delayed on the way, Telegram never counts more than the
  limit within one period.
- **Priorities.** Waiters for a window are served by priority, then arrival: the finished
  picture (`PICTURE`) before replies (`REPLY`). A status edit (`STATUS`) never waits: it is
  made only from spare budget (a free place now, nobody waiting, and more than a quarter of
  the window free) and otherwise refused at once with `OverBudget`, so the caller can show
  it later or not at all.
- **429.** Telegram does not say which limit a 429 is for. The chat it came from pauses for
  the whole `retry_after` (every later call to it waits, including the retry); everything
  pauses for at most a second (the overall limit's own period). A 429 from a second chat
  while the first chat's pause still runs means the limit was overall after all: then every
  chat waits the whole time.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from enum import IntEnum
from typing import Any

from telegram.error import RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]
ChatKey = int | str

# Bot API methods that create or change a message: the ones Telegram's flood control counts.
COUNTED_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "sendAnimation",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendSticker",
        "sendPoll",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
        "editMessageText",
        "editMessageMedia",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)
PRIVATE_BURST = 3  # a private chat: this many messages per PRIVATE_PERIOD seconds
PRIVATE_PERIOD = 3.0
OVERALL_PAUSE_CAP = 1.0  # a 429 from one chat pauses the others this long at most
MAX_CHATS = 10_000
UNLIMITED = 1_000_000  # a window that only keeps pauses (its limit is turned off)


class Priority(IntEnum):
    PICTURE = 0  # a request's finished picture: first in line
    REPLY = 1  # acknowledgements and answers to commands
    STATUS = 2  # intermediate status edits: spare budget only, never waits


@dataclass(frozen=True)
class Spend:
    """What a call tells the limiter (python-telegram-bot's `rate_limit_args`)."""

    priority: Priority = Priority.REPLY
    retries: int | None = None  # 429s retried here; None: the limiter's default


PICTURE = Spend(Priority.PICTURE, retries=0)  # delivery owns the picture's retries
REPLY = Spend(Priority.REPLY)
STATUS = Spend(Priority.STATUS, retries=0)


class OverBudget(TelegramError):
    """A status edit refused by our limiter: it was not sent, nothing was spent."""

    def __init__(self) -> None:
        super().__init__("not sent: the chat's message budget is kept for pictures")


def retry_seconds(exc: RetryAfter) -> float:
    value: object = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)  # type: ignore[arg-type]


class Window:
    """At most `limit` calls per `period` seconds in one scope, counted from each answer."""

    def __init__(self, limit: int, period: float, clock: Callable[[], float]) -> None:
        self.limit = max(1, limit)
        self.period = period
        self._clock = clock
        self._ended: deque[float] = deque()  # answer times of finished calls, oldest first
        self._in_flight = 0
        self.paused_until = 0.0
        self._waiters: list[tuple[int, int]] = []  # (priority, arrival), a heap
        self._changed = asyncio.Event()

    def held(self, now: float | None = None) -> int:
        now = self._clock() if now is None else now
        while self._ended and self._ended[0] <= now - self.period:
            self._ended.popleft()
        return len(self._ended) + self._in_flight

    def free(self) -> int:
        return max(0, self.limit - self.held())

    def waiting(self) -> int:
        return len(self._waiters)

    def _delay(self, now: float, places: int) -> float | None:
        """0 when `places` are free now; else seconds until they may be, None: an answer."""
        if self.paused_until > now:
            return self.paused_until - now
        held = self.held(now)
        if held + places <= self.limit:
            return 0.0
        need = held + places - self.limit
        if need <= len(self._ended):
            # Enough answered calls will age out: wait for the one that frees the last place.
            return max(0.001, self._ended[need - 1] + self.period - now)
        return None  # the places are in flight: wait for an answer

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def places(self, units: int) -> int:
        """A media group larger than the window fills it: it waits for the window to empty."""
        return min(units, self.limit)

    async def acquire(self, priority: int, arrival: int, units: int = 1) -> None:
        places = self.places(units)
        entry = (priority, arrival)
        heapq.heappush(self._waiters, entry)
        try:
            while True:
                delay = self._delay(self._clock(), places) if self._waiters[0] == entry else None
                if delay == 0.0:
                    heapq.heappop(self._waiters)
                    self._in_flight += places
                    self._wake()  # the next waiter may go too
                    return
                changed = self._changed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), delay)
        except BaseException:
            if entry in self._waiters:
                self._waiters.remove(entry)
                heapq.heapify(self._waiters)
                self._wake()
            raise

    def try_acquire(self, units: int = 1) -> bool:
        """Places from spare budget only: free now, nobody waiting, a quarter kept free."""
        now = self._clock()
        places = self.places(units)
        if self._waiters or self._delay(now, places) != 0.0:
            return False
        if self.limit - self.held(now) - places < self.limit // 4:
            return False
        self._in_flight += places
        return True

    def release(self, units: int = 1) -> None:
        """The call was answered (or failed on the way): it counts for a period from now."""
        self._in_flight -= self.places(units)
        self._ended.extend([self._clock()] * units)
        self._wake()

    def cancel(self, units: int = 1) -> None:
        """Places taken for a call that was never made."""
        self._in_flight -= self.places(units)
        self._wake()

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self._clock() + seconds)

    def idle(self) -> bool:
        return not self._waiters and self.held() == 0 and self.paused_until <= self._clock()

    @property
    def unlimited(self) -> bool:
        return self.limit >= UNLIMITED


class FloodLimiter(BaseRateLimiter[Spend]):
    """Telegram's flood limits for sends and edits: per chat, per group, overall."""

    def __init__(
        self,
        *,
        overall_per_second: float,
        group_per_minute: float,
        private_burst: int = PRIVATE_BURST,
        private_period: float = PRIVATE_PERIOD,
        max_retries: int = 3,
        group_period: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._overall = _window_for(overall_per_second, 1.0, clock) if overall_per_second else None
        self._group_rate = group_per_minute
        self._group_period = group_period
        self._private = (private_burst, private_period)
        self._chats: dict[ChatKey, Window] = {}
        self._max_retries = max_retries
        self._arrivals = itertools.count()
        self._last_429: tuple[ChatKey | None, float] = (None, 0.0)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    # -- what the adapter asks ----------------------------------------------------------------

    def window(self, chat_id: ChatKey) -> Window:
        """The chat's own window."""
        window = self._chats.get(chat_id)
        if window is not None:
            return window
        if _is_group(chat_id):
            if self._group_rate:
                window = _window_for(self._group_rate, self._group_period, self._clock)
            else:  # no limit, but a 429's pause still holds every call to the group
                window = Window(UNLIMITED, 1.0, self._clock)
        else:
            window = Window(self._private[0], self._private[1], self._clock)
        if len(self._chats) >= MAX_CHATS:  # forget chats that went quiet
            self._chats = {k: w for k, w in self._chats.items() if not w.idle()}
        self._chats[chat_id] = window
        return window

    def free(self, chat_id: ChatKey) -> int | None:
        """Places free in the chat's window now (None: no limit), waiters counted as taken."""
        window = self.window(chat_id)
        return None if window.unlimited else max(0, window.free() - window.waiting())

    # -- python-telegram-bot's hook -------------------------------------------------------------

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Spend | None,
    ) -> JSONResult:
        if endpoint not in COUNTED_METHODS:
            return await callback(*args, **kwargs)
        spend = rate_limit_args or Spend()
        chat = _chat_of(data)
        windows = [w for w in (self.window(chat) if chat is not None else None, self._overall) if w]
        media = data.get("media")
        units = len(media) if endpoint == "sendMediaGroup" and isinstance(media, list) else 1
        retries = self._max_retries if spend.retries is None else spend.retries
        for attempt in range(retries + 1):
            taken: list[Window] = []
            called = False
            try:
                # The chat's places first: a call waiting for a quiet group must not hold
                # one of the overall places other chats could use.
                for window in windows:
                    if spend.priority is Priority.STATUS:
                        if not window.try_acquire(units):
                            raise OverBudget
                    else:
                        await window.acquire(spend.priority, next(self._arrivals), units)
                    taken.append(window)
                called = True
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                pause = retry_seconds(exc)
                self._paused(chat, pause)
                log.warning("Telegram asked to slow down for %.0f s (%s)", pause, endpoint)
                if attempt == retries:
                    raise
            finally:
                for window in taken:
                    if called:
                        window.release(units)
                    else:
                        window.cancel(units)  # never sent: it spent nothing
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _paused(self, chat: ChatKey | None, seconds: float) -> None:
        now = self._clock()
        last_chat, last_until = self._last_429
        overall = chat is None or (last_chat not in (None, chat) and last_until > now)
        if chat is not None:
            self.window(chat).pause(seconds)
            self._last_429 = (chat, max(now + seconds, last_until if last_chat == chat else 0))
        if self._overall is not None:
            self._overall.pause(seconds if overall else min(seconds, OVERALL_PAUSE_CAP))
        elif overall:  # no overall window to pause: pause every chat instead
            for window in self._chats.values():
                window.pause(seconds)


def _window_for(rate: float, period: float, clock: Callable[[], float]) -> Window:
    """`rate` calls per `period` as whole calls per window: 0.5/s becomes 1 per 2 s."""
    limit = max(1, round(rate))
    return Window(limit, period * limit / rate, clock)


def _is_group(chat_id: ChatKey) -> bool:
    """Negative ids are groups and channels; a string id is a channel's @name."""
    return isinstance(chat_id, str) or chat_id < 0


def _chat_of(data: dict[str, Any]) -> ChatKey | None:
    chat_id: object = data.get("chat_id")
    with contextlib.suppress(TypeError, ValueError):
        chat_id = int(chat_id)  # type: ignore[call-overload]
    return chat_id if isinstance(chat_id, int | str) else None
