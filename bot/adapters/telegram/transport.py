"""How the bot talks to the Bot API: an aiohttp transport (flood control is in flood.py).

Why not python-telegram-bot's default `HTTPXRequest`: it keeps a pool of up to 256
connections and httpcore scans every pooled connection (asking anyio whether it expired) on
each request; under load that scan was most of the bot's CPU (profiled: 36 % of the bot's time in a 500-command burst). aiohttp, which
discord.py already brings, hands out pooled connections in constant time.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)


def _seconds(value: object, default: float | None) -> float | None:
    """PTB passes DEFAULT_NONE for "use your default"; None means no timeout."""
    if isinstance(value, int | float):
        return float(value)
    if value is None:
        return None
    return default


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
