"""Did the last long poll reach Telegram? The answer behind the bot's /healthz.

Long polling (`getUpdates`) runs on a request object of its own, so wrapping that one
object sees every poll and nothing else. A poll that failed (Telegram unreachable, a
rejected token, a 5xx) makes the adapter unhealthy at once; a poll that succeeded keeps it
healthy for a poll's length plus a margin, so a poller that stopped polling goes down too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from telegram.request import RequestData

from bot.adapters.telegram.transport import AiohttpRequest

MARGIN_SECONDS = 20.0


class PollLiveness:
    def __init__(self, poll_timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = poll_timeout + MARGIN_SECONDS
        self.clock = clock
        self.last_ok: float | None = None
        self.failing = False

    def succeeded(self) -> None:
        self.last_ok, self.failing = self.clock(), False

    def failed(self) -> None:
        self.failing = True

    def healthy(self) -> bool:
        if self.failing or self.last_ok is None:
            return False
        return self.clock() - self.last_ok <= self.window


class TrackedPollRequest(AiohttpRequest):
    """The `getUpdates` request object, reporting each poll's outcome."""

    def __init__(self, liveness: PollLiveness, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.liveness = liveness

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = AiohttpRequest.DEFAULT_NONE,
        write_timeout: Any = AiohttpRequest.DEFAULT_NONE,
        connect_timeout: Any = AiohttpRequest.DEFAULT_NONE,
        pool_timeout: Any = AiohttpRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        polling = url.endswith("/getUpdates")
        try:
            code, payload = await super().do_request(
                url,
                method,
                request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        except Exception:
            if polling:
                self.liveness.failed()
            raise
        if polling:
            if code == 200:
                self.liveness.succeeded()
            else:
                self.liveness.failed()
        return code, payload
