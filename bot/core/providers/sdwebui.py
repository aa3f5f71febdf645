"""AUTOMATIC1111-compatible servers (AUTOMATIC1111, Forge, SD.Next): `/sdapi/v1/txt2img`.

One blocking call returns the base64 image; its `info` (a JSON string) tells the seed and
model that were used. Per-style sampler, steps, CFG scale and checkpoint come from the
request's hints (`styles.yaml`).
"""

from __future__ import annotations

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
from bot.core.providers.base import (
    Capabilities,
    ProgressCallback,
    ProviderCheck,
    ProviderImage,
    ProviderRequest,
)
from bot.core.providers.hints import hint_float, hint_int, hint_str
from bot.core.providers.sizing import RATIOS, dimensions
from bot.core.providers.transport import CappedResponse, capped_request

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
CHECK_SECONDS = 10.0


class SDWebUIProvider:
    id = "sdwebui"

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        url: str,
        auth: tuple[str, str] | None,
        base_size: int,
        timeout: float,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self._http = http
        self._url = url.rstrip("/")
        self._auth = httpx.BasicAuth(*auth) if auth else None
        self._base = base_size
        self._timeout = timeout
        self._max_bytes = max_response_bytes
        self._capabilities = Capabilities(
            aspects=tuple(RATIOS),
            negative_prompt=True,
            seed=True,
            max_prompt_chars=4000,
            typical_latency_seconds=10.0,
        )

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    @property
    def model(self) -> str:
        return "stable-diffusion"

    async def _request(
        self, method: str, path: str, *, seconds: float, **kwargs: Any
    ) -> CappedResponse:
        response = await capped_request(
            self._http,
            method,
            f"{self._url}{path}",
            name="the Stable Diffusion server",
            seconds=seconds,
            max_bytes=self._max_bytes,
            auth=self._auth or httpx.USE_CLIENT_DEFAULT,
            **kwargs,
        )
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
        return response

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
            "batch_size": 1,
            "n_iter": 1,
            # Not the server's own output folder: the bot keeps its own copy.
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

    async def generate(self, request: ProviderRequest, progress: ProgressCallback) -> ProviderImage:
        response = await self._request(
            "POST", "/sdapi/v1/txt2img", seconds=self._timeout, json=self.body_for(request)
        )
        result = response.json()
        images = result.get("images") if isinstance(result, dict) else None
        if not images:
            raise ProviderUnavailable("sdwebui returned no image")
        try:
            data = base64.b64decode(images[0], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ProviderUnavailable("sdwebui returned an unreadable image") from exc
        info = _info(result.get("info"))
        seed = info.get("seed")
        return ProviderImage(
            data=data,
            model=str(info.get("sd_model_name") or request.hints.get("model") or self.model),
            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        )

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

    async def aclose(self) -> None:
        return None


def _info(raw: Any) -> dict[str, Any]:
    """`info` is a JSON document inside a string; a server that sends none still works."""
    if not isinstance(raw, str):
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
