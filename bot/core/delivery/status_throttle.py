"""A request's live status, shown by editing its acknowledgement message: coalesced,
throttled, and never after the final word.

Both chat adapters acknowledge a request with a message and later replace it with the
picture (or the reason it failed). In between, the queue position and "Generating…" are
worth showing only when the user actually waits for them, and every edit counts against the
platform's rate limits. So, per message (`key`):

- no edit in the first `grace` seconds after the acknowledgement (`track`);
- at most one edit per `interval` afterwards, and only the latest text: texts arriving in
  between replace each other, and a text already shown is not sent again;
- an edit the platform side refuses for now (an exception listed in `deferred`: nothing was
  sent) is tried again an interval later, unless the text changed back meanwhile;
- once the request is final (`finishing`, `close`), no status edit may follow: the final
  message waits for an edit already on its way, and finished keys are remembered (a bounded
  number) so a late status event cannot reopen one;
- a status edit is best effort: a failure is logged, never raised (the result follows);
- optionally, at most `per_second` edits over all messages (a token bucket one second deep):
  an edit over it waits an interval like a deferred one. Status edits are cosmetic, and in
  a burst of hundreds of requests they would otherwise cost the bot more than the
  acknowledgements and the pictures themselves.

Each adapter supplies only how to edit (a coroutine function taking the text) and its own
error types; the rules live here once. Hand-written because it is a small per-key state
machine (a trailing-edge throttle with a final state) that no maintained library offers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Key = TypeVar("Key", bound=Hashable)
Edit = Callable[[str], Awaitable[object]]

MAX_TRACKED = 50_000  # messages followed at once; the oldest are dropped past this
FINAL_MEMORY = 10_000  # finished keys remembered so a late status event cannot reopen one


class _OverBudget(Exception):
    """More status edits this second than `per_second` allows: not sent, tried later."""


@dataclass
class _Message:
    shown: str
    not_before: float  # no edit before this (the throttle's clock)
    wanted: tuple[str, Edit] | None = None
    timer: asyncio.TimerHandle | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class _Budget:
    """A token bucket: `rate` tokens a second, at most `rate` saved up."""

    def __init__(self, rate: float, clock: Callable[[], float]) -> None:
        self.rate, self._clock = rate, clock
        self._tokens, self._at = rate, clock()

    def take(self) -> bool:
        now = self._clock()
        # A clock that went back (a test's virtual clock swapped in) adds nothing, takes nothing.
        self._tokens = min(self.rate, self._tokens + max(0.0, now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class StatusThrottle(Generic[Key]):
    def __init__(
        self,
        *,
        interval: float,
        grace: float = 0.0,
        deferred: tuple[type[BaseException], ...] = (),
        expected: tuple[type[BaseException], ...] = (),
        clock: Callable[[], float] | None = None,
        max_tracked: int = MAX_TRACKED,
        final_memory: int = FINAL_MEMORY,
        per_second: float | None = None,
    ) -> None:
        """`deferred`: errors meaning "not sent, try later"; `expected`: errors of the
        platform logged quietly (others are logged as warnings with their traceback)."""
        self.interval = interval
        self.grace = grace
        self._deferred: tuple[type[BaseException], ...] = (_OverBudget, *deferred)
        self._expected = expected
        # Looked up at each call (not bound here), so a test's virtual clock applies.
        self._clock = clock or (lambda: time.monotonic())
        self._max_tracked = max_tracked
        self._final_memory = final_memory
        self._messages: dict[Key, _Message] = {}
        self._final: OrderedDict[Key, None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._budget = _Budget(per_second, self._clock) if per_second else None

    def track(self, key: Key, shown: str) -> None:
        """An acknowledgement showing `shown` was just sent: the grace period starts."""
        self._add(key, _Message(shown, self._clock() + self.grace))

    def tracked(self) -> int:
        return len(self._messages)

    def is_final(self, key: Key) -> bool:
        return key in self._final

    async def show(self, key: Key, text: str, edit: Edit) -> None:
        """Show `text` when the grace period and the throttle allow; only the latest counts.

        A message not tracked (a request resumed after a restart) has no grace period."""
        if key in self._final:
            return
        message = self._messages.get(key)
        if message is None:
            message = self._add(key, _Message("", self._clock()))
        if text == message.shown:
            message.wanted = None
            return
        message.wanted = (text, edit)
        if message.timer is not None:
            return  # the pending edit will show the latest text
        delay = message.not_before - self._clock()
        if delay > 0:
            message.timer = asyncio.get_running_loop().call_later(delay, self._due, key, message)
        else:
            await self._flush(key, message)

    @asynccontextmanager
    async def finishing(self, key: Key) -> AsyncIterator[None]:
        """Write the final message inside this block: status edits pending are dropped, one
        already on its way is waited for, and none may follow."""
        message = self._finish(key)
        if message is None:
            yield
            return
        async with message.lock:
            yield

    def close(self, key: Key) -> None:
        """The request is final: nothing pending may edit its message any more."""
        self._finish(key)

    async def aclose(self) -> None:
        """Stop: pending edits are dropped, edits on their way are cancelled."""
        for key in list(self._messages):
            self._drop(key)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task

    # -- inside ---------------------------------------------------------------------------------

    def _add(self, key: Key, message: _Message) -> _Message:
        if key not in self._messages and len(self._messages) >= self._max_tracked:
            # Requests that never ended (should not happen: expiry ends them) go first.
            for old in list(self._messages)[: max(1, self._max_tracked // 10)]:
                self._drop(old)
        self._drop(key)
        self._messages[key] = message
        return message

    def _finish(self, key: Key) -> _Message | None:
        self._final[key] = None
        self._final.move_to_end(key)
        while len(self._final) > self._final_memory:
            self._final.popitem(last=False)
        return self._drop(key)

    def _drop(self, key: Key) -> _Message | None:
        message = self._messages.pop(key, None)
        if message is not None:
            message.wanted = None
            if message.timer is not None:
                message.timer.cancel()
                message.timer = None
        return message

    def _due(self, key: Key, message: _Message) -> None:
        message.timer = None
        if self._messages.get(key) is not message:
            return
        task = asyncio.get_running_loop().create_task(self._flush(key, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush(self, key: Key, message: _Message) -> None:
        async with message.lock:
            if message.wanted is None or self._messages.get(key) is not message:
                return
            text, edit = message.wanted
            message.wanted = None
            before, message.shown = message.shown, text
            message.not_before = self._clock() + self.interval
            try:
                if self._budget is not None and not self._budget.take():
                    raise _OverBudget
                await edit(text)
            except self._deferred:
                # Not sent: the latest text is tried again after an interval.
                message.shown = before
                if message.wanted is None and text != before:
                    message.wanted = (text, edit)
            except self._expected as exc:
                log.debug("status edit of %s failed: %s", key, exc)
            except Exception:
                log.warning("status edit of %s failed", key, exc_info=True)
            if message.wanted is not None and message.timer is None:
                if self._messages.get(key) is message:
                    delay = max(0.0, message.not_before - self._clock())
                    loop = asyncio.get_running_loop()
                    message.timer = loop.call_later(delay, self._due, key, message)
