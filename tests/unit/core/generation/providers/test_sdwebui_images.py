"""AUTOMATIC1111 beyond one picture: batches, image to image, upscale, describe (real HTTP)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from PIL import Image

from bot.core.errors import ProviderMisconfigured
from bot.core.generation.providers.base import DescribeRequest, ProviderRequest, UpscaleRequest
from bot.core.generation.providers.sdwebui import SDWebUIProvider
from bot.core.images.pixels import load_input
from bot.core.models import StatusUpdate
from tests.fakes.openai_images import make_png
from tests.fakes.sdwebui_api import FakeSDWebUI
from tests.fakes.server import ServerThread

REQUEST = ProviderRequest(generation_id="g1", prompt="a fox", aspect="1:1", seed=77)


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


def provider(http: httpx.AsyncClient, url: str) -> SDWebUIProvider:
    return SDWebUIProvider(http=http, url=url, auth=("op", "pw"), base_size=512, timeout=10.0)


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()


async def test_four_images_come_from_one_call_each_with_its_bytes_size_and_seed(
    sd: tuple[FakeSDWebUI, str], http: httpx.AsyncClient
) -> None:
    fake, url = sd
    made = await provider(http, url).generate_batch(
        REQUEST.model_copy(update={"count": 4}), nothing
    )
    assert len(fake.bodies) == 1 and fake.bodies[0]["batch_size"] == 4
    assert [image.data for image in made] == fake.images
    assert len({image.data for image in made}) == 4
    assert [image.seed for image in made] == [77, 78, 79, 80]
    assert all((image.width, image.height) == (512, 512) for image in made)


async def test_image_to_image_sends_the_users_pixels_and_the_strength(
    sd: tuple[FakeSDWebUI, str], http: httpx.AsyncClient
) -> None:
    fake, url = sd
    source = load_input(make_png(640, 480, "sketch"))
    request = REQUEST.model_copy(
        update={"init_image": source.data, "strength": 0.35, "count": 2, "aspect": "3:2"}
    )
    made = await provider(http, url).generate_batch(request, nothing)
    assert len(made) == 2 and len(fake.init_images) == 1
    assert pixels(fake.init_images[0]) == pixels(source.data)
    body = fake.bodies[0]
    assert body["denoising_strength"] == 0.35 and body["batch_size"] == 2
    assert (body["width"], body["height"]) == (640, 448)


async def test_upscale_uses_the_named_upscaler_on_the_chosen_image(
    sd: tuple[FakeSDWebUI, str], http: httpx.AsyncClient
) -> None:
    fake, url = sd
    original = make_png(64, 48, "tile 3")
    result = await provider(http, url).upscale(
        UpscaleRequest(generation_id="g2", image=original), nothing
    )
    received, body = fake.upscaled[0]
    assert received == original
    assert body["upscaler_1"] == "R-ESRGAN 4x+" and body["upscaling_resize"] == 4
    assert (result.width, result.height) == (256, 192) and result.model == "R-ESRGAN 4x+"


async def test_an_upscaler_the_server_lacks_is_a_setup_problem(
    sd: tuple[FakeSDWebUI, str], http: httpx.AsyncClient
) -> None:
    _, url = sd
    p = SDWebUIProvider(
        http=http, url=url, auth=("op", "pw"), base_size=512, timeout=10.0, upscaler="Missing"
    )
    assert p.capabilities.upscaler == "Missing"
    with pytest.raises(ProviderMisconfigured, match="could not find upscaler"):
        await p.upscale(UpscaleRequest(generation_id="g", image=make_png(8, 8, "x")), nothing)


async def test_describe_asks_clip_for_a_caption(
    sd: tuple[FakeSDWebUI, str], http: httpx.AsyncClient
) -> None:
    fake, url = sd
    picture = load_input(make_png(100, 100, "photo")).data
    found = await provider(http, url).describe(DescribeRequest(generation_id="g3", image=picture))
    assert fake.interrogated == [(picture, "clip")]
    assert found.suggestions == (fake.caption,)


async def test_the_fake_refuses_what_the_server_would(
    sd: tuple[FakeSDWebUI, str], http: httpx.AsyncClient
) -> None:
    _, url = sd
    p = provider(http, url)
    body = p.body_for(REQUEST) | {"init_images": ["bm90IGFuIGltYWdl"], "denoising_strength": 2}
    response = await http.post(f"{url}/sdapi/v1/img2img", json=body, auth=("op", "pw"))
    assert response.status_code == 422
    body["denoising_strength"] = 0.5
    response = await http.post(f"{url}/sdapi/v1/img2img", json=body, auth=("op", "pw"))
    assert response.status_code == 400 and response.json()["detail"] == "Invalid encoded image"
    too_many = p.body_for(REQUEST) | {"batch_size": 9}
    response = await http.post(f"{url}/sdapi/v1/txt2img", json=too_many, auth=("op", "pw"))
    assert response.status_code == 422


async def test_capabilities_are_declared(http: httpx.AsyncClient) -> None:
    caps = provider(http, "http://127.0.0.1:9").capabilities
    assert (caps.images_per_request, caps.image_input, caps.describe) == (4, True, True)
    assert caps.upscaler == "R-ESRGAN 4x+" and caps.sizes["16:9"] == (704, 384)
