"""ComfyUI: an API-format workflow with placeholders, submitted to `/prompt` and followed.

Placeholders are `{{prompt}}`, `{{negative}}`, `{{seed}}`, `{{width}}`, `{{height}}`,
`{{steps}}`, `{{cfg_scale}}` and `{{model}}` inside JSON strings; a value that is exactly one
placeholder takes the placeholder's type (numbers stay numbers), one inside a longer string
is replaced as text. Progress is followed by polling `/history/{id}` once a second (and
`/queue` for the position) rather than the `/ws` websocket: plain HTTP works through any
reverse proxy and needs no connection kept per job, a missed websocket message cannot
leave a job waiting forever, and a second is small next to generation times.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from bot.core.errors import (
    ProviderError,
    ProviderMisconfigured,
    ProviderTimeout,
    ProviderUnavailable,
)
from bot.core.models import Status, StatusUpdate
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

PLACEHOLDERS = ("prompt", "negative", "seed", "width", "height", "steps", "cfg_scale", "model")
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
MAX_IMAGE_BYTES = 64 * 1024 * 1024
MAX_JSON_BYTES = 8 * 1024 * 1024
CALL_SECONDS = 30.0
POLL_SECONDS = 1.0


def load_workflow(path: Path | None) -> dict[str, Any]:
    """The operator's workflow file, or the shipped text-to-image one; checked at start."""
    if path is None:
        text = resources.files("bot.core.providers").joinpath("workflows/txt2img.json").read_text()
    else:
        text = path.read_text(encoding="utf-8")
    workflow = json.loads(text)
    if not isinstance(workflow, dict) or not all(
        isinstance(node, dict) and "class_type" in node for node in workflow.values()
    ):
        raise ValueError(
            "the workflow must be ComfyUI's API format (Export (API) in ComfyUI): "
            "an object of nodes, each with class_type and inputs"
        )
    found = set(PLACEHOLDER.findall(text))
    unknown = sorted(found - set(PLACEHOLDERS))
    if unknown:
        raise ValueError(
            f"unknown placeholder {{{{{unknown[0]}}}}}; known: "
            + ", ".join("{{" + p + "}}" for p in PLACEHOLDERS)
        )
    if "prompt" not in found:
        raise ValueError("the workflow has no {{prompt}} placeholder")
    return workflow


