"""ComfyUI: an API-format workflow with placeholders, submitted to `/prompt` and followed.

Placeholders are JSON string values `"{{prompt}}"`, `"{{negative}}"`, `"{{seed}}"`,
`"{{width}}"`, `"{{height}}"`, `"{{steps}}"`, `"{{cfg_scale}}"` and `"{{model}}"`; a value
that is exactly one placeholder takes the placeholder's type (numbers stay numbers). Progress
is followed by polling `/history/{id}` once a second (and `/queue` for the position): simpler
to run behind proxies than the websocket, and a second is well below generation times.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from bot.core.errors import ProviderRejected, ProviderTimeout, ProviderUnavailable
from bot.core.models import Status, StatusUpdate
from bot.core.providers.base import (
    Capabilities,
    ProgressCallback,
    ProviderCheck,
    ProviderImage,
    ProviderRequest,
)
from bot.core.providers.sizing import RATIOS, dimensions

log = logging.getLogger(__name__)

REQUIRED = ("{{prompt}}",)
MAX_IMAGE_BYTES = 64 * 1024 * 1024
POLL_SECONDS = 1.0


def load_workflow(path: Path | None) -> dict[str, Any]:
    """The operator's workflow file, or the shipped text-to-image one; validated at start."""
    if path is None:
        text = resources.files("bot.core.providers").joinpath("workflows/txt2img.json").read_text()
    else:
        text = path.read_text(encoding="utf-8")
    workflow = json.loads(text)
    if not isinstance(workflow, dict):
        raise ValueError("the workflow must be a JSON object in ComfyUI's API format")
    for placeholder in REQUIRED:
        if placeholder not in text:
            raise ValueError(f"the workflow has no {placeholder} placeholder")
    return workflow


def fill(node: Any, values: dict[str, Any]) -> Any:
    """Replace placeholders throughout a workflow, keeping numbers numbers."""
    if isinstance(node, dict):
        return {k: fill(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [fill(v, values) for v in node]
    if isinstance(node, str):
        for name, value in values.items():
            token = "{{" + name + "}}"
            if node == token:
                return value
            if token in node:
                node = node.replace(token, str(value))
    return node


class ComfyUIProvider:
    id = "comfyui"

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        url: str,
        workflow: dict[str, Any],
        model: str,
        base_size: int,
        deadline_seconds: float,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._http = http
        self._url = url.rstrip("/")
        self._workflow = workflow
        self._model = model
        self._base = base_size
        self._deadline = deadline_seconds
        self._poll = poll_seconds
        self._capabilities = Capabilities(
            aspects=tuple(RATIOS),
            negative_prompt=True,
            seed=True,
            max_prompt_chars=4000,
            typical_latency_seconds=15.0,
        )

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    @property
    def model(self) -> str:
        return self._model

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(
                method, f"{self._url}{path}", timeout=30.0, **kwargs
            )
        except httpx.TimeoutException as exc:
            raise ProviderTimeout("comfyui did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"cannot reach ComfyUI: {exc.__class__.__name__}") from exc
        if len(response.content) > MAX_IMAGE_BYTES:
            raise ProviderUnavailable("comfyui response too large")
        if response.status_code >= 500:
            raise ProviderUnavailable(f"comfyui {response.status_code}")
        return response

    def workflow_for(self, request: ProviderRequest) -> dict[str, Any]:
        width, height = dimensions(request.aspect, self._base)
        values = {
            "prompt": request.prompt,
            "negative": request.negative_prompt,
            "seed": request.seed,
            "width": width,
            "height": height,
            "steps": int(request.hints.get("steps", 25)),
            "cfg_scale": float(request.hints.get("cfg_scale", 7.0)),
            "model": str(request.hints.get("model", self._model)),
        }
        return dict(fill(copy.deepcopy(self._workflow), values))

    async def generate(self, request: ProviderRequest, progress: ProgressCallback) -> ProviderImage:
        body = {"prompt": self.workflow_for(request), "client_id": request.generation_id}
        response = await self._request("POST", "/prompt", json=body)
        if response.status_code >= 400:
            raise ProviderRejected(f"comfyui rejected the workflow: {response.text[:300]}")
        prompt_id = str(response.json().get("prompt_id") or "")
        if not prompt_id:
            raise ProviderUnavailable("comfyui accepted the workflow without a prompt_id")
        deadline = time.monotonic() + self._deadline
        last_position: int | None = None
        try:
            while True:
                history = (await self._request("GET", f"/history/{prompt_id}")).json()
                entry = history.get(prompt_id)
                if entry:
                    return await self._result(entry)
                position = await self._position(prompt_id)
                if position != last_position:
                    last_position = position
                    await progress(
                        StatusUpdate(
                            status=Status.RUNNING, position=position, detail="in the ComfyUI queue"
                        )
                    )
                if time.monotonic() + self._poll > deadline:
                    raise ProviderTimeout("comfyui: gave up waiting")
                await asyncio.sleep(self._poll)
        except (ProviderTimeout, asyncio.CancelledError):
            await self._forget(prompt_id)
            raise

    async def _position(self, prompt_id: str) -> int | None:
        queue = (await self._request("GET", "/queue")).json()
        pending = [item[1] for item in queue.get("queue_pending", []) if len(item) > 1]
        return pending.index(prompt_id) + 1 if prompt_id in pending else None

    async def _result(self, entry: dict[str, Any]) -> ProviderImage:
        status = entry.get("status") or {}
        if status.get("status_str") == "error":
            raise ProviderUnavailable("comfyui failed to run the workflow")
        for output in (entry.get("outputs") or {}).values():
            for image in output.get("images", []):
                params = {
                    "filename": image["filename"],
                    "subfolder": image.get("subfolder", ""),
                    "type": image.get("type", "output"),
                }
                response = await self._request("GET", "/view", params=params)
                if response.status_code != 200:
                    raise ProviderUnavailable(f"comfyui /view answered {response.status_code}")
                return ProviderImage(data=response.content, model=self._model)
        raise ProviderUnavailable("comfyui finished without an image")

    async def _forget(self, prompt_id: str) -> None:
        try:
            await self._request("POST", "/queue", json={"delete": [prompt_id]})
        except (ProviderUnavailable, ProviderTimeout):
            log.info("comfyui: could not drop %s from the queue", prompt_id)

    async def check(self) -> ProviderCheck:
        try:
            response = await self._request("GET", "/system_stats")
        except (ProviderUnavailable, ProviderTimeout) as exc:
            return ProviderCheck(provider=self.id, ok=False, detail=exc.detail)
        if response.status_code != 200:
            return ProviderCheck(
                provider=self.id, ok=False, detail=f"answered {response.status_code}"
            )
        version = response.json().get("system", {}).get("comfyui_version", "?")
        return ProviderCheck(provider=self.id, ok=True, detail=f"reachable, ComfyUI {version}")

    async def aclose(self) -> None:
        return None
