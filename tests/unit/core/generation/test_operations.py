"""What one worker attempt asks of a provider: which providers can serve a job, how many
paid calls it makes, and any aspect by making the nearest and cropping."""

from __future__ import annotations

import io

from PIL import Image

from bot.core.generation.operations import calls_for, can_serve, made_aspect, perform, request_for
from bot.core.generation.providers.base import (
    Capabilities,
    ProviderCheck,
    ProviderImage,
    ProviderRequest,
)
from bot.core.models import StatusUpdate
from tests.support.generations import job

SQUARE_AND_WIDE = Capabilities(
    aspects=("1:1", "3:2", "2:3"), negative_prompt=False, seed=True, max_prompt_chars=100
)


class OneAtATime:
    """A provider with `generate` only (no batches): every call is recorded."""

    id = "one"
    model = "m1"
    capabilities = SQUARE_AND_WIDE

    def __init__(self) -> None:
        self.requests: list[ProviderRequest] = []

    async def generate(self, request: ProviderRequest, progress: object) -> ProviderImage:
        self.requests.append(request)
        width, height = {"1:1": (300, 300), "3:2": (300, 200), "2:3": (200, 300)}[request.aspect]
        out = io.BytesIO()
        Image.new("RGB", (width, height), (request.seed % 256, 0, 0)).save(out, format="PNG")
        return ProviderImage(
            data=out.getvalue(), model="m1", seed=request.seed, width=width, height=height
        )

    async def check(self) -> ProviderCheck:
        return ProviderCheck(provider="one", ok=True, detail="")

    async def aclose(self) -> None:
        return None


async def no_progress(_update: StatusUpdate) -> None:
    return None


def test_which_providers_can_serve_a_job() -> None:
    takes_images = SQUARE_AND_WIDE.model_copy(update={"image_input": True, "upscaler": "x4"})
    assert can_serve(SQUARE_AND_WIDE, job(aspect="16:9"))  # any aspect: cropped
    assert not can_serve(SQUARE_AND_WIDE, job(init_image=b"png"))
    assert can_serve(takes_images, job(init_image=b"png"))
    assert not can_serve(SQUARE_AND_WIDE, job(operation="upscale", init_image=b"png"))
    assert can_serve(takes_images, job(operation="upscale", init_image=b"png"))
    assert not can_serve(takes_images, job(operation="describe", init_image=b"png"))


def test_paid_calls_follow_the_providers_batch_size() -> None:
    assert calls_for(SQUARE_AND_WIDE, job(count=4)) == 4
    batches = SQUARE_AND_WIDE.model_copy(update={"images_per_request": 3})
    assert calls_for(batches, job(count=4)) == 2
    assert calls_for(batches, job(operation="upscale", count=1)) == 1


def test_the_nearest_aspect_is_asked_for() -> None:
    assert made_aspect(SQUARE_AND_WIDE, "16:9") == "3:2"
    assert made_aspect(SQUARE_AND_WIDE, "9:16") == "2:3"
    assert made_aspect(SQUARE_AND_WIDE, "3:2") == "3:2"


async def test_a_batch_on_a_one_at_a_time_provider_is_cropped_to_the_exact_ratio() -> None:
    provider = OneAtATime()
    wanted = job(aspect="16:9", count=3)
    outcome = await perform(provider, request_for(provider, wanted), wanted, no_progress)
    assert [r.aspect for r in provider.requests] == ["3:2"] * 3
    assert sorted(r.seed for r in provider.requests) == [10, 11, 12]
    assert [(i.width, i.height) for i in outcome.images] == [(300, 168)] * 3
    for image in outcome.images:
        with Image.open(io.BytesIO(image.data)) as picture:
            assert picture.size == (300, 168)
    assert outcome.crop_note == "made at 300x200 (3:2), cropped to 16:9"
    assert sorted(i.seed or 0 for i in outcome.images) == [10, 11, 12]


async def test_a_ratio_the_provider_makes_is_passed_on_byte_for_byte() -> None:
    provider = OneAtATime()
    wanted = job(aspect="3:2", count=1)
    outcome = await perform(provider, request_for(provider, wanted), wanted, no_progress)
    assert outcome.crop_note is None
    assert [i.data for i in outcome.images] == [
        (await provider.generate(provider.requests[0], no_progress)).data
    ]
