"""ComfyUI beyond one picture: latent batches, img2img and upscale workflows (real HTTP)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from bot.core.errors import ProviderMisconfigured, ProviderUnsupported
from bot.core.generation.providers.base import ProviderRequest, UpscaleRequest
from bot.core.generation.providers.comfyui import ComfyUIProvider, load_workflow
from bot.core.images.pixels import load_input
from bot.core.models import StatusUpdate
from tests.fakes.comfyui_api import FakeComfyUI
from tests.fakes.openai_images import make_png
from tests.fakes.server import ServerThread

REQUEST = ProviderRequest(generation_id="g1", prompt="a fox", aspect="1:1", seed=7)


async def nothing(update: StatusUpdate) -> None:
    return None


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def comfy() -> Iterator[tuple[FakeComfyUI, str]]:
    fake = FakeComfyUI(polls_before_done=0)
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


async def test_four_images_are_one_prompt_with_a_latent_batch(
    comfy: tuple[FakeComfyUI, str], http: httpx.AsyncClient
) -> None:
    fake, url = comfy
    made = await provider(http, url).generate_batch(
        REQUEST.model_copy(update={"count": 4}), nothing
    )
    (workflow,) = fake.prompts.values()
    assert workflow["5"]["inputs"]["batch_size"] == 4
    assert [image.data for image in made] == list(fake.images.values())
    assert len({image.data for image in made}) == 4
    assert all((i.width, i.height, i.seed) == (512, 512, 7) for i in made)


async def test_a_workflow_without_a_batch_placeholder_runs_prompts_in_parallel(
    comfy: tuple[FakeComfyUI, str], http: httpx.AsyncClient, tmp_path: Path
) -> None:
    fake, url = comfy
    workflow = load_workflow(None)
    workflow["5"]["inputs"]["batch_size"] = 1
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(workflow))
    p = provider(http, url, workflow=load_workflow(path))
    assert p.capabilities.images_per_request == 1
    made = await p.generate_batch(REQUEST.model_copy(update={"count": 3}), nothing)
    seeds = sorted(w["3"]["inputs"]["seed"] for w in fake.prompts.values())
    assert seeds == [7, 8, 9] and sorted(i.seed for i in made) == [7, 8, 9]  # type: ignore[type-var]


async def test_image_to_image_uploads_the_picture_and_runs_the_img2img_workflow(
    comfy: tuple[FakeComfyUI, str], http: httpx.AsyncClient
) -> None:
    fake, url = comfy
    source = load_input(make_png(320, 256, "sketch"))
    request = REQUEST.model_copy(update={"init_image": source.data, "strength": 0.45, "count": 2})
    made = await provider(http, url).generate_batch(request, nothing)
    ((name, received),) = fake.uploads.items()
    assert received == source.data and name.startswith("imaginebot-") and "sketch" not in name
    (workflow,) = fake.prompts.values()
    assert workflow["10"]["inputs"]["image"] == name
    assert workflow["3"]["inputs"]["denoise"] == 0.45
    assert workflow["12"]["inputs"]["amount"] == 2
    assert len(made) == 2 and all((i.width, i.height) == (320, 256) for i in made)


async def test_upscale_runs_the_shipped_upscale_workflow(
    comfy: tuple[FakeComfyUI, str], http: httpx.AsyncClient
) -> None:
    fake, url = comfy
    tile = make_png(100, 50, "tile 2")
    result = await provider(http, url).upscale(
        UpscaleRequest(generation_id="g", image=tile), nothing
    )
    (received,) = fake.uploads.values()
    assert received == tile
    (workflow,) = fake.prompts.values()
    assert workflow["2"]["inputs"]["model_name"] == "RealESRGAN_x4plus.pth"
    assert (result.width, result.height) == (400, 200)


async def test_a_missing_upscale_model_is_a_setup_problem_and_check_says_so(
    comfy: tuple[FakeComfyUI, str], http: httpx.AsyncClient
) -> None:
    _, url = comfy
    p = provider(http, url, upscaler="missing.pth")
    with pytest.raises(ProviderMisconfigured, match=r"missing\.pth"):
        await p.upscale(UpscaleRequest(generation_id="g", image=make_png(8, 8, "x")), nothing)
    assert "upscaler missing.pth missing" in (await p.check()).detail
    assert "upscaler RealESRGAN_x4plus.pth installed" in (await provider(http, url).check()).detail


async def test_without_the_workflows_there_is_no_image_input_or_upscaler(
    http: httpx.AsyncClient,
) -> None:
    p = provider(http, "http://127.0.0.1:9", img2img_workflow=False, upscale_workflow=False)
    caps = p.capabilities
    assert not caps.image_input and caps.upscaler is None and not caps.describe
    with pytest.raises(ProviderUnsupported):
        await p.upscale(UpscaleRequest(generation_id="g", image=make_png(8, 8, "x")), nothing)
    request = REQUEST.model_copy(update={"init_image": make_png(8, 8, "x")})
    with pytest.raises(ProviderUnsupported):
        await p.generate_batch(request, nothing)


async def test_the_fake_refuses_unknown_nodes_and_files_never_uploaded(
    comfy: tuple[FakeComfyUI, str], http: httpx.AsyncClient
) -> None:
    fake, url = comfy
    workflow = provider(http, url).workflow_for(REQUEST)
    workflow["99"] = {"class_type": "LoadImage", "inputs": {"image": "nothing.png"}}
    answer = await http.post(f"{url}/prompt", json={"prompt": workflow})
    assert answer.status_code == 400 and "Invalid image file" in answer.text
    workflow["99"] = {"class_type": "SomeCustomNode", "inputs": {}}
    answer = await http.post(f"{url}/prompt", json={"prompt": workflow})
    assert answer.status_code == 400 and "does not exist" in answer.text
    not_a_picture = {"image": ("cat.png", b"plain text, not a picture", "image/png")}
    answer = await http.post(f"{url}/upload/image", files=not_a_picture, data={"type": "input"})
    assert answer.status_code == 400 and fake.uploads == {} and fake.prompts == {}


def test_the_shipped_workflows_are_checked_like_an_operators() -> None:
    assert "{{image}}" in json.dumps(load_workflow(None, "img2img"))
    assert "{{upscaler}}" in json.dumps(load_workflow(None, "upscale"))
