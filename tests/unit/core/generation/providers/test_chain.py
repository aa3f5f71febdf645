"""The fallback chain picks the providers that can do what a request needs (real providers'
declared capabilities; the chosen one then called over HTTP against its fake)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from bot.core.errors import NoCapableProvider
from bot.core.generation.providers.base import UpscaleRequest
from bot.core.generation.providers.chain import Needs, capability_rows, capable, select
from bot.core.generation.providers.comfyui import ComfyUIProvider, load_workflow
from bot.core.generation.providers.common import ProviderBase
from bot.core.generation.providers.horde import HordeProvider
from bot.core.generation.providers.openai_images import OpenAIImagesProvider
from bot.core.generation.providers.registry import provider_capabilities
from bot.core.generation.providers.sdwebui import SDWebUIProvider
from bot.core.models import StatusUpdate
from tests.fakes.openai_images import make_png
from tests.fakes.sdwebui_api import FakeSDWebUI
from tests.fakes.server import ServerThread


async def nothing(update: StatusUpdate) -> None:
    return None


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def sd() -> Iterator[tuple[FakeSDWebUI, str]]:
    fake = FakeSDWebUI()
    server = ServerThread(fake.app()).start()
    yield fake, server.url
    server.stop()


def chain(http: httpx.AsyncClient, sd_url: str) -> dict[str, ProviderBase]:
    return {
        "openai": OpenAIImagesProvider(
            api_key="k",
            model="dall-e-3",
            base_url="http://127.0.0.1:9/v1",
            timeout=5.0,
            http=http,
            max_image_bytes=1 << 20,
            vision_model=None,
        ),
        "comfyui": ComfyUIProvider(
            http=http,
            url="http://127.0.0.1:9",
            workflow=load_workflow(None),
            model="sd15.safetensors",
            base_size=512,
            deadline_seconds=5.0,
            img2img_workflow=False,
            upscale_workflow=False,
        ),
        "sdwebui": SDWebUIProvider(http=http, url=sd_url, auth=None, base_size=512, timeout=5.0),
    }


async def test_requests_go_to_the_providers_that_can_serve_them(
    http: httpx.AsyncClient, sd: tuple[FakeSDWebUI, str]
) -> None:
    fake, url = sd
    providers = chain(http, url)
    caps = provider_capabilities(providers)
    assert capable(caps, Needs(aspect="1:1", count=4)) == ["openai", "comfyui", "sdwebui"]
    assert capable(caps, Needs(aspect="3:2")) == ["comfyui", "sdwebui"]  # dall-e-3 has no 3:2
    assert select(caps, Needs(image_input=True)) == ["sdwebui"]
    assert select(caps, Needs(describe=True)) == ["sdwebui"]
    (chosen,) = select(caps, Needs(upscale=True))
    tile = make_png(32, 32, "tile")
    result = await providers[chosen].upscale(UpscaleRequest(generation_id="g", image=tile), nothing)
    assert fake.upscaled[0][0] == tile and result.width == 128


def test_no_capable_provider_is_told_in_plain_words(http: httpx.AsyncClient) -> None:
    providers = chain(http, "http://127.0.0.1:9")
    del providers["sdwebui"]
    with pytest.raises(NoCapableProvider) as caught:
        select(provider_capabilities(providers), Needs(image_input=True))
    assert caught.value.code == "no_capable_provider"
    assert caught.value.message == (
        "None of the image services this bot uses (openai, comfyui) can start from a "
        "picture, so nothing was queued."
    )
    with pytest.raises(NoCapableProvider, match="can describe pictures"):
        select(provider_capabilities(providers), Needs(describe=True))


def test_capability_rows_for_the_providers_command(http: httpx.AsyncClient) -> None:
    horde = HordeProvider(
        http=http, api_url="http://127.0.0.1:9", api_key="0000000000", models=[], deadline_seconds=5
    )
    rows = capability_rows(provider_capabilities({**chain(http, "http://x"), "horde": horde}))
    by_id = {row["provider"]: row for row in rows}
    assert by_id["openai"]["batch"] == "1" and by_id["openai"]["upscaler"] == "none"
    assert by_id["openai"]["sizes"] == "1:1 1024x1024, 16:9 1792x1024, 9:16 1024x1792"
    assert by_id["horde"] == {
        "provider": "horde",
        "batch": "4",
        "image_input": "yes",
        "upscaler": "RealESRGAN_x4plus",
        "describe": "yes",
        "edits": "inpaint, outpaint",
        "sizes": "1:1 512x512, 3:2 576x384, 2:3 384x576, 16:9 640x384, 9:16 384x640",
    }
    assert by_id["comfyui"]["image_input"] == "no" and by_id["sdwebui"]["describe"] == "yes"


def test_a_ratio_a_provider_lacks_is_made_at_its_nearest_aspect() -> None:
    from bot.core.generation.providers.openai_images import sizes_for_model
    from bot.core.generation.providers.sizing import nearest_aspect

    gpt_image = list(sizes_for_model("gpt-image-1"))  # 1:1, 3:2, 2:3
    assert nearest_aspect((16, 9), gpt_image) == "3:2"
    assert nearest_aspect((9, 16), gpt_image) == "2:3"
    assert nearest_aspect((6, 5), gpt_image) == "1:1"
    assert (
        nearest_aspect((5, 4), gpt_image) == "3:2"
    )  # cuts 17 % of the width, not 20 % of the height
    assert nearest_aspect((21, 9), ["1:1", "16:9", "9:16"]) == "16:9"


async def test_the_registry_builds_providers_with_their_operations(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic import SecretStr

    from bot.core.generation.providers.registry import build_providers
    from bot.settings import Settings

    monkeypatch.setattr("bot.core.images.pixels.limit_pixels", lambda max_pixels: None)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        image_providers=["openai", "comfyui", "horde"],
        openai_api_key=SecretStr("sk-made-up"),
        comfyui_url="http://127.0.0.1:9",
    )
    caps = provider_capabilities(build_providers(settings, http))
    assert caps["openai"].describe and caps["openai"].image_input  # gpt-image-1, gpt-4o-mini
    assert caps["comfyui"].image_input and caps["comfyui"].upscaler == "RealESRGAN_x4plus.pth"
    assert caps["comfyui"].images_per_request == 4  # the shipped workflow's {{batch_size}}
    assert select(caps, Needs(describe=True)) == ["openai", "horde"]
