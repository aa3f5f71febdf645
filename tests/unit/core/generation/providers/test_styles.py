"""Every shipped style works with every self-hosted provider: its hints pass the strict fakes.

The same style id must work with every provider; a hint a provider would refuse (a sampler
name from another UI, a string where a number belongs) is caught here, not by users.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from bot.core.errors import ProviderMisconfigured
from bot.core.generation.providers.base import ImageProvider, ProviderRequest
from bot.core.generation.providers.comfyui import ComfyUIProvider, load_workflow
from bot.core.generation.providers.horde import HordeProvider
from bot.core.generation.providers.sdwebui import SDWebUIProvider
from bot.core.models import StatusUpdate
from bot.core.requests.styles import load_catalogue
from tests.fakes.comfyui_api import FakeComfyUI
from tests.fakes.horde_api import FakeHorde
from tests.fakes.sdwebui_api import FakeSDWebUI
from tests.fakes.server import ServerThread

STYLES = list(load_catalogue())


async def nothing(update: StatusUpdate) -> None:
    return None


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def fakes() -> Iterator[tuple[FakeHorde, FakeSDWebUI, FakeComfyUI, list[str]]]:
    horde, sd, comfy = FakeHorde(checks_before_done=0), FakeSDWebUI(), FakeComfyUI()
    servers = [ServerThread(f.app()).start() for f in (horde, sd, comfy)]
    yield horde, sd, comfy, [s.url for s in servers]
    for server in servers:
        server.stop()


def providers(http: httpx.AsyncClient, urls: list[str]) -> list[ImageProvider]:
    return [
        HordeProvider(
            http=http,
            api_url=f"{urls[0]}/api/v2",
            api_key="0000000000",
            models=[],
            deadline_seconds=5,
            check_interval=0.01,
        ),
        SDWebUIProvider(http=http, url=urls[1], auth=None, base_size=1024, timeout=5),
        ComfyUIProvider(
            http=http,
            url=urls[2],
            workflow=load_workflow(None),
            model="v1-5-pruned-emaonly.safetensors",
            base_size=512,
            deadline_seconds=5,
            poll_seconds=0.01,
        ),
    ]


async def test_every_style_with_every_self_hosted_provider(
    fakes: tuple[FakeHorde, FakeSDWebUI, FakeComfyUI, list[str]], http: httpx.AsyncClient
) -> None:
    horde, sd, comfy, urls = fakes
    for provider in providers(http, urls):
        for style in STYLES:
            request = ProviderRequest(
                generation_id=f"{provider.id}-{style.id}",
                prompt=style.render("a lighthouse"),
                negative_prompt=style.negative,
                seed=1,
                hints=style.providers.get(provider.id, {}),
            )
            image = await provider.generate(request, nothing)
            assert image.data, (provider.id, style.id)
    assert len(horde.jobs) == len(sd.bodies) == len(comfy.prompts) == len(STYLES)
    # Styles that name a sampler reach the servers with it.
    samplers = {b.get("sampler_name") for b in sd.bodies}
    assert "DPM++ 2M" in samplers
    assert "k_dpmpp_2m" in {j.payload["params"]["sampler_name"] for j in horde.jobs.values()}


async def test_hints_of_the_wrong_type_are_a_setup_problem(
    fakes: tuple[FakeHorde, FakeSDWebUI, FakeComfyUI, list[str]], http: httpx.AsyncClient
) -> None:
    horde, sd, comfy, urls = fakes
    request = ProviderRequest(generation_id="g", prompt="p", hints={"steps": "many"})
    for provider in providers(http, urls):
        with pytest.raises(ProviderMisconfigured, match="steps='many'"):
            await provider.generate(request, nothing)
    assert horde.jobs == {} and sd.bodies == [] and comfy.prompts == {}


async def test_horde_models_setting_outranks_a_styles_model(
    fakes: tuple[FakeHorde, FakeSDWebUI, FakeComfyUI, list[str]], http: httpx.AsyncClient
) -> None:
    horde, _, _, urls = fakes
    provider = HordeProvider(
        http=http,
        api_url=f"{urls[0]}/api/v2",
        api_key="0000000000",
        models=["AlbedoBase XL"],
        deadline_seconds=5,
        check_interval=0.01,
    )
    for model in ("Deliberate", "AlbedoBase XL"):
        request = ProviderRequest(generation_id="g", prompt="p", hints={"model": model})
        await provider.generate(request, nothing)
    assert [j.payload["models"] for j in horde.jobs.values()] == [["AlbedoBase XL"]] * 2
