"""AUTOMATIC1111-compatible servers (AUTOMATIC1111, Forge, SD.Next).

Text to image is `/sdapi/v1/txt2img`, image to image `/sdapi/v1/img2img` (`init_images`,
`denoising_strength`; with `mask` and `inpainting_fill` it repaints what the mask marks, which
is also how a padded canvas is outpainted), both with `batch_size` for several images in one call; upscaling is
`/sdapi/v1/extra-single-image` (`upscaler_1`, `upscaling_resize`), describing is
`/sdapi/v1/interrogate` with the CLIP model. One blocking call each returns base64 images;
`info` (a JSON string) tells the seeds and model that were used. Per-style sampler, steps,
CFG scale and checkpoint come from the request's hints (`styles.yaml`).

Style reference pictures go through the ControlNet extension as always-on script units
(`alwayson_scripts.controlnet.args`): one IP-Adapter unit per picture (`module`, `model`,
`weight`, the base64 `image`), only when the operator named the IP-Adapter model
(`SDWEBUI_REFERENCE_MODEL`); a server without the extension answers 422 for the script.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from typing import Any

import httpx

from bot.core.errors import (
    ProviderAuthFailed,
    ProviderMisconfigured,
    ProviderRejected,
    ProviderUnavailable,
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
    UpscaleRequest,
)
from bot.core.generation.providers.common import ProviderBase, upscaled
from bot.core.generation.providers.hints import hint_float, hint_int, hint_str
from bot.core.generation.providers.sizing import RATIOS, dimensions
from bot.core.generation.providers.transport import CappedResponse
from bot.core.images import pixels as images

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
CHECK_SECONDS = 10.0
MAX_BATCH = 4
DEFAULT_UPSCALER = "R-ESRGAN 4x+"  # ships with AUTOMATIC1111 and Forge
MAX_INPUT_SIDE = 2048
TAKES = ("PNG", "JPEG", "WEBP")  # what the server's decode_base64_to_image opens
DEFAULT_REFERENCE_MODULE = "ip-adapter_clip_sd15"  # ControlNet's IP-Adapter preprocessor
REFERENCE_WEIGHT = 0.8  # how strongly the look is followed (a style's `reference_weight`)
MAX_REFERENCE_SIDE = 1024


class SDWebUIProvider(ProviderBase):
    id = "sdwebui"
    name = "the Stable Diffusion server"

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        url: str,
        auth: tuple[str, str] | None,
        base_size: int,
        timeout: float,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        upscaler: str = DEFAULT_UPSCALER,
        reference_model: str | None = None,
        reference_module: str = DEFAULT_REFERENCE_MODULE,
    ) -> None:
        super().__init__(
            http=http,
            url=url,
            model="stable-diffusion",
            capabilities=Capabilities(
                aspects=tuple(RATIOS),
                negative_prompt=True,
                seed=True,
                max_prompt_chars=4000,
                typical_latency_seconds=10.0,
                images_per_request=MAX_BATCH,
                image_input=True,
                inpaint=True,
                outpaint=True,
                upscaler=upscaler,
                describe=True,
                style_references=bool(reference_model),
                english_prompts=True,
                sizes={aspect: dimensions(aspect, base_size) for aspect in RATIOS},
            ),
        )
        self._reference = (reference_module, reference_model or "")
        self._auth = httpx.BasicAuth(*auth) if auth else None
        self._base = base_size
        self._timeout = timeout
        self._max_bytes = max_response_bytes
        self._upscaler = upscaler

    async def _request(
        self, method: str, path: str, *, seconds: float, **kwargs: Any
    ) -> CappedResponse:
        return await self._http_call(
            method,
            path,
            seconds=seconds,
            max_bytes=self._max_bytes,
            auth=self._auth or httpx.USE_CLIENT_DEFAULT,
            **kwargs,
        )

    def _raise_for_status(self, response: CappedResponse, path: str) -> None:
        status = response.status_code
        if status in (401, 403):
            raise ProviderAuthFailed(f"sdwebui {status}: check SDWEBUI_USER / SDWEBUI_PASSWORD")
        if status == 404:
            body = response.json()
            said = str(body.get("detail") or "") if isinstance(body, dict) else ""
            if said and said != "Not Found":
                # e.g. "Sampler not found": a style's sampler this server does not have.
                raise ProviderMisconfigured(f"sdwebui 404: {said} (check styles.yaml)")
            raise ProviderMisconfigured(f"sdwebui 404 on {path}: is the server started with --api?")
        if status == 422:
            # FastAPI's validation answer: our body did not fit this server's schema.
            raise ProviderRejected(f"sdwebui 422: {response.text[:300]}")
        if status >= 400:
            body = response.json()
            reason = body.get("errors") or body.get("detail") if isinstance(body, dict) else None
            raise ProviderUnavailable(f"sdwebui {status} {reason or ''}".strip())

    def body_for(self, request: ProviderRequest) -> dict[str, Any]:
        width, height = dimensions(request.aspect, self._base)
        body: dict[str, Any] = {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "seed": request.seed,
            "width": width,
            "height": height,
            "steps": hint_int(request.hints, "steps", 30, self.id),
            "cfg_scale": hint_float(request.hints, "cfg_scale", 7.0, self.id),
            "batch_size": request.count,
            "n_iter": 1,
            # Not the server's own output folder: the bot keeps its own copy (and with it
            # off, the server returns no grid image in front of the batch).
            "save_images": False,
            "send_images": True,
        }
        sampler = hint_str(request.hints, "sampler", self.id)
        if sampler:
            body["sampler_name"] = sampler
        model = hint_str(request.hints, "model", self.id)
        if model:
            body["override_settings"] = {"sd_model_checkpoint": model}
        return body

    async def _make(
        self, request: ProviderRequest, progress: ProgressCallback
    ) -> list[ProviderImage]:
        body = self.body_for(request)
        path = "/sdapi/v1/txt2img"
        if request.init_image is not None:
            path = "/sdapi/v1/img2img"
            picture = await asyncio.to_thread(
                images.fit, request.init_image, max_side=MAX_INPUT_SIDE, keep=TAKES
            )
            body["init_images"] = [base64.b64encode(picture).decode()]
            body["denoising_strength"] = request.strength
            body["resize_mode"] = 1  # crop and resize to the requested size
            if request.mask is not None:
                body.update(await asyncio.to_thread(_inpainting, request, picture))
        if request.style_references and self._capabilities.style_references:
            body["alwayson_scripts"] = {"controlnet": {"args": await self._units(request)}}
        response = await self._request("POST", path, seconds=self._timeout, json=body)
        result = response.json()
        encoded = result.get("images") if isinstance(result, dict) else None
        if not encoded:
            raise ProviderUnavailable("sdwebui returned no image")
        info = _info(result.get("info"))
        all_seeds = info.get("all_seeds")
        seeds: list[Any] = all_seeds if isinstance(all_seeds, list) else []
        model = str(info.get("sd_model_name") or request.hints.get("model") or self.model)
        made = []
        for index, item in enumerate(encoded[: request.count]):
            seed = seeds[index] if index < len(seeds) else info.get("seed")
            made.append(
                ProviderImage(
                    data=_b64(item),
                    model=model,
                    seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
                )
            )
        return made

    async def _units(self, request: ProviderRequest) -> list[dict[str, Any]]:
        """One ControlNet IP-Adapter unit per reference picture."""
        module, model = self._reference
        weight = hint_float(request.hints, "reference_weight", REFERENCE_WEIGHT, self.id)
        units = []
        for data in request.style_references:
            picture = await asyncio.to_thread(
                images.fit, data, max_side=MAX_REFERENCE_SIDE, keep=TAKES
            )
            units.append(
                {
                    "enabled": True,
                    "module": module,
                    "model": model,
                    "weight": weight,
                    "image": base64.b64encode(picture).decode(),
                    "resize_mode": "Crop and Resize",
                    "control_mode": "Balanced",
                    "pixel_perfect": True,
                }
            )
        return units

    async def upscale(self, request: UpscaleRequest, progress: ProgressCallback) -> ProviderImage:
        body = {
            "image": base64.b64encode(request.image).decode(),
            "upscaler_1": self._upscaler,
            "resize_mode": 0,
            "upscaling_resize": request.factor,
            "show_extras_results": True,
        }
        response = await self._request(
            "POST", "/sdapi/v1/extra-single-image", seconds=self._timeout, json=body
        )
        result = response.json()
        image = result.get("image") if isinstance(result, dict) else None
        if not isinstance(image, str) or not image:
            raise ProviderUnavailable("sdwebui upscaler returned no image")
        return upscaled(self.id, _b64(image), self._upscaler)

    async def describe(self, request: DescribeRequest) -> Description:
        body = {"image": base64.b64encode(request.image).decode(), "model": "clip"}
        response = await self._request(
            "POST", "/sdapi/v1/interrogate", seconds=self._timeout, json=body
        )
        result = response.json()
        caption = result.get("caption") if isinstance(result, dict) else None
        if not isinstance(caption, str) or not caption.strip():
            raise ProviderUnavailable("sdwebui interrogate returned no caption")
        return Description(suggestions=(caption.strip(),), model="clip")

    async def check(self) -> ProviderCheck:
        """Reachable, authenticated and with checkpoints (`/sdapi/v1/sd-models`)."""
        try:
            response = await self._request("GET", "/sdapi/v1/sd-models", seconds=CHECK_SECONDS)
        except (ProviderAuthFailed, ProviderMisconfigured, ProviderUnavailable) as exc:
            return ProviderCheck(provider=self.id, ok=False, detail=exc.detail or exc.code)
        models = response.json()
        names = [
            str(m.get("model_name", "?"))
            for m in (models if isinstance(models, list) else [])
            if isinstance(m, dict)
        ]
        if not names:
            return ProviderCheck(provider=self.id, ok=False, detail="reachable, but no checkpoints")
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        return ProviderCheck(provider=self.id, ok=True, detail=f"models: {shown}")


def _inpainting(request: ProviderRequest, picture: bytes) -> dict[str, Any]:
    """img2img's inpainting fields: the mask (white = change) at the picture's size; a new
    area (outpaint) starts from the filled colour, a repainted region from what was there."""
    assert request.mask is not None
    mask = canvases.for_white_beside(picture, request.mask)
    return {
        "mask": base64.b64encode(mask).decode(),
        "inpainting_fill": 0 if request.edit == "outpaint" else 1,  # 0 fill, 1 original
        "mask_blur": 8,  # a soft seam between what is kept and what is new
        "inpaint_full_res": False,  # the whole picture, so the new part fits the scene
        "inpainting_mask_invert": 0,
    }


def _b64(item: Any) -> bytes:
    try:
        return base64.b64decode(str(item), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProviderUnavailable("sdwebui returned an unreadable image") from exc


def _info(raw: Any) -> dict[str, Any]:
    """`info` is a JSON document inside a string; a server that sends none still works."""
    if not isinstance(raw, str):
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
