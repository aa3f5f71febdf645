"""AUTOMATIC1111-compatible servers (AUTOMATIC1111, Forge, SD.Next): `/sdapi/v1/txt2img`."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import httpx

from bot.core.errors import (
    ProviderAuthFailed,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from bot.core.providers.base import (
    Capabilities,
    ProgressCallback,
    ProviderCheck,
    ProviderImage,
    ProviderRequest,
)
from bot.core.providers.sizing import RATIOS, dimensions

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 64 * 1024 * 1024


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
    ) -> None:
        self._http = http
        self._url = url.rstrip("/")
        self._auth: httpx.Auth | httpx.BasicAuth | None = httpx.BasicAuth(*auth) if auth else None
        self._base = base_size
        self._timeout = timeout
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

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        try:
            response = await self._http.post(
                f"{self._url}{path}",
                json=body,
                auth=self._auth or httpx.USE_CLIENT_DEFAULT,
                timeout=self._timeout,
            )
        except httpx.TimeoutException as exc:
            raise ProviderTimeout("sdwebui did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(
                f"cannot reach the SD server: {exc.__class__.__name__}"
            ) from exc
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise ProviderUnavailable("sdwebui response too large")
        if response.status_code == 401:
            raise ProviderAuthFailed("sdwebui 401: check SDWEBUI_USER / SDWEBUI_PASSWORD")
        if response.status_code == 422:
            raise ProviderRejected(f"sdwebui 422: {response.text[:200]}")
        if response.status_code >= 400:
            raise ProviderUnavailable(f"sdwebui {response.status_code}")
        return response.json()

    async def generate(self, request: ProviderRequest, progress: ProgressCallback) -> ProviderImage:
        width, height = dimensions(request.aspect, self._base)
        body: dict[str, Any] = {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "seed": request.seed,
            "width": width,
            "height": height,
            "steps": int(request.hints.get("steps", 30)),
            "cfg_scale": float(request.hints.get("cfg_scale", 7.0)),
            "batch_size": 1,
            "n_iter": 1,
        }
        if "sampler" in request.hints:
            body["sampler_name"] = str(request.hints["sampler"])
        if "model" in request.hints:
            body["override_settings"] = {"sd_model_checkpoint": str(request.hints["model"])}
        result = await self._post("/sdapi/v1/txt2img", body)
        images = result.get("images") or []
        if not images:
            raise ProviderUnavailable("sdwebui returned no image")
        try:
            data = base64.b64decode(images[0])
        except ValueError as exc:
            raise ProviderUnavailable("sdwebui returned an unreadable image") from exc
        seed: int | None = None
        try:
            seed = int(json.loads(result.get("info") or "{}").get("seed"))
        except (ValueError, TypeError):
            seed = None
        return ProviderImage(data=data, model=self.model, seed=seed)

    async def check(self) -> ProviderCheck:
        try:
            response = await self._http.get(
                f"{self._url}/sdapi/v1/sd-models",
                auth=self._auth or httpx.USE_CLIENT_DEFAULT,
                timeout=10.0,
            )
        except httpx.HTTPError as exc:
            return ProviderCheck(
                provider=self.id, ok=False, detail=f"unreachable ({exc.__class__.__name__})"
            )
        if response.status_code != 200:
            return ProviderCheck(
                provider=self.id, ok=False, detail=f"answered {response.status_code}"
            )
        names = [m.get("model_name", "?") for m in response.json()][:3]
        return ProviderCheck(
            provider=self.id, ok=True, detail=f"models: {', '.join(names) or 'none'}"
        )

    async def aclose(self) -> None:
        return None
