"""HTTP calls to image providers: always a timeout, always a response size cap.

httpx would happily read a gigabyte into memory if a misbehaving server sent one; here the
body is streamed and the call is abandoned as soon as it passes the cap (or announces a
larger `Content-Length`). Network failures become the provider errors the queue retries.

SDKs that read whole bodies themselves (the openai SDK) get an httpx client whose transport
enforces the same cap (`capped_client`): the body is counted as the SDK reads it, and
`ResponseTooLarge` ends the read, whatever the status code.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from bot.core.errors import ProviderTimeout, ProviderUnavailable, ProviderUnreachable


@dataclass(frozen=True)
class CappedResponse:
    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON (proxies answer HTML error pages)."""
        try:
            return json.loads(self.content)
        except ValueError:
            return None

    def retry_after(self) -> float | None:
        """`Retry-After` in seconds when the server sent one as a number."""
        value = self.headers.get("retry-after")
        try:
            return max(0.0, float(value)) if value is not None else None
        except ValueError:
            return None


async def capped_request(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    name: str,
    seconds: float,
    max_bytes: int,
    **kwargs: Any,
) -> CappedResponse:
    """One request taking at most `seconds` in all (a server dripping bytes cannot hold it
    open) and reading at most `max_bytes`. `name` is the provider's name for error details."""
    try:
        async with asyncio.timeout(seconds):
            return await _read(http, method, url, name, seconds, max_bytes, **kwargs)
    except TimeoutError as exc:
        raise ProviderTimeout(f"{name} did not answer within {seconds:.0f} s") from exc
    except httpx.TimeoutException as exc:
        raise ProviderTimeout(f"{name} did not answer in time") from exc
    except httpx.ConnectError as exc:  # DNS failure, connection refused, TLS handshake
        raise ProviderUnreachable(f"cannot reach {name}: {exc}") from exc
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(f"cannot reach {name}: {exc.__class__.__name__}") from exc


async def _read(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    name: str,
    seconds: float,
    max_bytes: int,
    **kwargs: Any,
) -> CappedResponse:
    async with http.stream(method, url, timeout=seconds, **kwargs) as response:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise ProviderUnavailable(f"{name} response too large ({declared} bytes)")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise ProviderUnavailable(f"{name} response too large (over {max_bytes} bytes)")
            chunks.append(chunk)
        return CappedResponse(response.status_code, response.headers, b"".join(chunks))


class ResponseTooLarge(Exception):
    """A response body passed its cap; raised from inside the HTTP client, so an SDK passes
    it through untouched (it is no httpx error for the SDK to wrap)."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        self.limit = limit
        self.declared = declared
        size = f"{declared:,} bytes" if declared is not None else f"over {limit:,} bytes"
        super().__init__(f"response too large ({size}; the cap is {limit:,})")


class _CappedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, limit: int) -> None:
        self._inner = inner
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        size = 0
        async for chunk in self._inner:
            size += len(chunk)
            if size > self._limit:
                raise ResponseTooLarge(self._limit)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class CappedTransport(httpx.AsyncBaseTransport):
    """Wraps a transport so that no response body, of any status, is read past `limit`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, limit: int) -> None:
        self._inner = inner
        self._limit = limit

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._limit:
            await response.aclose()
            raise ResponseTooLarge(self._limit, int(declared))
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_CappedStream(response.stream, self._limit),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


def capped_client(limit: int, *, timeout: float) -> httpx.AsyncClient:
    """An httpx client (for an SDK's `http_client`) that reads no response past `limit`."""
    return httpx.AsyncClient(
        transport=CappedTransport(httpx.AsyncHTTPTransport(), limit),
        timeout=httpx.Timeout(timeout, connect=10.0),
        follow_redirects=True,
    )
