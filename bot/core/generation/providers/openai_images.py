"""OpenAI images API (and OpenAI-compatible servers) through the official `openai` SDK.

Several pictures are one call (`n`; dall-e-3 makes one per call, so more are parallel
calls); image to image is `images.edit` with the picture as input, on the GPT image models,
which is also how they edit: with a `mask` (a PNG with alpha, the picture's size, transparent
= change) for a region or a padded canvas, or by the instruction alone with no mask; style
reference pictures go to the same edit as further `image[]` parts (after the picture to
start from, when there is one), with `input_fidelity: high` on gpt-image-1;
describing is a chat-completions call to `OPENAI_VISION_MODEL` (`openai_vision.py`).
OpenAI has no upscaler.

The SDK reads whole response bodies into memory, and a `b64_json` answer can be of any size,
so the SDK gets an HTTP client that stops reading past the cap (`transport.capped_client`):
the base64 of the largest image allowed (MAX_IMAGE_BYTES) plus room for the JSON around it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from bot.core.errors import (
    ProviderAuthFailed,
    ProviderBadOutput,
    ProviderError,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    ProviderRefused,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    ProviderUnreachable,
    too_large_text,
)
from bot.core.generation import canvases
from bot.core.generation.providers.base import (
    Capabilities,
    DescribeRequest,
    Description,
    ProgressCallback,
    ProviderCheck,
    ProviderImage,
    ProviderRequest,
)
from bot.core.generation.providers.common import ProviderBase
from bot.core.generation.providers.openai_vision import describe_with_vision
from bot.core.generation.providers.transport import ResponseTooLarge, capped_client
from bot.core.images import pixels as images
from bot.core.models import AspectRatio

if TYPE_CHECKING:
    import openai
    from openai import AsyncOpenAI

log = logging.getLogger(__name__)

# Sizes each model family accepts, by aspect ratio. dall-e-3's 1792x1024 is 7:4, the
# closest it gets to 16:9; gpt-image models stop at 3:2.
GPT_IMAGE_SIZES: dict[AspectRatio, str] = {
    "1:1": "1024x1024",
    "3:2": "1536x1024",
    "2:3": "1024x1536",
}
DALLE3_SIZES: dict[AspectRatio, str] = {
    "1:1": "1024x1024",
    "16:9": "1792x1024",
    "9:16": "1024x1792",
}
DALLE2_SIZES: dict[AspectRatio, str] = {"1:1": "1024x1024"}
REFUSAL_CODES = {"moderation_blocked", "content_policy_violation", "content_filter"}
JSON_ROOM = 1024 * 1024  # besides the image: revised prompt, usage, whitespace
MAX_INPUT_SIDE = 2048
EDIT_TAKES = ("PNG", "JPEG", "WEBP")  # gpt-image edits take these, under 50 MB


def response_cap(max_image_bytes: int) -> int:
    """The largest JSON answer read: one image's base64 (4 bytes for 3) and the rest."""
    return max_image_bytes * 4 // 3 + JSON_ROOM


def too_large(what: str, limit: int) -> ProviderBadOutput:
    return ProviderBadOutput(
        f"openai {what} over {limit:,} bytes",
        user_message=too_large_text(round(limit / 1_000_000)),
    )


def sizes_for_model(model: str) -> dict[AspectRatio, str]:
    if model.startswith("dall-e-3"):
        return DALLE3_SIZES
    if model.startswith("dall-e-2"):
        return DALLE2_SIZES
    return GPT_IMAGE_SIZES


def max_n_for_model(model: str) -> int:
    """`n` per call: dall-e-3 makes one picture per request, the others up to 10."""
    return 1 if model.startswith("dall-e-3") else 10


def takes_images(model: str) -> bool:
    """Image edits with a picture as input (no mask): the GPT image models. dall-e-2's edits
    need a transparent area to repaint, so they are no variations."""
    return model.startswith("gpt-image")


async def _alpha_mask(mask: bytes, picture: bytes) -> bytes:
    """The mask as image edits take it: a PNG with alpha of the picture's size, fully
    transparent where the picture may change."""
    info = images.inspect(picture)
    return await asyncio.to_thread(canvases.for_alpha, mask, (info.width, info.height))


def _pixels(size: str) -> tuple[int, int]:
    width, height = size.split("x")
    return int(width), int(height)


