"""Acknowledgements first: while commands wait for their first answer, results wait.

Both reach the one event loop of a bot process: a command's acknowledgement (Discord's
deferral, Telegram's "Queued" reply) and the delivery of finished results (store the files,
upload the picture, edit the status). In a burst the deliveries of the first requests would
take the loop, and the connections to the platform, from the acknowledgements of the later
ones, which users are watching for. So an adapter marks each command `owed` from the moment
it arrives until it is acknowledged, and delivery waits while `BACKLOG` or more are owed
at once (a burst: a busy server's steady traffic owes a few at a time, and its deliveries
must not wait for that), at most `MOST_WAIT_SECONDS` at a time, so that even a long burst
never starves delivery.

Written here rather than with a priority queue: asyncio runs ready callbacks in order and
has no priorities, so the only lever is for the less urgent work to wait its turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar

MOST_WAIT_SECONDS = 1.0
BACKLOG = 8  # commands owed at once that make delivery wait


class _Owed:
    def __init__(self, book: Acknowledgements) -> None:
        self._book: Acknowledgements | None = book

    def pay(self) -> None:
        if self._book is not None:
            self._book._settle()
            self._book = None  # paid once, however many times it is said


_owed_here: ContextVar[_Owed | None] = ContextVar("owed_acknowledgement", default=None)


class Acknowledgements:
    def __init__(
        self, most_wait_seconds: float = MOST_WAIT_SECONDS, backlog: int = BACKLOG
    ) -> None:
        self.most_wait_seconds = most_wait_seconds
        self.backlog = backlog
        self._owed = 0
        self._calm = asyncio.Event()  # fewer than `backlog` owed
        self._calm.set()

    @property
    def owed_now(self) -> int:
        return self._owed

    @contextmanager
    def owed(self) -> Iterator[None]:
        """Around the handling of one command: owed until `paid()` is called in it (by the
        acknowledgement) or, at the latest, until it ends."""
        self._owed += 1
        if self._owed >= self.backlog:
            self._calm.clear()
        token = _Owed(self)
        reset = _owed_here.set(token)
        try:
            yield
        finally:
            token.pay()
            _owed_here.reset(reset)

    def paid(self) -> None:
        """The command being handled here has been acknowledged (nothing outside `owed`)."""
        token = _owed_here.get()
        if token is not None:
            token.pay()

    async def first(self) -> None:
        """Wait while `backlog` or more commands are owed their acknowledgement, at most
        `most_wait_seconds`."""
        if self._calm.is_set():
            return
        with suppress(TimeoutError):
            async with asyncio.timeout(self.most_wait_seconds):
                await self._calm.wait()

    def _settle(self) -> None:
        self._owed -= 1
        if self._owed < self.backlog:
            self._calm.set()
