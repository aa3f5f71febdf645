"""The AI Horde beyond one picture: params.n, img2img, alchemy upscale and caption (real HTTP)."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from PIL import Image

from bot.core.errors import ProviderTimeout, ProviderUnavailable
from bot.core.generation.providers import horde_alchemy
from bot.core.generation.providers.base import DescribeRequest, ProviderRequest, UpscaleRequest
from bot.core.generation.providers.horde import HordeProvider
from bot.core.images import pixels as images
from bot.core.images.pixels import load_input
from bot.core.models import StatusUpdate
from tests.fakes.horde_api import FakeHorde
from tests.fakes.openai_images import make_png
from tests.fakes.server import ServerThread

REQUEST = ProviderRequest(generation_id="g1", prompt="a fox", aspect="1:1", seed=42)


async def nothing(update: StatusUpdate) -> None:
    return None


@pytest.fixture
def horde() -> Iterator[tuple[FakeHorde, str]]:
    fake = FakeHorde(checks_before_done=1)
    server = ServerThread(fake.app()).start()
    fake.base_url = server.url
    yield fake, f"{server.url}/api/v2"
    server.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def provider(http: httpx.AsyncClient, url: str, **kw: object) -> HordeProvider:
    options: dict[str, object] = {
        "api_key": "0000000000",
        "models": [],
        "deadline_seconds": 5.0,
        "check_interval": 0.05,
        # The fake's storage links are plain http on 127.0.0.1; the real ones are https.
        "link_schemes": ("https", "http"),
    }
    options.update(kw)
    return HordeProvider(http=http, api_url=url, **options)  # type: ignore[arg-type]


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()


async def test_four_images_are_one_request_with_seeds_one_apart(
    horde: tuple[FakeHorde, str], http: httpx.AsyncClient
) -> None:
    fake, url = horde
    made = await provider(http, url).generate_batch(
        REQUEST.model_copy(update={"count": 4}), nothing
    )
    (job,) = fake.jobs.values()
    assert job.payload["params"]["n"] == 4 and job.payload["params"]["seed_variation"] == 1
    assert [image.seed for image in made] == [42, 43, 44, 45]
    assert [pixels(image.data) for image in made] == [pixels(i) for i in job.images]
    assert all((image.width, image.height) == (512, 512) for image in made)


async def test_image_to_image_sends_the_picture_as_webp_with_the_strength(
    horde: tuple[FakeHorde, str], http: httpx.AsyncClient
) -> None:
    fake, url = horde
    source = load_input(make_png(300, 200, "photo"))
    request = REQUEST.model_copy(update={"init_image": source.data, "strength": 0.4})
    await provider(http, url).generate_batch(request, nothing)
    (job,) = fake.jobs.values()
    assert job.payload["source_processing"] == "img2img"
    assert job.payload["params"]["denoising_strength"] == 0.4
    (received,) = fake.source_images
    with Image.open(io.BytesIO(received)) as image:
        assert image.format == "WEBP"
    assert pixels(received) == pixels(source.data)  # lossless: the user's pixels exactly


async def test_base64_that_reads_like_a_link_is_encoded_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clean = make_png(8, 8, "clean")
    looks_like_a_link = base64.b64decode("aHR0httpAAAA")

    def fit(data: bytes, *, webp_method: int = 4, **_: object) -> bytes:
        return looks_like_a_link if webp_method == 4 else clean

    monkeypatch.setattr(images, "fit", fit)
    encoded = horde_alchemy.source_b64(b"", 1024)
    assert "http" not in encoded and base64.b64decode(encoded) == clean


async def test_the_fake_takes_http_in_a_source_image_for_a_link(
    horde: tuple[FakeHorde, str], http: httpx.AsyncClient
) -> None:
    fake, url = horde
    p = provider(http, url)
    body = p._payload(REQUEST, []) | {"source_image": "aHR0httpAAAA"}
    answer = await http.post(
        f"{url}/generate/async",
        json=body,
        headers={"apikey": "0000000000", "Client-Agent": "a:1:b"},
    )
    assert answer.status_code == 400 and answer.json()["rc"] == "ImageValidationFailed"
    body = p._payload(REQUEST, []) | {"source_processing": "img2img"}
    body["params"]["n"] = 21
    answer = await http.post(
        f"{url}/generate/async",
        json=body,
        headers={"apikey": "0000000000", "Client-Agent": "a:1:b"},
    )
    assert answer.status_code == 400 and "params.n" in answer.json()["errors"]
    assert fake.jobs == {} and fake.source_images == []


async def test_upscale_runs_realesrgan_through_alchemy(
    horde: tuple[FakeHorde, str], http: httpx.AsyncClient
) -> None:
    fake, url = horde
    tile = make_png(64, 32, "tile 3")
    result = await provider(http, url).upscale(
        UpscaleRequest(generation_id="g2", image=tile), nothing
    )
    (job,) = fake.interrogations.values()
    assert job.form == "RealESRGAN_x4plus" and pixels(job.source) == pixels(tile)
    assert (result.width, result.height) == (256, 128) and result.model == "RealESRGAN_x4plus"
    with Image.open(io.BytesIO(result.data)) as image:
        assert image.format == "PNG"


async def test_upscale_links_are_https_only_by_default(
    horde: tuple[FakeHorde, str], http: httpx.AsyncClient
) -> None:
    _, url = horde
    strict = provider(http, url, link_schemes=("https",))
    with pytest.raises(ProviderUnavailable, match="non-https"):
        await strict.upscale(UpscaleRequest(generation_id="g", image=make_png(8, 8, "x")), nothing)


async def test_describe_asks_for_a_caption(
    horde: tuple[FakeHorde, str], http: httpx.AsyncClient
) -> None:
    fake, url = horde
    picture = load_input(make_png(120, 80, "p")).data
    found = await provider(http, url).describe(DescribeRequest(generation_id="g3", image=picture))
    (job,) = fake.interrogations.values()
    assert job.form == "caption" and pixels(job.source) == pixels(picture)
    assert found.suggestions == (fake.caption,)


async def test_an_interrogation_given_up_on_is_deleted(
    horde: tuple[FakeHorde, str], http: httpx.AsyncClient
) -> None:
    fake, url = horde
    fake.polls_before_alchemy = 1000
    with pytest.raises(ProviderTimeout):
        await provider(http, url, deadline_seconds=0.3).describe(
            DescribeRequest(generation_id="g", image=make_png(8, 8, "x"))
        )
    (job,) = fake.interrogations.values()
    assert job.cancelled
