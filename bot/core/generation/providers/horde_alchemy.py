"""AI Horde "alchemy" (`/interrogate/async`): captions and upscaling of an existing image.

One form per request: `caption` describes the image (BLIP), `RealESRGAN_x4plus` upscales it
(the result is a storage link). Followed like a generation: submit, poll
`/interrogate/status/{id}`, delete it when the bot gives up.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.core.errors import ProviderError, ProviderUnavailable
from bot.core.generation.providers.base import ProgressCallback
from bot.core.generation.providers.polling import Poll, Wording, follow
from bot.core.images import pixels as images

Call = Callable[..., Awaitable[Any]]
UPSCALER = "RealESRGAN_x4plus"
MAX_SOURCE_SIDE = 2048  # the Horde refuses more than 255 tiles of 512x512 for alchemy
WORDING = Wording(
    queued="in the AI Horde queue",
    running="an AI Horde worker is on it",
    gave_up="horde: gave up waiting for the interrogation",
)


def source_b64(data: bytes, max_side: int) -> str:
    """The picture as base64 lossless WebP, as the Horde wants it.

    The Horde takes any `source_image` containing "http" for a URL (`ensure_source_image_
    uploaded`), and base64 can contain those four letters by chance; another WebP encoding
    effort gives other bytes, so the picture is encoded again until the text is clean."""
    for method in (4, 6, 3, 5, 2, 1, 0):
        encoded = base64.b64encode(
            images.fit(data, max_side=max_side, format="WEBP", webp_method=method)
        ).decode()
        if "http" not in encoded:
            return encoded
    raise ProviderUnavailable("horde: the picture cannot be sent without looking like a link")


class Alchemy:
    def __init__(self, call: Call, *, interval: float, deadline_seconds: float) -> None:
        self._call = call
        self._interval = interval
        self._deadline = deadline_seconds

    async def run(self, form: str, image: bytes, progress: ProgressCallback) -> dict[str, Any]:
        """The form's `result` once a worker has done it."""
        source = await asyncio.to_thread(source_b64, image, MAX_SOURCE_SIDE)
        body = {"forms": [{"name": form}], "source_image": source}
        submitted = await self._call("POST", "/interrogate/async", json=body)
        job_id = str(submitted.get("id") or "") if isinstance(submitted, dict) else ""
        if not job_id:
            raise ProviderUnavailable("horde accepted the interrogation without an id")

        async def check(job: str) -> Poll[dict[str, Any]]:
            status = await self._call("GET", f"/interrogate/status/{job}")
            state = str(status.get("state") or "") if isinstance(status, dict) else ""
            if state in ("faulted", "cancelled"):
                raise ProviderUnavailable(f"the AI Horde could not do this ({state})")
            if state == "done":
                for item in status.get("forms") or []:
                    if isinstance(item, dict) and item.get("form") == form:
                        result = item.get("result")
                        if isinstance(result, dict) and result:
                            return Poll(result=result)
                raise ProviderUnavailable(f"horde finished the {form} without a result")
            return Poll(running=state == "processing")

        async def cancel(job: str) -> None:
            try:
                await self._call("DELETE", f"/interrogate/status/{job}")
            except ProviderError:
                pass

        return await follow(
            job_id,
            check=check,
            cancel=cancel,
            progress=progress,
            interval=self._interval,
            deadline=time.monotonic() + self._deadline,
            wording=WORDING,
        )
