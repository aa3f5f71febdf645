"""Every provider HTTP call is capped in size and in total time, against a real server."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from aiohttp import web
from PIL import Image

from bot.core.errors import ProviderTimeout, ProviderUnavailable
from bot.core.generation.providers.base import ProviderRequest
from bot.core.generation.providers.horde import HordeProvider
from bot.core.generation.providers.transport import capped_request
from tests.fakes.server import ServerThread


async def big(request: web.Request) -> web.Response:
    return web.Response(body=b"x" * 200_000)


async def drip(request: web.Request) -> web.StreamResponse:
    """No Content-Length, bytes keep coming: the cap must stop reading, not the server."""
    response = web.StreamResponse()
    await response.prepare(request)
    for _ in range(100):
        await response.write(b"y" * 10_000)
    return response


async def slow_drip(request: web.Request) -> web.StreamResponse:
    """A byte every 0.1 s keeps each read inside a per-read timeout, forever."""
    response = web.StreamResponse()
    await response.prepare(request)
    for _ in range(100):
        await response.write(b"z")
        await asyncio.sleep(0.1)
    return response


@pytest.fixture
def server() -> Iterator[str]:
    app = web.Application()
    app.router.add_get("/big", big)
    app.router.add_get("/drip", drip)
    app.router.add_get("/slow", slow_drip)
    thread = ServerThread(app).start()
    yield thread.url
    thread.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def test_size_cap_by_header_and_by_stream(server: str, http: httpx.AsyncClient) -> None:
    ok = await capped_request(
        http, "GET", f"{server}/big", name="fake", seconds=5, max_bytes=200_000
    )
    assert len(ok.content) == 200_000
    with pytest.raises(ProviderUnavailable, match="too large \\(200000 bytes\\)"):
        await capped_request(http, "GET", f"{server}/big", name="fake", seconds=5, max_bytes=1000)
    with pytest.raises(ProviderUnavailable, match="too large \\(over 50000"):
        await capped_request(
            http, "GET", f"{server}/drip", name="fake", seconds=5, max_bytes=50_000
        )


async def test_total_time_is_capped(server: str, http: httpx.AsyncClient) -> None:
    started = asyncio.get_running_loop().time()
    with pytest.raises(ProviderTimeout):
        await capped_request(http, "GET", f"{server}/slow", name="fake", seconds=0.5, max_bytes=10)
    assert asyncio.get_running_loop().time() - started < 2


def webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(out, format="WEBP", lossless=True)
    return out.getvalue()


async def test_horde_storage_links_https_only_no_key_capped() -> None:
    """Should the Horde answer with a storage link, the image is fetched over https without
    the Horde key and within the size cap (an in-process transport stands in for TLS)."""
    image = webp()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "horde.test":
            path = request.url.path
            if path.endswith("/generate/async"):
                return httpx.Response(202, json={"id": "j1"})
            if "/generate/check/" in path:
                return httpx.Response(200, json={"done": True, "is_possible": True})
            return httpx.Response(
                200,
                json={
                    "done": True,
                    "generations": [
                        {"img": "https://store.test/j1.webp", "seed": "3", "model": "m"}
                    ],
                },
            )
        return httpx.Response(200, content=image if request.url.path == "/j1.webp" else b"")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        provider = HordeProvider(
            http=http,
            api_url="https://horde.test/api/v2",
            api_key="valid-key",
            models=[],
            deadline_seconds=5,
            check_interval=0.01,
        )

        async def nothing(update: object) -> None:
            return None

        result = await provider.generate(ProviderRequest(generation_id="g", prompt="p"), nothing)
        download = seen[-1]
        assert download.url.host == "store.test" and "apikey" not in download.headers
        with Image.open(io.BytesIO(result.data)) as got:
            assert got.format == "PNG" and got.getpixel((0, 0)) == (1, 2, 3)
        small = HordeProvider(
            http=http,
            api_url="https://horde.test/api/v2",
            api_key="valid-key",
            models=[],
            deadline_seconds=5,
            check_interval=0.01,
            max_image_bytes=len(image) - 1,
        )
        with pytest.raises(ProviderUnavailable, match="too large"):
            await small.generate(ProviderRequest(generation_id="g", prompt="p"), nothing)
