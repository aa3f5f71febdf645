"""How the bot talks to the Bot API: an aiohttp transport and a limiter for messages sent.

Why not python-telegram-bot's defaults:

- `HTTPXRequest` keeps a pool of up to 256 connections and httpcore scans every pooled
  connection (asking anyio whether it expired) on each request; under load that scan was
  most of the bot's CPU (profiled: 36 % of the bot's time in a 500-command burst). aiohttp,
  which discord.py already brings, hands out pooled connections in constant time.
- `AIORateLimiter` counts every call against Telegram's 30/s and 20/min-per-group limits,
  edits and chat actions included, while Telegram counts messages sent; it also lets a
  leaky-bucket burst through that Telegram then answers with 429. `SendLimiter` counts only
  messages sent, and a send leaves the window a full period *after Telegram answered it*,
  so however the requests are delayed on the way, Telegram never sees more than the limit
  within one period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import aiohttp
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]

# Bot API methods that post a new message: the ones Telegram's flood limits count.
SENDING_METHODS = frozenset(
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
    }
)


def _seconds(value: object, default: float | None) -> float | None:
    """PTB passes DEFAULT_NONE for "use your default"; None means no timeout."""
    if isinstance(value, int | float):
        return float(value)
    if value is None:
        return None
    return default


def _retry_seconds(exc: RetryAfter) -> float:
    value: object = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)  # type: ignore[arg-type]


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one aiohttp session; same timeouts and errors as PTB's own."""

    def __init__(
        self,
        *,
        connections: int = 64,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 20.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 5.0,
    ) -> None:
        self._connections = connections
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized")
        read = _seconds(read_timeout, self._read)
        connect = _seconds(connect_timeout, self._connect)
        pool = _seconds(pool_timeout, self._pool)
        write = _seconds(write_timeout, self._write)
        body: aiohttp.FormData | dict[str, str] | None = None
        if request_data is not None:
            files = request_data.multipart_data
            if files:
                form = aiohttp.FormData(request_data.json_parameters)
                for name, (filename, content, mimetype) in files.items():
                    form.add_field(name, content, filename=filename, content_type=mimetype)
                body = form
            else:
                body = request_data.json_parameters
        # aiohttp has no write timeout of its own: the total allows for writing the body;
        # `connect` covers waiting for a pooled connection and connecting.
        total = None
        if read is not None:
            total = read + (write or 0.0) + (connect or 0.0) + (pool or 0.0)
        timeout = aiohttp.ClientTimeout(
            total=total,
            connect=None if connect is None and pool is None else (connect or 0.0) + (pool or 0.0),
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with self._session.request(method, url, data=body, timeout=timeout) as resp:
                return resp.status, await resp.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            # The class name says which network failure it was when the message is empty.
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc


class SlidingWindow:
    """At most `limit` sends per `period` seconds, counted from when Telegram answered each.

    A send in flight holds its place; when it ends (answered or failed) it keeps holding
    it for `period` more seconds. Waiters are served in arrival order.
    """

    def __init__(self, limit: int, period: float, clock: Callable[[], float]) -> None:
        self.limit = max(1, limit)
        self.period = period
        self._clock = clock
        self._ended: deque[float] = deque()  # end times of finished sends, oldest first
        self._in_flight = 0
        self._turn = asyncio.Lock()

    def _held(self, now: float) -> int:
        while self._ended and self._ended[0] <= now - self.period:
            self._ended.popleft()
        return len(self._ended) + self._in_flight

    async def acquire(self) -> None:
        async with self._turn:
            while self._held(self._clock()) >= self.limit:
                if self._ended:
                    await asyncio.sleep(max(0.001, self._ended[0] + self.period - self._clock()))
                else:
                    await asyncio.sleep(0.005)  # every place is in flight: wait for an answer
            self._in_flight += 1

    def release(self) -> None:
        self._in_flight -= 1
        self._ended.append(self._clock())

    def idle(self) -> bool:
        return self._in_flight == 0 and self._held(self._clock()) == 0


def window_for(rate: float, period: float, clock: Callable[[], float]) -> SlidingWindow:
    """`rate` sends per `period` as whole sends per window: 0.5/s becomes 1 per 2 s."""
    limit = max(1, round(rate))
    return SlidingWindow(limit, period * limit / rate, clock)


class SendLimiter(BaseRateLimiter[int]):
    """Telegram's flood limits for messages sent: overall per second, per group per minute.

    Edits, chat actions, callback answers and reads are not counted (the adapter throttles
    edits of one message itself). A 429 pauses every counted send for its `retry_after`
    and the request is tried again, up to `max_retries` times.
    """

    def __init__(
        self,
        *,
        overall_per_second: float,
        group_per_minute: float,
        max_retries: int = 3,
        group_period: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._group_period = group_period
        self._overall = window_for(overall_per_second, 1.0, clock) if overall_per_second else None
        self._group_rate = group_per_minute
        self._groups: dict[int | str, SlidingWindow] = {}
        self._max_retries = max_retries
        # Key None pauses every send; a group's key pauses only that group.
        self._paused_until: dict[int | str | None, float] = {}

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @staticmethod
    def _group_of(data: dict[str, Any]) -> int | str | None:
        """Negative ids are groups and channels; a string id is a channel's @name."""
        chat_id: object = data.get("chat_id")
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id)  # type: ignore[call-overload]
        if isinstance(chat_id, int):
            return chat_id if chat_id < 0 else None
        return chat_id if isinstance(chat_id, str) else None

    def _group_window(self, group: int | str) -> SlidingWindow:
        window = self._groups.get(group)
        if window is None:
            if len(self._groups) > 10_000:  # forget groups that went quiet
                self._groups = {k: w for k, w in self._groups.items() if not w.idle()}
            window = self._groups[group] = window_for(
                self._group_rate, self._group_period, self._clock
            )
        return window

    async def _wait_out_pauses(self, group: int | str | None) -> None:
        for key in (group, None) if group is not None else (None,):
            pause = self._paused_until.get(key, 0.0) - self._clock()
            if pause > 0:
                await asyncio.sleep(pause)

    def _pause(self, group: int | str | None, seconds: float) -> None:
        """Telegram does not say which limit a 429 is for. In a group, a long pause is the
        group's own limit (the overall one lasts about a second); elsewhere it is overall."""
        keys: list[tuple[int | str | None, float]] = [(None, min(seconds, 1.0))]
        if group is not None:
            keys.append((group, seconds))
        else:
            keys[0] = (None, seconds)
        for key, pause in keys:
            until = self._clock() + pause
            self._paused_until[key] = max(self._paused_until.get(key, 0.0), until)
        if len(self._paused_until) > 10_000:
            now = self._clock()
            self._paused_until = {k: t for k, t in self._paused_until.items() if t > now}

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        if endpoint not in SENDING_METHODS:
            return await callback(*args, **kwargs)
        group = self._group_of(data)
        windows = [
            window
            for window in (
                self._group_window(group) if group is not None and self._group_rate else None,
                self._overall,
            )
            if window is not None
        ]
        max_retries = rate_limit_args if rate_limit_args is not None else self._max_retries
        for attempt in range(max_retries + 1):
            await self._wait_out_pauses(group)
            # The group's place first: a request waiting for a quiet group must not hold
            # one of the overall places other chats could use.
            taken: list[SlidingWindow] = []
            try:
                for window in windows:
                    await window.acquire()
                    taken.append(window)
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == max_retries:
                    raise
                pause = _retry_seconds(exc)
                self._pause(group, pause)
                log.warning("Telegram asked to slow down for %.0f s (%s)", pause, endpoint)
            finally:
                for window in taken:
                    window.release()
        raise AssertionError("unreachable: the last attempt returns or raises")
