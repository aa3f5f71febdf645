"""Style reference pictures reach each provider as its real API takes them (real HTTP against
the fakes): several `image[]` parts of one OpenAI edit, ControlNet IP-Adapter units on
AUTOMATIC1111, an IP-Adapter workflow with an image batch on ComfyUI. A provider or server
that cannot follow them says so before anything is sent, or is refused by the fake as the
real one refuses it."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from PIL import Image

from bot.core.errors import ProviderMisconfigured, ProviderRejected
from bot.core.generation.providers.base import Capabilities, ProviderRequest
from bot.core.generation.providers.chain import references_first
from bot.core.generation.providers.comfyui import ComfyUIProvider, load_workflow
from bot.core.generation.providers.comfyui_workflow import with_references
from bot.core.generation.providers.openai_images import OpenAIImagesProvider
from bot.core.generation.providers.sdwebui import SDWebUIProvider
from bot.core.models import StatusUpdate
from tests.fakes.comfyui_api import FakeComfyUI
from tests.fakes.openai_images import FakeOpenAI, make_png
from tests.fakes.sdwebui_api import FakeSDWebUI
from tests.fakes.server import ServerThread

REFERENCES = (make_png(96, 64, "look one"), make_png(64, 64, "look two"))
REQUEST = ProviderRequest(
    generation_id="g1", prompt="a fox", aspect="1:1", seed=5, style_references=REFERENCES
)
IP_ADAPTER = "ip-adapter_sd15 [6a3f6166]"


async def nothing(update: StatusUpdate) -> None:
    return None


def pixels(data: bytes) -> tuple[tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size, image.convert("RGB").tobytes()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def comfy() -> Iterator[tuple[FakeComfyUI, str]]:
    fake = FakeComfyUI(polls_before_done=0, ipadapter=True)
    server = ServerThread(fake.app()).start()
    yield fake, server.url
    server.stop()


@pytest.fixture
def sd() -> Iterator[tuple[FakeSDWebUI, str]]:
    fake = FakeSDWebUI(controlnet_models=[IP_ADAPTER])
    server = ServerThread(fake.app()).start()
    yield fake, server.url
    server.stop()


def comfyui(http: httpx.AsyncClient, url: str, references: bool = True) -> ComfyUIProvider:
    return ComfyUIProvider(
        http=http,
        url=url,
        workflow=load_workflow(None),
        model="sd15.safetensors",
        base_size=512,
        deadline_seconds=10.0,
        poll_seconds=0.05,
        reference_workflow=load_workflow(None, "reference") if references else None,
    )


async def test_openai_sends_every_reference_as_an_image_part_of_one_edit(
    fake_openai: FakeOpenAI, http: httpx.AsyncClient
) -> None:
    provider = OpenAIImagesProvider(
        api_key=fake_openai.api_key,
        model="gpt-image-1",
        base_url=f"{fake_openai.base_url}/v1",
        timeout=10.0,
        http=http,
        max_image_bytes=8 * 1024 * 1024,
    )
    try:
        assert provider.capabilities.style_references
        made = await provider.generate_batch(REQUEST, nothing)
    finally:
        await provider.aclose()
    (sent,) = fake_openai.edit_image_sets
    assert [pixels(p) for p in sent] == [pixels(r) for r in REFERENCES]
    assert fake_openai.edits[0]["input_fidelity"] == "high"
    assert [m.data for m in made] == fake_openai.images[-1:]


async def test_openai_puts_the_picture_to_start_from_before_the_references(
    fake_openai: FakeOpenAI, http: httpx.AsyncClient
) -> None:
    start = make_png(80, 80, "start here")
    provider = OpenAIImagesProvider(
        api_key=fake_openai.api_key,
        model="gpt-image-1",
        base_url=f"{fake_openai.base_url}/v1",
        timeout=10.0,
        http=http,
        max_image_bytes=8 * 1024 * 1024,
    )
    try:
        await provider.generate_batch(REQUEST.model_copy(update={"init_image": start}), nothing)
    finally:
        await provider.aclose()
    (sent,) = fake_openai.edit_image_sets
    assert [pixels(p) for p in sent] == [pixels(start)] + [pixels(r) for r in REFERENCES]


def test_dall_e_3_declares_that_it_cannot_follow_references(http: httpx.AsyncClient) -> None:
    provider = OpenAIImagesProvider(
        api_key="sk-x",
        model="dall-e-3",
        base_url="http://127.0.0.1:9/v1",
        timeout=1.0,
        http=http,
        max_image_bytes=1024,
    )
    assert not provider.capabilities.style_references


async def test_sdwebui_sends_one_controlnet_ip_adapter_unit_per_reference(
    sd: tuple[FakeSDWebUI, str], http: httpx.AsyncClient
) -> None:
    fake, url = sd
    provider = SDWebUIProvider(
        http=http, url=url, auth=None, base_size=512, timeout=10.0, reference_model=IP_ADAPTER
    )
    assert provider.capabilities.style_references
    await provider.generate_batch(REQUEST, nothing)
    (units,) = fake.controlnet_units
    assert [(u["module"], u["model"], u["enabled"]) for u in units] == [
        ("ip-adapter_clip_sd15", IP_ADAPTER, True)
    ] * 2
    (received,) = fake.controlnet_images
    assert [pixels(p) for p in received] == [pixels(r) for r in REFERENCES]
    assert fake.bodies[-1]["prompt"] == "a fox"
    assert [u["weight"] for u in units] == [0.8, 0.8]  # the default
    lighter = REQUEST.model_copy(update={"hints": {"reference_weight": 0.5}})
    await provider.generate_batch(lighter, nothing)
    assert [u["weight"] for u in fake.controlnet_units[-1]] == [0.5, 0.5]  # a style's hint


async def test_sdwebui_without_a_reference_model_sends_no_script(
    sd: tuple[FakeSDWebUI, str], http: httpx.AsyncClient
) -> None:
    fake, url = sd
    provider = SDWebUIProvider(http=http, url=url, auth=None, base_size=512, timeout=10.0)
    assert not provider.capabilities.style_references
    await provider.generate_batch(REQUEST, nothing)
    assert "alwayson_scripts" not in fake.bodies[-1] and not fake.controlnet_units


async def test_a_server_without_controlnet_refuses_the_script(http: httpx.AsyncClient) -> None:
    fake = FakeSDWebUI()  # no ControlNet extension installed
    server = ServerThread(fake.app()).start()
    try:
        provider = SDWebUIProvider(
            http=http,
            url=server.url,
            auth=None,
            base_size=512,
            timeout=10.0,
            reference_model=IP_ADAPTER,
        )
        with pytest.raises(ProviderRejected, match="controlnet not found"):
            await provider.generate_batch(REQUEST, nothing)
    finally:
        server.stop()


async def test_comfyui_runs_ip_adapter_on_a_batch_of_the_references(
    comfy: tuple[FakeComfyUI, str], http: httpx.AsyncClient
) -> None:
    fake, url = comfy
    provider = comfyui(http, url)
    assert provider.capabilities.style_references
    made = await provider.generate_batch(REQUEST, nothing)
    (received,) = fake.references
    assert received == list(REFERENCES)  # uploaded byte for byte, joined by ImageBatch
    (workflow,) = fake.prompts.values()
    assert workflow["6"]["inputs"]["text"] == "a fox" and workflow["3"]["inputs"]["seed"] == 5
    assert workflow["21"]["inputs"]["weight"] == 0.8  # the default; a style's hint sets it
    assert len(made) == 1


async def test_comfyui_without_the_custom_nodes_fails_as_a_setup_problem(
    http: httpx.AsyncClient,
) -> None:
    fake = FakeComfyUI(polls_before_done=0)  # ComfyUI_IPAdapter_plus not installed
    server = ServerThread(fake.app()).start()
    try:
        with pytest.raises(ProviderMisconfigured, match="IPAdapter"):
            await comfyui(http, server.url).generate_batch(REQUEST, nothing)
    finally:
        server.stop()


async def test_comfyui_without_a_reference_workflow_makes_the_picture_from_words(
    comfy: tuple[FakeComfyUI, str], http: httpx.AsyncClient
) -> None:
    fake, url = comfy
    provider = comfyui(http, url, references=False)
    assert not provider.capabilities.style_references
    await provider.generate_batch(REQUEST, nothing)
    (workflow,) = fake.prompts.values()
    assert not fake.references and "21" not in workflow


def test_one_reference_leaves_the_workflow_as_it_is() -> None:
    workflow = {"1": {"class_type": "LoadImage", "inputs": {"image": "a.png"}}}
    assert with_references(workflow, ["a.png"]) is workflow


def test_references_first_keeps_the_operators_order_within_each_part() -> None:
    def caps(follows: bool) -> Capabilities:
        return Capabilities(
            aspects=("1:1",),
            negative_prompt=True,
            seed=True,
            max_prompt_chars=100,
            style_references=follows,
        )

    chain = {"horde": caps(False), "openai": caps(True), "a": caps(False), "comfyui": caps(True)}
    assert references_first(chain, list(chain)) == ("openai", "comfyui", "horde", "a")
