"""The AUTOMATIC1111-compatible provider through httpx against the fake SD WebUI API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from bot.core.errors import (
    ProviderAuthFailed,
    ProviderMisconfigured,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from bot.core.generation.providers.base import ProviderRequest
from bot.core.generation.providers.sdwebui import SDWebUIProvider
from bot.core.models import StatusUpdate
from tests.fakes.sdwebui_api import FakeSDWebUI
from tests.fakes.server import ServerThread

REQUEST = ProviderRequest(
    generation_id="g1",
    prompt="a fox",
    negative_prompt="blurry",
    aspect="16:9",
    seed=77,
    hints={"sampler": "DPM++ 2M", "steps": 20, "cfg_scale": 6},
)


async def nothing(update: StatusUpdate) -> None:
    return None


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def sd() -> Iterator[tuple[FakeSDWebUI, str]]:
    fake = FakeSDWebUI(auth=("op", "pw"))
    server = ServerThread(fake.app()).start()
    yield fake, server.url
    server.stop()


def provider(http: httpx.AsyncClient, url: str, **kw: object) -> SDWebUIProvider:
    options: dict[str, object] = {"auth": ("op", "pw"), "base_size": 1024, "timeout": 10.0}
    options.update(kw)
    return SDWebUIProvider(http=http, url=url, **options)  # type: ignore[arg-type]


async def test_success_sends_the_style_knobs_and_returns_the_image(
    sd: tuple[FakeSDWebUI, str], http: httpx.AsyncClient
) -> None:
    fake, url = sd
    image = await provider(http, url).generate(REQUEST, nothing)
    assert image.data == fake.images[0]
    assert image.seed == 77 and image.model == "sdxl"  # both read from the server's `info`
    body = fake.bodies[0]
    assert body["prompt"] == "a fox" and body["negative_prompt"] == "blurry"
    assert body["sampler_name"] == "DPM++ 2M" and body["steps"] == 20 and body["cfg_scale"] == 6.0
    assert (body["width"], body["height"]) == (1344, 768)  # 16:9 around 1024², multiples of 64
    assert body["save_images"] is False


async def test_a_style_checkpoint_is_requested_per_call(
    sd: tuple[FakeSDWebUI, str], http: httpx.AsyncClient
) -> None:
    fake, url = sd
    request = REQUEST.model_copy(update={"hints": {"model": "sdxl.safetensors"}})
    await provider(http, url).generate(request, nothing)
    assert fake.bodies[0]["override_settings"] == {"sd_model_checkpoint": "sdxl.safetensors"}
    assert "sampler_name" not in fake.bodies[0]  # the server's default sampler


async def test_errors_are_sorted(sd: tuple[FakeSDWebUI, str], http: httpx.AsyncClient) -> None:
    fake, url = sd
    with pytest.raises(ProviderAuthFailed) as auth:
        await provider(http, url, auth=("op", "bad")).generate(REQUEST, nothing)
    assert not auth.value.retryable
    fake.fail_next.append(500)
    with pytest.raises(ProviderUnavailable, match="CUDA out of memory") as oom:
        await provider(http, url).generate(REQUEST, nothing)
    assert oom.value.retryable
    unknown_sampler = REQUEST.model_copy(update={"hints": {"sampler": "k_euler_a"}})
    with pytest.raises(ProviderMisconfigured, match="Sampler not found"):
        await provider(http, url).generate(unknown_sampler, nothing)
    with pytest.raises(ProviderRejected, match="422") as invalid:
        # A body this server's schema refuses (FastAPI's 422 answer) is final.
        await provider(http, url)._request(
            "POST", "/sdapi/v1/txt2img", seconds=5, json={"prompt": "x", "steps": "many"}
        )
    assert not invalid.value.retryable
    with pytest.raises(ProviderUnavailable) as down:
        await provider(http, "http://127.0.0.1:9", auth=None).generate(REQUEST, nothing)
    assert down.value.retryable
    assert fake.bodies == []  # none of these produced a picture


async def test_a_server_without_the_api_is_a_setup_problem(http: httpx.AsyncClient) -> None:
    from aiohttp import web

    server = ServerThread(web.Application()).start()  # a web UI started without --api
    try:
        with pytest.raises(ProviderMisconfigured, match="--api"):
            await provider(http, server.url, auth=None).generate(REQUEST, nothing)
        check = await provider(http, server.url, auth=None).check()
        assert not check.ok and "--api" in check.detail
    finally:
        server.stop()


async def test_slow_server_times_out(http: httpx.AsyncClient) -> None:
    import asyncio

    from aiohttp import web

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/sdapi/v1/txt2img", slow)
    server = ServerThread(app).start()
    try:
        with pytest.raises(ProviderTimeout) as caught:
            await provider(http, server.url, auth=None, timeout=0.3).generate(REQUEST, nothing)
        assert caught.value.retryable
    finally:
        server.stop()


async def test_check_names_the_models(sd: tuple[FakeSDWebUI, str], http: httpx.AsyncClient) -> None:
    _, url = sd
    check = await provider(http, url).check()
    assert check.ok and "sdxl" in check.detail
    bad = await provider(http, url, auth=None).check()
    assert not bad.ok and "SDWEBUI_USER" in bad.detail
