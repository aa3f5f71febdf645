"""The ComfyUI provider through httpx against the fake ComfyUI server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from bot.core.errors import ProviderMisconfigured, ProviderTimeout, ProviderUnavailable
from bot.core.generation.providers.base import ProviderRequest
from bot.core.generation.providers.comfyui import ComfyUIProvider, load_workflow
from bot.core.models import StatusUpdate
from tests.fakes.comfyui_api import FakeComfyUI
from tests.fakes.server import ServerThread

REQUEST = ProviderRequest(
    generation_id="g1",
    prompt="a fox {{seed}}",  # user text that looks like a placeholder stays text
    negative_prompt="blurry",
    aspect="16:9",
    seed=77,
    hints={"steps": 20, "cfg_scale": 6},
)


async def nothing(update: StatusUpdate) -> None:
    return None


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def comfy() -> Iterator[tuple[FakeComfyUI, str]]:
    fake = FakeComfyUI()
    server = ServerThread(fake.app()).start()
    yield fake, server.url
    server.stop()


def provider(http: httpx.AsyncClient, url: str, **kw: object) -> ComfyUIProvider:
    options: dict[str, object] = {
        "workflow": load_workflow(None),
        "model": "sd15.safetensors",
        "base_size": 512,
        "deadline_seconds": 10.0,
        "poll_seconds": 0.05,
    }
    options.update(kw)
    return ComfyUIProvider(http=http, url=url, **options)  # type: ignore[arg-type]


async def test_fills_the_shipped_workflow_and_fetches_the_image(
    comfy: tuple[FakeComfyUI, str], http: httpx.AsyncClient
) -> None:
    fake, url = comfy
    fake.running_polls = 1
    updates: list[StatusUpdate] = []

    async def progress(update: StatusUpdate) -> None:
        updates.append(update)

    image = await provider(http, url).generate(REQUEST, progress)
    (workflow,) = fake.prompts.values()
    assert workflow["6"]["inputs"]["text"] == "a fox {{seed}}"
    assert workflow["7"]["inputs"]["text"] == "blurry"
    sampler = workflow["3"]["inputs"]
    assert (sampler["seed"], sampler["steps"], sampler["cfg"]) == (77, 20, 6.0)
    assert workflow["4"]["inputs"]["ckpt_name"] == "sd15.safetensors"
    latent = workflow["5"]["inputs"]
    assert (latent["width"], latent["height"]) == (704, 384)  # ints, not strings
    assert image.data == next(iter(fake.images.values())) and image.seed == 77
    assert fake.client_ids == ["g1"]
    assert [(u.position, u.detail) for u in updates] == [
        (1, "in the ComfyUI queue"),
        (None, "ComfyUI is drawing it"),
    ]


async def test_an_operators_workflow_with_text_placeholders(
    comfy: tuple[FakeComfyUI, str], http: httpx.AsyncClient, tmp_path: Path
) -> None:
    fake, url = comfy
    workflow = load_workflow(None)
    workflow["6"]["inputs"]["text"] = "masterpiece, {{prompt}}, {{width}}x{{height}}"
    workflow["3"]["inputs"]["seed"] = 5  # a fixed seed: the provider does not claim one
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(workflow))
    image = await provider(http, url, workflow=load_workflow(path)).generate(REQUEST, nothing)
    (sent,) = fake.prompts.values()
    assert sent["6"]["inputs"]["text"] == "masterpiece, a fox {{seed}}, 704x384"
    assert sent["3"]["inputs"]["seed"] == 5 and image.seed is None


def test_workflow_files_are_checked_at_start(tmp_path: Path) -> None:
    cases = {
        "none.json": ({"1": {"class_type": "X", "inputs": {}}}, "no \\{\\{prompt\\}\\}"),
        "typo.json": (
            {"1": {"class_type": "X", "inputs": {"text": "{{prompt}} {{sed}}"}}},
            "unknown placeholder \\{\\{sed\\}\\}",
        ),
        "ui.json": ({"nodes": [], "links": []}, "API format"),
    }
    for name, (content, error) in cases.items():
        (tmp_path / name).write_text(json.dumps(content))
        with pytest.raises(ValueError, match=error):
            load_workflow(tmp_path / name)


async def test_errors_are_sorted(comfy: tuple[FakeComfyUI, str], http: httpx.AsyncClient) -> None:
    fake, url = comfy
    with pytest.raises(ProviderMisconfigured, match="not in") as missing:
        await provider(http, url, model="not-installed.safetensors").generate(REQUEST, nothing)
    assert not missing.value.retryable  # the next provider is tried, this one not again
    fake.fail_runs = True
    with pytest.raises(ProviderUnavailable, match="MetadataIncompleteBuffer") as failed:
        await provider(http, url).generate(REQUEST, nothing)
    assert failed.value.retryable
    with pytest.raises(ProviderUnavailable) as down:
        await provider(http, "http://127.0.0.1:9").generate(REQUEST, nothing)
    assert down.value.retryable


async def test_gives_up_at_the_deadline_and_drops_the_prompt(
    comfy: tuple[FakeComfyUI, str], http: httpx.AsyncClient
) -> None:
    fake, url = comfy
    fake.polls_before_done = 10_000
    with pytest.raises(ProviderTimeout):
        await provider(http, url, deadline_seconds=0.3).generate(REQUEST, nothing)
    (pid,) = fake.prompts
    assert fake.deleted == [pid] and fake.pending == []
    fake.polls_before_done, fake.running_polls = 0, 10_000
    with pytest.raises(ProviderTimeout):
        await provider(http, url, deadline_seconds=0.3).generate(REQUEST, nothing)
    running = list(fake.prompts)[1]
    assert fake.interrupted == [running]  # a running prompt is interrupted, not left to finish


async def test_check_reports_version_and_checkpoint(
    comfy: tuple[FakeComfyUI, str], http: httpx.AsyncClient
) -> None:
    _, url = comfy
    good = await provider(http, url).check()
    assert good.ok and "0.3.fake" in good.detail and "sd15.safetensors" in good.detail
    missing = await provider(http, url, model="other.safetensors").check()
    assert not missing.ok and "COMFYUI_MODEL" in missing.detail
    down = await provider(http, "http://127.0.0.1:9").check()
    assert not down.ok