def fill(node: Any, values: dict[str, Any]) -> Any:
    """Replace placeholders throughout a workflow in one pass, keeping numbers numbers.

    One pass matters: a prompt that itself contains "{{seed}}" stays the user's text."""
    if isinstance(node, dict):
        return {k: fill(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [fill(v, values) for v in node]
    if isinstance(node, str):
        whole = PLACEHOLDER.fullmatch(node)
        if whole and whole.group(1) in values:
            return values[whole.group(1)]
        return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), node)
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
        max_image_bytes: int = MAX_IMAGE_BYTES,
    ) -> None:
        self._http = http
        self._url = url.rstrip("/")
        self._workflow = workflow
        self._model = model
        self._base = base_size
        self._deadline = deadline_seconds
        self._poll = poll_seconds
        self._max_image_bytes = max_image_bytes
        self._uses_seed = "{{seed}}" in json.dumps(workflow)
        self._capabilities = Capabilities(
            aspects=tuple(RATIOS),
            negative_prompt="{{negative}}" in json.dumps(workflow),
            seed=self._uses_seed,
            max_prompt_chars=4000,
            typical_latency_seconds=15.0,
        )

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    @property
    def model(self) -> str:
        return self._model

    async def _request(
        self, method: str, path: str, *, max_bytes: int = MAX_JSON_BYTES, **kwargs: Any
    ) -> CappedResponse:
        response = await capped_request(
            self._http,
            method,
            f"{self._url}{path}",
            name="ComfyUI",
            seconds=CALL_SECONDS,
            max_bytes=max_bytes,
            **kwargs,
        )
        if response.status_code >= 500:
            raise ProviderUnavailable(f"comfyui {response.status_code}")
        return response

    async def _json(self, path: str, **kwargs: Any) -> Any:
        response = await self._request("GET", path, **kwargs)
        if response.status_code != 200:
            raise ProviderUnavailable(f"comfyui {path} answered {response.status_code}")
        return response.json()

    def workflow_for(self, request: ProviderRequest) -> dict[str, Any]:
        width, height = dimensions(request.aspect, self._base)
        values = {
            "prompt": request.prompt,
            "negative": request.negative_prompt,
            "seed": request.seed,
            "width": width,
            "height": height,
            "steps": hint_int(request.hints, "steps", 25, self.id),
            "cfg_scale": hint_float(request.hints, "cfg_scale", 7.0, self.id),
            "model": hint_str(request.hints, "model", self.id) or self._model,
        }
        return dict(fill(self._workflow, values))

    async def generate(self, request: ProviderRequest, progress: ProgressCallback) -> ProviderImage:
        body = {"prompt": self.workflow_for(request), "client_id": request.generation_id}
        response = await self._request("POST", "/prompt", json=body)
        answer = response.json()
        if response.status_code >= 400:
            # Validation of the operator's workflow failed: a setup problem, not the user's.
            error = answer.get("error") if isinstance(answer, dict) else None
            message = error.get("message") if isinstance(error, dict) else response.text[:300]
            nodes = answer.get("node_errors") if isinstance(answer, dict) else None
            raise ProviderMisconfigured(
                f"comfyui rejected the workflow: {message} {json.dumps(nodes)[:500]}"
            )
        prompt_id = str(answer.get("prompt_id") or "") if isinstance(answer, dict) else ""
        if not prompt_id:
            raise ProviderUnavailable("comfyui accepted the workflow without a prompt_id")
        log.info("generation %s: comfyui prompt %s", request.generation_id, prompt_id)
        deadline = time.monotonic() + self._deadline
        try:
            entry = await self._wait(prompt_id, progress, deadline)
        except BaseException:
            await self._forget(prompt_id)
            raise
        return await self._result(entry, request)

    async def _wait(
        self, prompt_id: str, progress: ProgressCallback, deadline: float
    ) -> dict[str, Any]:
        last_shown: tuple[int | None, bool] | None = None
        while True:
            history = await self._json(f"/history/{prompt_id}")
            entry = history.get(prompt_id) if isinstance(history, dict) else None
            if isinstance(entry, dict):
                return entry  # ComfyUI records a prompt in its history once it has run
            position, running = await self._position(prompt_id)
            shown = (position, running)
            if shown != last_shown:
                last_shown = shown
                await progress(
                    StatusUpdate(
                        status=Status.RUNNING,
                        position=position,
                        detail="ComfyUI is drawing it" if running else "in the ComfyUI queue",
                    )
                )
            if time.monotonic() + self._poll > deadline:
                raise ProviderTimeout("comfyui: gave up waiting")
            await asyncio.sleep(self._poll)

    async def _queue(self) -> tuple[list[str], list[str]]:
        queue = await self._json("/queue")
        if not isinstance(queue, dict):
            return [], []

        def ids(items: Any) -> list[str]:
            items = items if isinstance(items, list) else []
            return [str(i[1]) for i in items if isinstance(i, list) and len(i) > 1]

        # Pending items are [number, prompt_id, ...]; ComfyUI runs them in `number` order.
        pending = sorted(
            (i for i in queue.get("queue_pending") or [] if isinstance(i, list) and len(i) > 1),
            key=lambda i: i[0] if isinstance(i[0], int | float) else 0,
        )
        return ids(queue.get("queue_running")), ids(pending)

    async def _position(self, prompt_id: str) -> tuple[int | None, bool]:
        running, pending = await self._queue()
        if prompt_id in running:
            return None, True
        return (pending.index(prompt_id) + 1 if prompt_id in pending else None), False

    async def _result(self, entry: dict[str, Any], request: ProviderRequest) -> ProviderImage:
        status = entry.get("status") or {}
        if status.get("status_str") == "error":
            raise ProviderUnavailable(f"comfyui failed to run the workflow: {_error(status)}")
        for output in (entry.get("outputs") or {}).values():
            for image in output.get("images", []) if isinstance(output, dict) else []:
                if image.get("type", "output") != "output":
                    continue  # previews and temp files are not the result
                params = {
                    "filename": str(image["filename"]),
                    "subfolder": str(image.get("subfolder", "")),
                    "type": "output",
                }
                # Only from ComfyUI's own /view: the bot never follows a provider's links.
                response = await self._request(
                    "GET", "/view", params=params, max_bytes=self._max_image_bytes
                )
                if response.status_code != 200:
                    raise ProviderUnavailable(f"comfyui /view answered {response.status_code}")
                return ProviderImage(
                    data=response.content,
                    model=str(request.hints.get("model", self._model)),
                    seed=request.seed if self._uses_seed else None,
                )
        raise ProviderUnavailable("comfyui finished without an image")

    async def _forget(self, prompt_id: str) -> None:
        """Drop a prompt we gave up on: out of the queue, or interrupted if it is running."""
        try:
            running, _ = await self._queue()
            await self._request("POST", "/queue", json={"delete": [prompt_id]})
            if prompt_id in running:
                await self._request("POST", "/interrupt", json={"prompt_id": prompt_id})
        except ProviderError:
            log.info("comfyui: could not drop %s from the queue", prompt_id)

    async def check(self) -> ProviderCheck:
        """Reachable (`/system_stats`) and, for the shipped workflow's `{{model}}`, whether
        that checkpoint is installed (`/models/checkpoints`)."""
        try:
            stats = await self._json("/system_stats")
            version = (stats.get("system") or {}).get("comfyui_version", "?")
            detail = f"reachable, ComfyUI {version}"
            if "{{model}}" not in json.dumps(self._workflow):
                return ProviderCheck(provider=self.id, ok=True, detail=detail)
            checkpoints = await self._json("/models/checkpoints")
        except (ProviderError, AttributeError) as exc:
            reason = exc.detail if isinstance(exc, ProviderError) else "unexpected answer"
            return ProviderCheck(provider=self.id, ok=False, detail=reason)
        if isinstance(checkpoints, list) and self._model in checkpoints:
            return ProviderCheck(provider=self.id, ok=True, detail=f"{detail}; {self._model}")
        return ProviderCheck(
            provider=self.id,
            ok=False,
            detail=f"{detail}; checkpoint {self._model} not installed (COMFYUI_MODEL)",
        )

    async def aclose(self) -> None:
        return None


def _error(status: dict[str, Any]) -> str:
    """ComfyUI's execution_error message, e.g. a missing checkpoint file."""
    for message in status.get("messages") or []:
        if isinstance(message, list) and len(message) == 2 and message[0] == "execution_error":
            data = message[1] if isinstance(message[1], dict) else {}
            return f"{data.get('node_type', '?')}: {data.get('exception_message', '?')}"
    return "unknown error"