def max_prompt_chars_for_model(model: str) -> int:
    if model.startswith("dall-e-2"):
        return 1000
    if model.startswith("dall-e-3"):
        return 4000
    return 32000


def _error_code(exc: openai.APIStatusError) -> str:
    code = getattr(exc, "code", None)
    if code:
        return str(code)
    body = exc.body if isinstance(exc.body, dict) else {}
    inner = body.get("error", body) if isinstance(body, dict) else {}
    return str(inner.get("code") or inner.get("type") or "") if isinstance(inner, dict) else ""


def _retry_after(exc: openai.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def map_openai_error(exc: Exception) -> ProviderError:
    """Sort an SDK exception into retryable and final provider errors."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return ProviderTimeout("openai request timed out")
    if isinstance(exc, openai.APIConnectionError):
        if isinstance(exc.__cause__, httpx.ConnectError):  # DNS failure, connection refused
            return ProviderUnreachable(f"cannot reach the OpenAI API: {exc.__cause__}")
        return ProviderUnavailable(f"the OpenAI API connection failed: {exc.__class__.__name__}")
    if isinstance(exc, openai.APIStatusError):
        code = _error_code(exc)
        status = exc.status_code
        detail = f"openai {status} {code}".strip()
        if status == 429:
            if code == "insufficient_quota":
                return ProviderQuotaExhausted(detail)
            return ProviderRateLimited(detail, retry_after=_retry_after(exc))
        if status in (401, 403):
            return ProviderAuthFailed(detail)
        if code in REFUSAL_CODES:
            return ProviderRefused(detail)
        if status >= 500 or status in (408, 409):
            return ProviderUnavailable(detail, retry_after=_retry_after(exc))
        return ProviderRejected(detail)
    return ProviderUnavailable(f"unexpected error: {exc.__class__.__name__}")


class OpenAIImagesProvider(ProviderBase):
    id = "openai"
    name = "the OpenAI API"

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None,
        timeout: float,
        http: httpx.AsyncClient,
        max_image_bytes: int,
        vision_model: str | None = None,
    ) -> None:
        sizes = sizes_for_model(model)
        super().__init__(
            http=http,
            url=base_url or "https://api.openai.com/v1",
            model=model,
            capabilities=Capabilities(
                aspects=tuple(sizes),
                negative_prompt=False,
                seed=False,
                max_prompt_chars=max_prompt_chars_for_model(model),
                typical_latency_seconds=20.0,
                images_per_request=max_n_for_model(model),
                image_input=takes_images(model),
                # The GPT image models repaint what a mask leaves transparent, and follow
                # an instruction alone ("make it night") with no mask.
                inpaint=takes_images(model),
                outpaint=takes_images(model),
                edit_by_words=takes_images(model),
                style_references=takes_images(model),
                describe=bool(vision_model),
                sizes={a: _pixels(size) for a, size in sizes.items()},
            ),
        )
        self._max_image_bytes = max_image_bytes
        self._vision_model = vision_model
        # The queue owns retries, so the SDK must not retry on its own (max_retries=0). The SDK
        # brings its own HTTP stack, so it keeps its own connection pool.
        self._client_options: dict[str, Any] = {
            "api_key": api_key,
            "base_url": base_url,
            "timeout": timeout,
            "max_retries": 0,
        }
        self._timeout = timeout
        self._clients: dict[int, AsyncOpenAI] = {}
        self._sizes = sizes

    def _params(self, request: ProviderRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self._model,
            "prompt": request.prompt,
            "n": request.count,
            "size": self._sizes[request.aspect],
        }
        quality = request.hints.get("quality")
        if self._model.startswith("dall-e-3"):
            params["quality"] = "hd" if quality in ("high", "hd") else "standard"
            style = request.hints.get("style")
            if style in ("vivid", "natural"):
                params["style"] = style
        elif self._model.startswith("gpt-image") and quality in ("low", "medium", "high", "auto"):
            params["quality"] = quality
        return params

    def _sdk(self, images: int = 1) -> AsyncOpenAI:
        """The SDK client for answers of up to `images` pictures, made on first use: the SDK
        is large, and a bot process that only describes this provider never needs it."""
        if images not in self._clients:
            from openai import AsyncOpenAI

            cap = response_cap(self._max_image_bytes * images)
            http = capped_client(cap, timeout=self._timeout)
            # openai 3.x is typed for httpx2 clients and takes httpx ones as well (openai 2.x
            # takes only httpx): the capped transport is written once, for httpx.
            self._clients[images] = AsyncOpenAI(**self._client_options, http_client=http)  # type: ignore[arg-type,unused-ignore]
        return self._clients[images]

    async def _make(
        self, request: ProviderRequest, progress: ProgressCallback
    ) -> list[ProviderImage]:
        import openai

        if request.aspect not in self._sizes:
            raise ProviderRejected(f"{self._model} cannot make {request.aspect}")
        params = self._params(request)
        try:
            sdk = self._sdk(request.count)
            if request.init_image is None and not request.style_references:
                response = await sdk.images.generate(**params)
            else:
                response = await self._edit(sdk, request, params)
        except ResponseTooLarge as exc:
            raise too_large("answer", exc.limit) from None
        except openai.OpenAIError as exc:
            raise map_openai_error(exc) from exc
        if not response.data:
            raise ProviderUnavailable("openai returned no image")
        made = []
        for item in response.data[: request.count]:
            if item.b64_json:
                if len(item.b64_json) > response_cap(self._max_image_bytes):
                    raise too_large("image", self._max_image_bytes)
                data = base64.b64decode(item.b64_json)
            elif item.url:
                data = await self._download(item.url)
            else:
                raise ProviderUnavailable("openai returned neither b64_json nor url")
            if len(data) > self._max_image_bytes:
                raise too_large("image", self._max_image_bytes)
            made.append(
                ProviderImage(data=data, model=self._model, revised_prompt=item.revised_prompt)
            )
        return made

    async def _edit(
        self, sdk: AsyncOpenAI, request: ProviderRequest, params: dict[str, Any]
    ) -> Any:
        """An edit: the picture to start from (with its mask), then the style references."""
        params.pop("style", None)
        strict = request.init_image is not None and request.strength < 0.5
        if self._model == "gpt-image-1" and (strict or request.style_references):
            params["input_fidelity"] = "high"  # stay close to the picture, or the look
        parts = []
        for number, data in enumerate((request.init_image, *request.style_references)):
            if data is None:
                continue
            picture = await asyncio.to_thread(
                images.fit, data, max_side=MAX_INPUT_SIDE, keep=EDIT_TAKES
            )
            if number == 0 and request.mask is not None:
                mask = await _alpha_mask(request.mask, picture)
                params["mask"] = ("mask.png", mask, "image/png")
            extension, mime = images.file_type(picture)
            parts.append((f"image-{number}.{extension}", picture, mime))
        image: Any = parts[0] if len(parts) == 1 else parts
        return await sdk.images.edit(image=image, **params)

    async def describe(self, request: DescribeRequest) -> Description:
        if not self._vision_model:
            return await super().describe(request)
        import openai

        try:
            return await describe_with_vision(self._sdk(), self._vision_model, request)
        except ResponseTooLarge as exc:
            raise too_large("answer", exc.limit) from None
        except openai.OpenAIError as exc:
            raise map_openai_error(exc) from exc

    async def _download(self, url: str) -> bytes:
        """Fetch a result URL with a size cap; only http(s), never a local file."""
        if urlsplit(url).scheme not in ("http", "https"):
            raise ProviderRejected("openai returned a non-http image url")
        try:
            async with self._http.stream("GET", url, timeout=60) as response:
                if response.status_code != 200:
                    raise ProviderUnavailable(f"image download answered {response.status_code}")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self._max_image_bytes:
                        raise too_large("image download", self._max_image_bytes)
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TimeoutException as exc:
            raise ProviderTimeout("image download timed out") from exc
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"image download failed: {exc.__class__.__name__}") from exc

    async def check(self) -> ProviderCheck:
        import openai

        try:
            await self._sdk().models.retrieve(self._model)
        except ResponseTooLarge as exc:
            return ProviderCheck(provider=self.id, ok=False, detail=str(exc))
        except openai.OpenAIError as exc:
            error = map_openai_error(exc)
            return ProviderCheck(provider=self.id, ok=False, detail=error.detail or error.code)
        return ProviderCheck(provider=self.id, ok=True, detail=f"model {self._model} available")

    async def aclose(self) -> None:
        # The shared httpx client belongs to the process and is closed by its owner; the
        # SDK's own clients are ours.
        for client in self._clients.values():
            await client.close()
