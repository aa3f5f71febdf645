"""OpenAI beyond one picture, through the real openai client against the fake: n, image
edits with the picture as input, describing with a vision model."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from PIL import Image

from bot.core.errors import ProviderRejected, ProviderUnsupported
from bot.core.generation.providers.base import DescribeRequest, ProviderRequest, UpscaleRequest
from bot.core.generation.providers.openai_images import OpenAIImagesProvider
from bot.core.generation.providers.openai_vision import suggestions_from
from bot.core.images.pixels import load_input
from bot.core.models import StatusUpdate
from tests.fakes.openai_images import FakeOpenAI, make_png

Build = Callable[..., OpenAIImagesProvider]
REQUEST = ProviderRequest(generation_id="g1", prompt="a fox", aspect="1:1", seed=3)


async def nothing(update: StatusUpdate) -> None:
    return None


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
async def make(fake_openai: FakeOpenAI, http: httpx.AsyncClient) -> AsyncIterator[Build]:
    made: list[OpenAIImagesProvider] = []

    def build(
        model: str = "gpt-image-1", vision: str | None = "gpt-4o-mini"
    ) -> OpenAIImagesProvider:
        provider = OpenAIImagesProvider(
            api_key=fake_openai.api_key,
            model=model,
            base_url=f"{fake_openai.base_url}/v1",
            timeout=10.0,
            http=http,
            max_image_bytes=8 * 1024 * 1024,
            vision_model=vision,
        )
        made.append(provider)
        return provider

    yield build
    for provider in made:
        await provider.aclose()


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()


async def test_four_images_are_one_call_with_n(fake_openai: FakeOpenAI, make: Build) -> None:
    made = await make().generate_batch(REQUEST.model_copy(update={"count": 4}), nothing)
    (call,) = fake_openai.calls
    assert call.body["n"] == 4
    assert [image.data for image in made] == fake_openai.images
    assert all((i.width, i.height) == (1024, 1024) for i in made)


async def test_dall_e_3_makes_one_per_call_so_three_are_three_calls(
    fake_openai: FakeOpenAI,
    make: Build,
) -> None:
    provider = make("dall-e-3")
    assert provider.capabilities.images_per_request == 1 and not provider.capabilities.image_input
    made = await provider.generate_batch(REQUEST.model_copy(update={"count": 3}), nothing)
    assert [c.body["n"] for c in fake_openai.calls] == [1, 1, 1]
    assert sorted(i.data for i in made) == sorted(fake_openai.images)


async def test_image_to_image_is_an_edit_with_the_users_picture(
    fake_openai: FakeOpenAI,
    make: Build,
) -> None:
    source = load_input(make_png(600, 400, "my sketch"))
    request = REQUEST.model_copy(
        update={"init_image": source.data, "strength": 0.3, "count": 2, "aspect": "3:2"}
    )
    made = await make().generate_batch(request, nothing)
    (received,) = fake_openai.edit_images
    assert pixels(received) == pixels(source.data)
    (fields,) = fake_openai.edits
    assert fields["n"] == "2" and fields["size"] == "1536x1024" and fields["prompt"] == "a fox"
    assert fields["input_fidelity"] == "high"  # a low strength: stay close to the picture
    assert [i.data for i in made] == fake_openai.images


async def test_a_model_without_image_input_is_refused_before_a_call(
    fake_openai: FakeOpenAI,
    make: Build,
) -> None:
    request = REQUEST.model_copy(update={"init_image": make_png(8, 8, "x")})
    with pytest.raises(ProviderUnsupported):
        await make("dall-e-3").generate_batch(request, nothing)
    with pytest.raises(ProviderUnsupported):
        await make().upscale(UpscaleRequest(generation_id="g", image=make_png(8, 8, "x")), nothing)
    assert fake_openai.calls == []


async def test_the_fake_refuses_what_the_api_refuses(fake_openai: FakeOpenAI, make: Build) -> None:
    with pytest.raises(ProviderRejected):
        await make("dall-e-3")._make(REQUEST.model_copy(update={"count": 2}), nothing)
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{fake_openai.base_url}/v1/images/edits",
            headers={"Authorization": f"Bearer {fake_openai.api_key}"},
            data={"model": "gpt-image-1", "prompt": "x"},
            files={"image": ("cat.png", b"I am text, named like a picture", "image/png")},
        )
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_image_file"
    assert fake_openai.edit_images == []


async def test_describe_sends_the_picture_to_the_vision_model(
    fake_openai: FakeOpenAI,
    make: Build,
) -> None:
    picture = load_input(make_png(200, 100, "photo")).data
    found = await make().describe(DescribeRequest(generation_id="g", image=picture))
    assert fake_openai.vision_images == [picture]
    assert found.model == "gpt-4o-mini" and len(found.suggestions) == 4
    assert found.suggestions[0] == "a red fox in fresh snow, soft morning light, photograph"


async def test_no_vision_model_means_no_describe(make: Build) -> None:
    provider = make(vision=None)
    assert not provider.capabilities.describe
    with pytest.raises(ProviderUnsupported):
        await provider.describe(DescribeRequest(generation_id="g", image=make_png(8, 8, "x")))


def test_suggestions_are_cleaned_lines() -> None:
    text = '1. "a fox"\n\n- a fox\n* an owl\n3) a cat\nplain line'
    assert suggestions_from(text, 4) == ("a fox", "an owl", "a cat", "plain line")
    assert suggestions_from(text, 2) == ("a fox", "an owl")


async def test_a_failed_call_fails_the_whole_batch_at_once(
    fake_openai: FakeOpenAI, make: Build
) -> None:

    from bot.core.errors import ProviderUnavailable

    fake_openai.script = ["500", "slow:20", "slow:20"]
    with pytest.raises(ProviderUnavailable):
        await make("dall-e-3").generate_batch(REQUEST.model_copy(update={"count": 3}), nothing)
    # The failure came while the two slow calls were still in flight: they were not waited for
    # (an event, not a stopwatch: a loaded machine makes the failed call slow, not the test wrong).
    assert fake_openai.in_flight == 2
