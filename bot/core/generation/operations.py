"""What a worker asks of one provider for a job: a batch (text or image to image), an
upscale or a describe, and the crop that gives any aspect on any provider.

A provider that cannot make the ratio asked for makes its nearest one
(`sizing.nearest_aspect`) and each picture is centre-cropped to the exact ratio
(`images.crop_to_aspect`, in a thread), the Info saying so. A picture that needs no crop is
passed on byte for byte as the provider made it, its PNG text (an AUTOMATIC1111
`parameters` chunk, say) included: that is the stored original. A cropped one is encoded
again and carries no text.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, cast

from bot.core.errors import english
from bot.core.generation.canvases import padded
from bot.core.generation.picture_threads import in_background
from bot.core.generation.providers.base import (
    Capabilities,
    DescribeRequest,
    EditMode,
    ImageOperations,
    ImageProvider,
    ProgressCallback,
    ProviderImage,
    ProviderRequest,
    UpscaleRequest,
)
from bot.core.generation.providers.common import chunks
from bot.core.generation.providers.sizing import RATIOS, nearest_aspect
from bot.core.images.pixels import crop_to_aspect, inspect
from bot.core.language import Text
from bot.core.messages import EDIT_OPERATIONS, JobMessage
from bot.core.models import AspectRatio


@dataclass(frozen=True)
class Outcome:
    model: str
    images: tuple[ProviderImage, ...] = ()
    suggestions: tuple[str, ...] = ()
    crop_note: str | None = None


EDIT_MODES: dict[str, EditMode] = {"inpaint": "inpaint", "outpaint": "outpaint", "edit": "words"}


def can_serve(caps: Capabilities, job: JobMessage) -> bool:
    """Whether a provider can do this job at all (any aspect can be cropped to)."""
    if job.operation == "upscale":
        return caps.upscale
    if job.operation == "describe":
        return caps.describe
    if job.operation in EDIT_OPERATIONS:
        return caps.image_input and {
            "inpaint": caps.inpaint,
            "outpaint": caps.outpaint,
            "edit": caps.edit_by_words,
        }.get(job.operation, False)
    return job.init_image is None or caps.image_input


def calls_for(caps: Capabilities, job: JobMessage) -> int:
    """Paid provider calls one attempt makes (a batch larger than the provider's makes
    several in parallel; each tile of a compare or permutations grid is a call of its own)."""
    if job.operation in ("upscale", "describe"):
        return 1
    if job.variants:
        return len(job.variants)
    return len(chunks(job.count, caps.images_per_request))


def made_aspect(caps: Capabilities, wanted: AspectRatio) -> AspectRatio:
    if wanted in caps.aspects or not caps.aspects:
        return wanted
    return nearest_aspect(RATIOS[wanted], caps.aspects)


def request_for(provider: ImageProvider, job: JobMessage) -> ProviderRequest:
    return ProviderRequest(
        generation_id=job.generation_id,
        prompt=job.prompt,
        negative_prompt=job.negative_prompt,
        aspect=made_aspect(provider.capabilities, job.aspect),
        seed=job.seed,
        hints=job.hints.get(provider.id, {}),
        nsfw=job.nsfw,
        count=job.count,
        init_image=job.init_image,
        strength=job.strength,
        edit=EDIT_MODES.get(job.operation, ""),
        mask=job.mask,
        # Only a provider that follows references gets them; the others work from the words.
        style_references=job.style_references if provider.capabilities.style_references else (),
    )


async def perform(
    provider: ImageProvider, request: ProviderRequest, job: JobMessage, progress: ProgressCallback
) -> Outcome:
    """One attempt of the job on this provider."""
    if job.operation == "upscale":
        assert job.init_image is not None
        image = await _operations(provider).upscale(
            UpscaleRequest(generation_id=job.generation_id, image=job.init_image), progress
        )
        return Outcome(model=image.model, images=(image,))
    if job.operation == "describe":
        assert job.init_image is not None
        description = await _operations(provider).describe(
            DescribeRequest(generation_id=job.generation_id, image=job.init_image)
        )
        return Outcome(model=description.model, suggestions=description.suggestions)
    if job.operation == "outpaint" and job.init_image is not None and job.mask is not None:
        # The bot planned the canvas; the worker pads the picture to it (`canvases`).
        canvas = await in_background(padded, job.init_image, job.mask)
        request = request.model_copy(update={"init_image": canvas})
    if job.variants:
        images = await _tiles(provider, request, job, progress)
    else:
        images = await _batch(provider, request, progress)
    if request.aspect == job.aspect or any(i.censored for i in images):
        return Outcome(model=images[0].model, images=tuple(images))
    return await _cropped(images, request.aspect, job.aspect)


def _operations(provider: ImageProvider) -> ImageOperations:
    # Providers built on ProviderBase offer every operation (unsupported ones raise
    # ProviderUnsupported); `can_serve` picked only providers that declared this one.
    return cast(ImageOperations, provider)


async def _batch(
    provider: ImageProvider, request: ProviderRequest, progress: ProgressCallback
) -> list[ProviderImage]:
    batch: Any = getattr(provider, "generate_batch", None)
    if batch is not None:
        return cast(list[ProviderImage], await batch(request, progress))
    # A provider with `generate` only: one call per picture, seeds seed, seed+1, ...
    calls = [
        provider.generate(request.model_copy(update={"seed": (request.seed + k) % 2**32}), progress)
        for k in range(request.count)
    ]
    return list(await asyncio.gather(*calls))


async def _tiles(
    provider: ImageProvider, request: ProviderRequest, job: JobMessage, progress: ProgressCallback
) -> list[ProviderImage]:
    """A compare or permutations grid: one picture per tile, each with its own prompt,
    negative prompt and hints, all with the job's seed, asked in parallel."""
    calls = [
        _batch(
            provider,
            request.model_copy(
                update={
                    "prompt": variant.prompt,
                    "negative_prompt": variant.negative_prompt,
                    "hints": variant.hints.get(provider.id, {}),
                    "count": 1,
                }
            ),
            progress,
        )
        for variant in job.variants
    ]
    return [images[0] for images in await asyncio.gather(*calls)]


async def _cropped(images: list[ProviderImage], made: str, wanted: AspectRatio) -> Outcome:
    def crop(image: ProviderImage) -> ProviderImage:
        data = crop_to_aspect(image.data, RATIOS[wanted])
        info = inspect(data)
        return image.model_copy(update={"data": data, "width": info.width, "height": info.height})

    first = images[0]
    size = f"{first.width}x{first.height}" if first.width and first.height else made
    cropped = await asyncio.gather(*(asyncio.to_thread(crop, image) for image in images))
    return Outcome(
        model=first.model,
        images=tuple(cropped),
        crop_note=english(crop_note(size, made, wanted)),
    )


def crop_note(size: str, made: str, wanted: str) -> Text:
    """The Info's note of a picture made at the provider's nearest ratio and cropped."""
    return Text("made at {size} ({made}), cropped to {wanted}", size=size, made=made, wanted=wanted)
