"""AUTOMATIC1111-compatible and ComfyUI providers through httpx against their fakes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from bot.core.errors import (
    ProviderAuthFailed,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from bot.core.models import StatusUpdate
from bot.core.providers.base import ProviderRequest
from bot.core.providers.comfyui import ComfyUIProvider, load_workflow
from bot.core.providers.sdwebui import SDWebUIProvider
from tests.fakes.comfyui_api import FakeComfyUI
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


@pytest.fixture
def comfy() -> Iterator[tuple[FakeComfyUI, str]]:
    fake = FakeComfyUI()
    server = ServerThread(fake.app()).start()
    yield fake, server.url
    server.stop()


async def test_sdwebui_success(sd: tuple[FakeSDWebUI, str], http: httpx.AsyncClient) -> None:
    fake, url = sd
    provider = SDWebUIProvider(http=http, url=url, auth=("op", "pw"), base_size=1024, timeout=10)
    image = await provider.generate(REQUEST, nothing)
    assert image.data == fake.images[0] and image.seed == 77
    body = fake.bodies[0]
    assert body["prompt"] == "a fox" and body["negative_prompt"] == "blurry"
    assert body["sampler_name"] == "DPM++ 2M" and body["steps"] == 20 and body["cfg_scale"] == 6.0
    assert body["width"] % 64 == 0 and body["height"] % 64 == 0 and body["width"] > body["height"]
    assert (await provider.check()).ok


async def test_sdwebui_errors(sd: tuple[FakeSDWebUI, str], http: httpx.AsyncClient) -> None:
    fake, url = sd
    with pytest.raises(ProviderAuthFailed):
        await SDWebUIProvider(
            http=http, url=url, auth=("op", "bad"), base_size=512, timeout=10
        ).generate(REQUEST, nothing)
    provider = SDWebUIProvider(http=http, url=url, auth=("op", "pw"), base_size=512, timeout=10)
    fake.fail_next.append(500)
    with pytest.raises(ProviderUnavailable) as caught:
        await provider.generate(REQUEST, nothing)
    assert caught.value.retryable
    with pytest.raises(ProviderUnavailable):
        await SDWebUIProvider(
            http=http, url="http://127.0.0.1:9", auth=None, base_size=512, timeout=2
        ).generate(REQUEST, nothing)


async def test_comfyui_fills_the_workflow_and_fetches_the_image(
    comfy: tuple[FakeComfyUI, str], http: httpx.AsyncClient
) -> None:
    fake, url = comfy
    updates: list[StatusUpdate] = []

    async def progress(update: StatusUpdate) -> None:
        updates.append(update)

    provider = ComfyUIProvider(
        http=http,
        url=url,
        workflow=load_workflow(None),
        model="sd15.safetensors",
        base_size=512,
        deadline_seconds=10,
        poll_seconds=0.05,
    )
    image = await provider.generate(REQUEST, progress)
    (workflow,) = fake.prompts.values()
    assert (
        workflow["6"]["inputs"]["text"] == "a fox" and workflow["7"]["inputs"]["text"] == "blurry"
    )
    assert workflow["3"]["inputs"]["seed"] == 77 and workflow["3"]["inputs"]["steps"] == 20
    assert workflow["4"]["inputs"]["ckpt_name"] == "sd15.safetensors"
    latent = workflow["5"]["inputs"]
    assert isinstance(latent["width"], int) and latent["width"] > latent["height"]
    assert image.data == next(iter(fake.images.values()))
    assert updates and updates[0].position == 1 and updates[0].detail == "in the ComfyUI queue"
    assert (await provider.check()).ok


async def test_comfyui_custom_workflow_errors_and_timeout(
    comfy: tuple[FakeComfyUI, str], http: httpx.AsyncClient, tmp_path: Path
) -> None:
    fake, url = comfy
    custom = tmp_path / "wf.json"
    workflow = load_workflow(None)
    workflow["3"]["inputs"]["seed"] = "{{not_a_placeholder}}"
    custom.write_text(json.dumps(workflow))
    bad = ComfyUIProvider(
        http=http,
        url=url,
        workflow=load_workflow(custom),
        model="m",
        base_size=512,
        deadline_seconds=5,
        poll_seconds=0.05,
    )
    with pytest.raises(ProviderRejected, match="comfyui rejected the workflow"):
        await bad.generate(REQUEST, nothing)
    (tmp_path / "none.json").write_text(json.dumps({"1": {"class_type": "X", "inputs": {}}}))
    with pytest.raises(ValueError, match="no \\{\\{prompt\\}\\} placeholder"):
        load_workflow(tmp_path / "none.json")
    fake.fail_runs = True
    good = ComfyUIProvider(
        http=http,
        url=url,
        workflow=load_workflow(None),
        model="m",
        base_size=512,
        deadline_seconds=5,
        poll_seconds=0.05,
    )
    with pytest.raises(ProviderUnavailable, match="failed to run"):
        await good.generate(REQUEST, nothing)
    fake.fail_runs, fake.polls_before_done = False, 10_000
    slow = ComfyUIProvider(
        http=http,
        url=url,
        workflow=load_workflow(None),
        model="m",
        base_size=512,
        deadline_seconds=0.3,
        poll_seconds=0.05,
    )
    with pytest.raises(ProviderTimeout):
        await slow.generate(REQUEST, nothing)
    assert fake.deleted  # dropped from ComfyUI's queue when we gave up
