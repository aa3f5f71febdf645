"""HTTP calls to image providers: always a timeout, always a response size cap.

httpx would happily read a gigabyte into memory if a misbehaving server sent one; here the
body is streamed and the call is abandoned as soon as it passes the cap (or announces a
larger `Content-Length`). Network failures become the provider errors the queue retries.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx

from bot.core.errors import ProviderTimeout, ProviderUnavailable


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
