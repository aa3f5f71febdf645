"""ComfyUI: API-format workflows with placeholders, submitted to `/prompt` and followed.

Placeholders (see `comfyui_workflow.py`) sit inside JSON strings; a value that is exactly
one placeholder takes the placeholder's type (numbers stay numbers), one inside a longer
string is replaced as text. Several images are one prompt (`{{batch_size}}` in the latent);
image to image and upscaling upload the picture (`/upload/image`, a file name made from its
hash) and run the shipped `img2img.json` / `upscale.json`; an edit (inpaint, or outpaint of a
padded canvas) uploads the picture and its mask and runs `inpaint.json`; style reference
pictures, when a reference workflow is set (`COMFYUI_REFERENCE_WORKFLOW`), are uploaded and
run through it (IP-Adapter; several are one image batch). Progress is followed by polling
`/history/{id}` once a second (and `/queue` for the position) rather than the `/ws`
websocket: plain HTTP works through any reverse proxy and needs no connection kept per job,
a missed websocket message cannot leave a job waiting forever, and a second is small next
to generation times. The loop is the shared one in `polling.py`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from typing import Any, Literal

import httpx

from bot.core.errors import ProviderError, ProviderMisconfigured, ProviderUnavailable
from bot.core.generation import canvases
from bot.core.generation.providers.base import (
    Capabilities,
    ProgressCallback,
    ProviderCheck,
    ProviderImage,
    ProviderRequest,
    UpscaleRequest,
)
from bot.core.generation.providers.comfyui_workflow import (
    PLACEHOLDERS,
    WorkflowKind,
    fill,
    load_workflow,
    uses,
    with_references,
)
from bot.core.generation.providers.common import ProviderBase, upscaled
from bot.core.generation.providers.hints import hint_float, hint_int, hint_str
from bot.core.generation.providers.polling import Poll, Wording, follow
from bot.core.generation.providers.sizing import RATIOS, dimensions
from bot.core.generation.providers.transport import CappedResponse
from bot.core.images import pixels as images
from bot.core.images.pixels import file_type, inspect

__all__ = ["PLACEHOLDERS", "ComfyUIProvider", "fill", "load_workflow"]

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 64 * 1024 * 1024
POLL_SECONDS = 1.0
MAX_BATCH = 4
DEFAULT_UPSCALER = "RealESRGAN_x4plus.pth"
WORDING = Wording(
    queued="in the ComfyUI queue",
    running="ComfyUI is drawing it",
    gave_up="comfyui: gave up waiting",
)
MaybeWorkflow = dict[str, Any] | Literal[False] | None  # None: the shipped one; False: none


class ComfyUIProvider(ProviderBase):
    id = "comfyui"
    name = "ComfyUI"

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
        img2img_workflow: MaybeWorkflow = None,
        upscale_workflow: MaybeWorkflow = None,
        upscaler: str = DEFAULT_UPSCALER,
        inpaint_workflow: MaybeWorkflow = None,
        reference_workflow: dict[str, Any] | None = None,
    ) -> None:
        self._img2img = _workflow_or_shipped(img2img_workflow, "img2img")
        self._inpaint = _workflow_or_shipped(inpaint_workflow, "inpaint")
        self._upscale = _workflow_or_shipped(upscale_workflow, "upscale")
        batched = uses(workflow, "batch_size") and (
            not self._img2img or uses(self._img2img, "batch_size")
        )
        super().__init__(
            http=http,
            url=url,
            model=model,
            capabilities=Capabilities(
                aspects=tuple(RATIOS),
                negative_prompt=uses(workflow, "negative"),
                seed=uses(workflow, "seed"),
                max_prompt_chars=4000,
                typical_latency_seconds=15.0,
                images_per_request=MAX_BATCH if batched else 1,
                image_input=bool(self._img2img),
                inpaint=bool(self._inpaint),
                outpaint=bool(self._inpaint),
                style_references=reference_workflow is not None,
                english_prompts=True,
                upscaler=upscaler if self._upscale else None,
                sizes={aspect: dimensions(aspect, base_size) for aspect in RATIOS},
            ),
        )
        self._workflow = workflow
        self._reference = reference_workflow
        self._base = base_size
        self._deadline = deadline_seconds
        self._poll = poll_seconds
        self._max_image_bytes = max_image_bytes
        self._upscaler = upscaler

    def _raise_for_status(self, response: CappedResponse, path: str) -> None:
        if response.status_code >= 500:
            raise ProviderUnavailable(f"comfyui {response.status_code}")

    async def _json(self, path: str, **kwargs: Any) -> Any:
        response = await self._http_call("GET", path, **kwargs)
        if response.status_code != 200:
            raise ProviderUnavailable(f"comfyui {path} answered {response.status_code}")
        return response.json()

    def _values(self, request: ProviderRequest) -> dict[str, Any]:
        width, height = dimensions(request.aspect, self._base)
        return {
            "prompt": request.prompt,
            "negative": request.negative_prompt,
            "seed": request.seed,
            "width": width,
            "height": height,
            "steps": hint_int(request.hints, "steps", 25, self.id),
            "cfg_scale": hint_float(request.hints, "cfg_scale", 7.0, self.id),
            "model": hint_str(request.hints, "model", self.id) or self._model,
            "batch_size": request.count,
            "denoise": request.strength,
            "reference_weight": hint_float(request.hints, "reference_weight", 0.8, self.id),
        }

    def workflow_for(self, request: ProviderRequest) -> dict[str, Any]:
        return dict(fill(self._workflow, self._values(request)))

    async def _make(
        self, request: ProviderRequest, progress: ProgressCallback
    ) -> list[ProviderImage]:
        workflow = self._workflow
        values = self._values(request)
        filled: dict[str, Any] | None = None
        if request.mask is not None and request.init_image is not None:
            if not self._inpaint:
                raise ProviderMisconfigured("comfyui has no inpaint workflow")
            workflow = self._inpaint
            # The latent is the loaded picture's size: the canvas is shrunk to the size this
            # checkpoint makes, not sampled at 2048 px.
            side = max(values["width"], values["height"])
            picture = await asyncio.to_thread(
                images.fit, request.init_image, max_side=side, multiple=8
            )
            values["image"] = await self._upload(picture)
            values["mask"] = await self._upload(await _white_mask(request.mask, picture))
        elif request.init_image is not None:
            if not self._img2img:
                raise ProviderMisconfigured("comfyui has no image-to-image workflow")
            workflow = self._img2img
            values["image"] = await self._upload(request.init_image)
        elif request.style_references and self._reference is not None:
            names = [await self._upload(data) for data in request.style_references]
            values["reference"] = names[0]
            # Filled once (a prompt holding "{{seed}}" stays the user's text), then joined.
            filled = with_references(dict(fill(self._reference, values)), names)
        filled = filled or dict(fill(workflow, values))
        entry = await self._run(filled, request.generation_id, progress)
        pictures = await self._outputs(entry)
        model = str(request.hints.get("model", self._model))
        # One seed drives a whole latent batch: each image shares it (with its batch index).
        seed = request.seed if self._capabilities.seed else None
        return [ProviderImage(data=data, model=model, seed=seed) for data in pictures]

    async def upscale(self, request: UpscaleRequest, progress: ProgressCallback) -> ProviderImage:
        if not self._upscale:
            return await super().upscale(request, progress)
        values = {"image": await self._upload(request.image), "upscaler": self._upscaler}
        entry = await self._run(dict(fill(self._upscale, values)), request.generation_id, progress)
        pictures = await self._outputs(entry)
        return upscaled(self.id, pictures[0], self._upscaler)

    async def _upload(self, data: bytes) -> str:
        """The picture into ComfyUI's input folder, named by its hash (never by a user)."""
        extension, mime = file_type(data)
        name = f"imaginebot-{hashlib.sha256(data).hexdigest()[:24]}.{extension}"
        response = await self._http_call(
            "POST",
            "/upload/image",
            files={"image": (name, data, mime)},
            data={"type": "input", "overwrite": "true"},
        )
        answer = response.json()
        if response.status_code != 200 or not isinstance(answer, dict) or not answer.get("name"):
            raise ProviderUnavailable(f"comfyui /upload/image answered {response.status_code}")
        subfolder = str(answer.get("subfolder") or "")
        return f"{subfolder}/{answer['name']}" if subfolder else str(answer["name"])

    async def _run(
        self, workflow: dict[str, Any], client_id: str, progress: ProgressCallback
    ) -> dict[str, Any]:
        body = {"prompt": workflow, "client_id": client_id}
        response = await self._http_call("POST", "/prompt", json=body)
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
        log.info("generation %s: comfyui prompt %s", client_id, prompt_id)
        return await follow(
            prompt_id,
            check=self._check,
            cancel=self._forget,
            progress=progress,
            interval=self._poll,
            deadline=time.monotonic() + self._deadline,
            wording=WORDING,
        )

    async def _check(self, prompt_id: str) -> Poll[dict[str, Any]]:
        history = await self._json(f"/history/{prompt_id}")
        entry = history.get(prompt_id) if isinstance(history, dict) else None
        if isinstance(entry, dict):
            return Poll(result=entry)  # ComfyUI records a prompt in its history once it has run
        running, pending = await self._queue()
        if prompt_id in running:
            return Poll(running=True)
        return Poll(position=pending.index(prompt_id) + 1 if prompt_id in pending else None)

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

    async def _outputs(self, entry: dict[str, Any]) -> list[bytes]:
        status = entry.get("status") or {}
        if status.get("status_str") == "error":
            raise ProviderUnavailable(f"comfyui failed to run the workflow: {_error(status)}")
        pictures = []
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
                response = await self._http_call(
                    "GET", "/view", params=params, max_bytes=self._max_image_bytes
                )
                if response.status_code != 200:
                    raise ProviderUnavailable(f"comfyui /view answered {response.status_code}")
                pictures.append(response.content)
        if not pictures:
            raise ProviderUnavailable("comfyui finished without an image")
        return pictures

    async def _forget(self, prompt_id: str) -> None:
        """Drop a prompt we gave up on: out of the queue, or interrupted if it is running."""
        try:
            running, _ = await self._queue()
            await self._http_call("POST", "/queue", json={"delete": [prompt_id]})
            if prompt_id in running:
                await self._http_call("POST", "/interrupt", json={"prompt_id": prompt_id})
        except ProviderError:
            log.info("comfyui: could not drop %s from the queue", prompt_id)

    async def check(self) -> ProviderCheck:
        """Reachable (`/system_stats`) and, for the shipped workflow's `{{model}}`, whether
        that checkpoint is installed (`/models/checkpoints`)."""
        try:
            stats = await self._json("/system_stats")
            version = (stats.get("system") or {}).get("comfyui_version", "?")
            detail = f"reachable, ComfyUI {version}"
            if not uses(self._workflow, "model"):
                return ProviderCheck(provider=self.id, ok=True, detail=detail)
            checkpoints = await self._json("/models/checkpoints")
            if self._upscale:
                upscalers = await self._json("/models/upscale_models")
                have = isinstance(upscalers, list) and self._upscaler in upscalers
                detail += f"; upscaler {self._upscaler} {'installed' if have else 'missing'}"
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


async def _white_mask(mask: bytes, picture: bytes) -> bytes:
    """The mask, white = change, at the size of the picture it goes with."""
    info = inspect(picture)
    return await asyncio.to_thread(canvases.for_white, mask, (info.width, info.height))


def _workflow_or_shipped(given: MaybeWorkflow, kind: WorkflowKind) -> dict[str, Any] | None:
    if given is None:
        return load_workflow(None, kind)
    return given or None


def _error(status: dict[str, Any]) -> str:
    """ComfyUI's execution_error message, e.g. a missing checkpoint file."""
    for message in status.get("messages") or []:
        if isinstance(message, list) and len(message) == 2 and message[0] == "execution_error":
            data = message[1] if isinstance(message[1], dict) else {}
            return f"{data.get('node_type', '?')}: {data.get('exception_message', '?')}"
    return "unknown error"
