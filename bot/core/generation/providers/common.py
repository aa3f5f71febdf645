"""The scaffolding every provider shares, written once.

`ProviderBase` holds the shared HTTP client, the base URL, the declared capabilities and the
model; it turns HTTP answers into provider errors in one place (`_http` calls the provider's
`_raise_for_status`), closes nothing it does not own, and splits a request for `count`
images into as few provider calls as the provider's batch size allows, run in parallel.
A provider implements `_make` (one call, up to `images_per_request` images, with or without
an init image) and, where it has them, `upscale` and `describe`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

from bot.core.errors import ProviderBadOutput, ProviderUnavailable, ProviderUnsupported
from bot.core.generation.providers.base import (
    Capabilities,
    DescribeRequest,
    Description,
    ProgressCallback,
    ProviderImage,
    ProviderRequest,
    UpscaleRequest,
)
from bot.core.generation.providers.transport import CappedResponse, capped_request
from bot.core.images.pixels import check_provider_image

T = TypeVar("T")
CALL_SECONDS = 30.0
MAX_JSON_BYTES = 8 * 1024 * 1024


def chunks(count: int, size: int) -> list[int]:
    """How many images each call makes: `count` in calls of at most `size` (4, 3 -> [3, 1])."""
    size = max(1, size)
    return [min(size, count - start) for start in range(0, count, size)]


class ProviderBase:
    id: str = ""
    name: str = "the image service"  # in error details: "cannot reach <name>"

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        url: str,
        capabilities: Capabilities,
        model: str,
    ) -> None:
        self._http = http
        self._url = url.rstrip("/")
        self._capabilities = capabilities
        self._model = model

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    @property
    def model(self) -> str:
        return self._model

    async def aclose(self) -> None:
        # The shared httpx client belongs to the process and is closed by its owner.
        return None

    # -- HTTP ---------------------------------------------------------------------------

    async def _http_call(
        self,
        method: str,
        path: str,
        *,
        seconds: float = CALL_SECONDS,
        max_bytes: int = MAX_JSON_BYTES,
        **kwargs: Any,
    ) -> CappedResponse:
        """One capped call to the provider's own host; error statuses become provider errors."""
        response = await capped_request(
            self._http,
            method,
            f"{self._url}{path}",
            name=self.name,
            seconds=seconds,
            max_bytes=max_bytes,
            **kwargs,
        )
        self._raise_for_status(response, path)
        return response

    def _raise_for_status(self, response: CappedResponse, path: str) -> None:
        """Sort an error answer into the provider errors the queue knows; the default
        treats 5xx as an outage and lets the caller read everything else."""
        if response.status_code >= 500:
            raise ProviderUnavailable(f"{self.id} {response.status_code} on {path}")

    # -- operations ---------------------------------------------------------------------

    async def generate(self, request: ProviderRequest, progress: ProgressCallback) -> ProviderImage:
        """One picture (the first of the batch): what the job asks of every provider."""
        images = await self.generate_batch(request, progress)
        return images[0]

    async def generate_batch(
        self, request: ProviderRequest, progress: ProgressCallback
    ) -> list[ProviderImage]:
        """`request.count` images, each with its own bytes, size and seed: in one call where
        the provider makes that many at once, else in parallel calls (seeds seed, seed+k, ...)."""
        caps = self._capabilities
        if request.init_image is not None and not caps.image_input:
            raise ProviderUnsupported(f"{self.id} cannot start from an image")
        can_edit = {
            "inpaint": caps.inpaint,
            "outpaint": caps.outpaint,
            "words": caps.edit_by_words,
        }.get(request.edit, True)
        if not can_edit or (request.edit in ("inpaint", "outpaint") and request.mask is None):
            raise ProviderUnsupported(f"{self.id} cannot make this edit ({request.edit})")
        plan = chunks(request.count, caps.images_per_request)
        requests: list[ProviderRequest] = []
        offset = 0
        for size in plan:
            seed = (request.seed + offset) % 2**32
            requests.append(request.model_copy(update={"count": size, "seed": seed}))
            offset += size
        if len(requests) == 1:
            batches = [await self._make(requests[0], progress)]
        else:
            batches = await _all_or_none([self._make(r, progress) for r in requests])
        images = [image for batch in batches for image in batch]
        if len(images) < request.count:
            raise ProviderUnavailable(f"{self.id} made {len(images)} of {request.count} images")
        return [self._measured(image) for image in images[: request.count]]

    def _measured(self, image: ProviderImage) -> ProviderImage:
        """Width and height from the picture's header (no decoding); a censored result is
        never posted, so it is passed on unread."""
        if image.censored or (image.width and image.height):
            return image
        info = check_provider_image(self.id, image.data)
        return image.model_copy(update={"width": info.width, "height": info.height})

    async def _make(
        self, request: ProviderRequest, progress: ProgressCallback
    ) -> list[ProviderImage]:
        """One provider call making `request.count` images (at most `images_per_request`)."""
        raise NotImplementedError

    async def upscale(self, request: UpscaleRequest, progress: ProgressCallback) -> ProviderImage:
        raise ProviderUnsupported(f"{self.id} has no upscaler")

    async def describe(self, request: DescribeRequest) -> Description:
        raise ProviderUnsupported(f"{self.id} cannot describe images")


async def _all_or_none(calls: list[Coroutine[Any, Any, T]]) -> list[T]:
    """Every call's result, or the first failure with the others cancelled: a batch that
    cannot be complete stops paying for (and, on the Horde or ComfyUI, queueing) the rest."""
    tasks = [asyncio.ensure_future(call) for call in calls]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def upscaled(provider_id: str, data: bytes, model: str) -> ProviderImage:
    """An upscaler's answer, checked from its header like any provider picture."""
    if not data:
        raise ProviderBadOutput(f"{provider_id}: the upscaler returned no image")
    info = check_provider_image(provider_id, data)
    return ProviderImage(data=data, model=model, width=info.width, height=info.height)
