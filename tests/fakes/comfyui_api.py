"""A fake ComfyUI server: `/prompt`, `/queue`, `/interrupt`, `/history/{id}`, `/view`,
`/system_stats`, `/models/checkpoints`.

Strict like ComfyUI's validation (400 `prompt_outputs_failed_validation` with `node_errors`):
the workflow must be an object of nodes with `class_type` and `inputs`, links must point at
existing nodes, widget inputs must have the right JSON types (an unfilled "{{seed}}" string
in a number input is an error, as in ComfyUI), a checkpoint must be one that is installed,
and there must be an output node. A prompt waits in `queue_pending`, runs in
`queue_running`, then appears in `/history` with its outputs or an `execution_error`.

Images in: `/upload/image` (multipart `image`, `type`, `overwrite`) takes only a picture that
decodes (PNG, JPEG, WebP), keeps the bytes it received and answers `{name, subfolder,
type}`; a `LoadImage` must name an uploaded file. Only the node classes of the shipped
workflows are known (an unknown `class_type` fails validation, as a missing custom node
does); `denoise` must be 0-1, batch sizes 1-64, an `UpscaleModelLoader` must name an
installed upscale model. Inpainting (`VAEEncodeForInpaint` with `grow_mask_by`, or
`SetLatentNoiseMask`) takes a MASK from `ImageToMask` (a `channel` of red, green, blue or
alpha) or from a `LoadImage`'s second output; the mask must have the pixels' size (stricter
than ComfyUI, which would stretch it silently and so misplace the edit), and what reached an
inpaint node is recorded in `inpaints`. Outputs follow the graph: as many images as the latent batch, of the
latent's size, the loaded image's size, or four times it after an upscale model.

IP-Adapter (the ComfyUI_IPAdapter_plus custom nodes) is installed only when `ipadapter` is on:
`IPAdapterUnifiedLoader` (a `model` link and a `preset` of the node's list) and
`IPAdapterAdvanced` (`model`, `ipadapter`, `image` links, a number `weight`, `weight_type`,
`combine_embeds` and `embeds_scaling` of the node's lists); without it those classes fail
validation as a missing custom node does. ComfyUI's own `ImageBatch` joins two images. What
reached each IP-Adapter node (the uploaded pictures behind its image, through `ImageBatch`)
is recorded in `references`.
"""

from __future__ import annotations

import io
import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from PIL import Image, UnidentifiedImageError

from tests.fakes.openai_images import make_png

NUMBER_INPUTS = {
    "seed",
    "steps",
    "cfg",
    "width",
    "height",
    "batch_size",
    "denoise",
    "amount",
    "grow_mask_by",
    "weight",
    "start_at",
    "end_at",
}
MASK_CHANNELS = ("red", "green", "blue", "alpha")
KNOWN_CLASSES = {
    "KSampler",
    "CheckpointLoaderSimple",
    "EmptyLatentImage",
    "CLIPTextEncode",
    "VAEDecode",
    "VAEEncode",
    "SaveImage",
    "LoadImage",
    "RepeatLatentBatch",
    "UpscaleModelLoader",
    "ImageUpscaleWithModel",
    "VAEEncodeForInpaint",
    "SetLatentNoiseMask",
    "ImageToMask",
    "ImageBatch",
}
IPADAPTER_CLASSES = {"IPAdapterUnifiedLoader", "IPAdapterAdvanced"}
IPADAPTER_PRESETS = {
    "LIGHT - SD1.5 only (low strength)",
    "STANDARD (medium strength)",
    "VIT-G (medium strength)",
    "PLUS (high strength)",
    "PLUS FACE (portraits)",
    "FULL FACE - SD1.5 only (portraits stronger)",
}
IPADAPTER_LISTS = {
    "weight_type": {
        "linear",
        "ease in",
        "ease out",
        "ease in-out",
        "reverse in-out",
        "weak input",
        "weak output",
        "weak middle",
        "strong middle",
        "style transfer",
        "composition",
        "strong style transfer",
    },
    "combine_embeds": {"concat", "add", "subtract", "average", "norm average"},
    "embeds_scaling": {"V only", "K+V", "K+V w/ C penalty", "K+mean(V) w/ C penalty"},
}


@dataclass
class FakeComfyUI:
    polls_before_done: int = 1
    running_polls: int = 0  # polls during which the prompt is running, after the queue
    fail_runs: bool = False
    checkpoints: list[str] = field(
        default_factory=lambda: ["v1-5-pruned-emaonly.safetensors", "sd15.safetensors"]
    )
    running: list[str] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)
    client_ids: list[str] = field(default_factory=list)
    prompts: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)
    polls: dict[str, int] = field(default_factory=dict)
    images: dict[str, bytes] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)  # name -> bytes as received
    upscale_models: list[str] = field(
        default_factory=lambda: ["RealESRGAN_x4plus.pth", "4x-UltraSharp.pth"]
    )
    # (pixels, mask) as uploaded, for each VAEEncodeForInpaint / SetLatentNoiseMask run
    inpaints: list[tuple[bytes, bytes]] = field(default_factory=list)
    ipadapter: bool = False  # the ComfyUI_IPAdapter_plus nodes are installed
    references: list[list[bytes]] = field(default_factory=list)  # per IPAdapterAdvanced run
    _numbers: itertools.count[int] = field(default_factory=itertools.count)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/prompt", self.prompt)
        app.router.add_get("/queue", self.queue)
        app.router.add_post("/queue", self.queue_edit)
        app.router.add_get("/history/{id}", self.history)
        app.router.add_get("/view", self.view)
        app.router.add_get("/system_stats", self.stats)
        app.router.add_get("/models/checkpoints", self.models)
        app.router.add_get("/models/upscale_models", self.upscalers)
        app.router.add_post("/upload/image", self.upload)
        app.router.add_post("/interrupt", self.interrupt)
        return app

    async def models(self, request: web.Request) -> web.Response:
        return web.json_response(self.checkpoints)

    async def upscalers(self, request: web.Request) -> web.Response:
        return web.json_response(self.upscale_models)

    async def upload(self, request: web.Request) -> web.Response:
        post = await request.post()
        image = post.get("image")
        if not isinstance(image, web.FileField) or set(post) - {
            "image",
            "type",
            "overwrite",
            "subfolder",
        }:
            return web.Response(status=400)
        if post.get("type", "input") != "input":
            return web.Response(status=400)
        data = image.file.read()
        try:
            with Image.open(io.BytesIO(data), formats=("PNG", "JPEG", "WEBP")) as picture:
                picture.load()
        except (UnidentifiedImageError, OSError, ValueError):
            return web.Response(status=400, text="not an image")
        name = image.filename or "upload.png"
        if "/" in name or ".." in name:
            return web.Response(status=400)
        self.uploads[name] = data
        return web.json_response({"name": name, "subfolder": "", "type": "input"})

    def _shape(self, workflow: dict[str, Any], link: Any) -> tuple[int, int, int]:
        """(width, height, count) of what a link carries: latents and images alike."""
        node = workflow[str(link[0])]
        inputs, kind = node["inputs"], node["class_type"]
        if kind == "EmptyLatentImage":
            return inputs["width"], inputs["height"], inputs["batch_size"]
        if kind == "LoadImage":
            with Image.open(io.BytesIO(self.uploads[inputs["image"]])) as picture:
                return picture.width, picture.height, 1
        if kind == "RepeatLatentBatch":
            width, height, count = self._shape(workflow, inputs["samples"])
            return width, height, count * inputs["amount"]
        if kind == "ImageUpscaleWithModel":
            width, height, count = self._shape(workflow, inputs["image"])
            return width * 4, height * 4, count
        source = {
            "KSampler": "latent_image",
            "VAEDecode": "samples",
            "VAEEncode": "pixels",
            "VAEEncodeForInpaint": "pixels",
            "SetLatentNoiseMask": "samples",
            "ImageToMask": "image",
        }
        return self._shape(workflow, inputs[source[kind]])

    async def interrupt(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        target = body.get("prompt_id") if isinstance(body, dict) else None
        for pid in list(self.running):
            if target in (None, pid):
                self.interrupted.append(pid)
                self.running.remove(pid)
        return web.Response(status=200)

    @staticmethod
    def _invalid(message: str, node: str | None = None) -> web.Response:
        node_errors = {node: {"errors": [{"message": message}], "class_type": "?"}} if node else {}
        return web.json_response(
            {
                "error": {"type": "prompt_outputs_failed_validation", "message": message},
                "node_errors": node_errors,
            },
            status=400,
        )

    async def prompt(self, request: web.Request) -> web.Response:
        body = await request.json()
        if not isinstance(body, dict):
            return self._invalid("invalid body")
        if not isinstance(body.get("client_id", ""), str):
            return self._invalid("client_id must be a string")
        self.client_ids.append(body.get("client_id", ""))
        workflow = body.get("prompt")
        if not isinstance(workflow, dict) or not workflow:
            return self._invalid("no prompt")
        for node_id, node in workflow.items():
            if (
                not isinstance(node, dict)
                or "class_type" not in node
                or not isinstance(node.get("inputs"), dict)
            ):
                return self._invalid("invalid node", node_id)
            for name, value in node["inputs"].items():
                if isinstance(value, list) and (len(value) != 2 or str(value[0]) not in workflow):
                    return self._invalid(f"bad link in {name}", node_id)
                if name in NUMBER_INPUTS and not isinstance(value, int | float):
                    return self._invalid(
                        f"Failed to convert an input value to a number: {name}={value!r}", node_id
                    )
            known = KNOWN_CLASSES | (IPADAPTER_CLASSES if self.ipadapter else set())
            if node["class_type"] not in known:
                return self._invalid(
                    f"Cannot execute because node {node['class_type']} does not exist.", node_id
                )
            inputs = node["inputs"]
            if node["class_type"] == "LoadImage" and inputs.get("image") not in self.uploads:
                return self._invalid(f"Invalid image file: {inputs.get('image')}", node_id)
            if not 0 <= inputs.get("denoise", 1) <= 1:
                return self._invalid("Value denoise bigger than max of 1.0", node_id)
            for key in ("batch_size", "amount"):
                if key in inputs and not 1 <= inputs[key] <= 64:
                    return self._invalid(f"Value {key} out of range 1-64", node_id)
            upscaler = inputs.get("model_name")
            if node["class_type"] == "UpscaleModelLoader" and upscaler not in self.upscale_models:
                return self._invalid(
                    f"Value not in list: model_name: '{upscaler}' not in {self.upscale_models}",
                    node_id,
                )
            ckpt = node["inputs"].get("ckpt_name")
            if node["class_type"] == "CheckpointLoaderSimple" and ckpt not in self.checkpoints:
                return self._invalid(
                    f"Value not in list: ckpt_name: '{ckpt}' not in {self.checkpoints}", node_id
                )
        if not any(n["class_type"] == "SaveImage" for n in workflow.values()):
            return self._invalid("Prompt has no outputs")
        refused = self._check_inpaint(workflow) or self._check_ipadapter(workflow)
        if refused is not None:
            return refused
        prompt_id = str(uuid.uuid4())
        self.prompts[prompt_id] = workflow
        self.pending.append(prompt_id)
        self.polls[prompt_id] = 0
        return web.json_response(
            {"prompt_id": prompt_id, "number": next(self._numbers), "node_errors": {}}
        )

    def _uploaded(self, workflow: dict[str, Any], link: Any) -> bytes | None:
        """The uploaded file behind an IMAGE or MASK link (through ImageToMask)."""
        node = workflow[str(link[0])]
        if node["class_type"] == "LoadImage":
            return self.uploads.get(node["inputs"]["image"])
        if node["class_type"] == "ImageToMask":
            return self._uploaded(workflow, node["inputs"]["image"])
        if node["class_type"] == "VAEEncodeForInpaint":
            return self._uploaded(workflow, node["inputs"]["pixels"])
        if node["class_type"] == "VAEEncode":
            return self._uploaded(workflow, node["inputs"]["pixels"])
        return None

    def _pictures(self, workflow: dict[str, Any], link: Any) -> list[bytes]:
        """The uploaded pictures behind an IMAGE link, through ImageBatch."""
        node = workflow[str(link[0])]
        if node["class_type"] == "ImageBatch":
            inputs = node["inputs"]
            return self._pictures(workflow, inputs["image1"]) + self._pictures(
                workflow, inputs["image2"]
            )
        picture = self._uploaded(workflow, link)
        return [picture] if picture is not None else []

    def _check_ipadapter(self, workflow: dict[str, Any]) -> web.Response | None:
        found = []
        for node_id, node in workflow.items():
            kind, inputs = node["class_type"], node["inputs"]
            if kind == "IPAdapterUnifiedLoader" and inputs.get("preset") not in IPADAPTER_PRESETS:
                return self._invalid(
                    f"Value not in list: preset: {inputs.get('preset')!r}", node_id
                )
            if kind != "IPAdapterAdvanced":
                continue
            for key, allowed in IPADAPTER_LISTS.items():
                if inputs.get(key) not in allowed:
                    return self._invalid(f"Value not in list: {key}: {inputs.get(key)!r}", node_id)
            if not all(isinstance(inputs.get(k), list) for k in ("model", "ipadapter", "image")):
                return self._invalid("Required input is missing: image", node_id)
            if not -1 <= inputs.get("weight", 1) <= 5:
                return self._invalid("Value weight out of range -1 to 5", node_id)
            found.append(self._pictures(workflow, inputs["image"]))
        self.references.extend(found)
        return None

    def _check_inpaint(self, workflow: dict[str, Any]) -> web.Response | None:
        for node_id, node in workflow.items():
            kind, inputs = node["class_type"], node["inputs"]
            if kind == "ImageToMask" and inputs.get("channel") not in MASK_CHANNELS:
                return self._invalid(
                    f"Value not in list: channel: '{inputs.get('channel')}' not in "
                    f"{list(MASK_CHANNELS)}",
                    node_id,
                )
            if kind not in ("VAEEncodeForInpaint", "SetLatentNoiseMask"):
                continue
            if "mask" not in inputs:
                return self._invalid("Required input is missing: mask", node_id)
            source = inputs["pixels"] if kind == "VAEEncodeForInpaint" else inputs["samples"]
            pixels = self._uploaded(workflow, source)
            mask = self._uploaded(workflow, inputs["mask"])
            if pixels is None or mask is None:
                return self._invalid("the inpaint inputs must come from loaded images", node_id)
            with Image.open(io.BytesIO(pixels)) as picture, Image.open(io.BytesIO(mask)) as m:
                if picture.size != m.size:
                    return self._invalid(
                        f"mask {m.width}x{m.height} does not match the image "
                        f"{picture.width}x{picture.height}",
                        node_id,
                    )
            self.inpaints.append((pixels, mask))
        return None

    async def queue(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "queue_running": [[0, pid, {}, {}, []] for pid in self.running],
                "queue_pending": [[i + 1, pid, {}, {}, []] for i, pid in enumerate(self.pending)],
            }
        )

    async def queue_edit(self, request: web.Request) -> web.Response:
        body = await request.json()
        for pid in body.get("delete", []):
            self.deleted.append(pid)
            if pid in self.pending:
                self.pending.remove(pid)
        return web.Response(status=200)

    async def history(self, request: web.Request) -> web.Response:
        pid = request.match_info["id"]
        if pid not in self.prompts or pid in self.deleted:
            return web.json_response({})
        self.polls[pid] += 1
        if pid in self.interrupted:
            return web.json_response({})
        if self.polls[pid] <= self.polls_before_done:
            return web.json_response({})
        if pid in self.pending:
            self.pending.remove(pid)
            if self.running_polls:
                self.running.append(pid)
        if self.polls[pid] <= self.polls_before_done + self.running_polls:
            return web.json_response({})
        if pid in self.running:
            self.running.remove(pid)
        if self.fail_runs:
            error = {
                "prompt_id": pid,
                "node_id": "4",
                "node_type": "CheckpointLoaderSimple",
                "exception_message": "Error while deserializing header: MetadataIncompleteBuffer",
                "exception_type": "safetensors_rust.SafetensorError",
            }
            return web.json_response(
                {
                    pid: {
                        "outputs": {},
                        "status": {
                            "status_str": "error",
                            "completed": False,
                            "messages": [["execution_error", error]],
                        },
                    }
                }
            )
        workflow = self.prompts[pid]
        save = next(k for k, n in workflow.items() if n["class_type"] == "SaveImage")
        width, height, count = self._shape(workflow, workflow[save]["inputs"]["images"])
        names = []
        for index in range(count):
            name = f"imaginebot_{len(self.images):05d}_.png"
            self.images[name] = make_png(width, height, f"comfy:{pid}:{index}")
            names.append(name)
        return web.json_response(
            {
                pid: {
                    "prompt": [0, pid, workflow, {}, [save]],
                    "outputs": {
                        save: {
                            "images": [
                                {"filename": name, "subfolder": "", "type": "output"}
                                for name in names
                            ]
                        }
                    },
                    "status": {"status_str": "success", "completed": True, "messages": []},
                }
            }
        )

    async def view(self, request: web.Request) -> web.Response:
        data = self.images.get(request.query.get("filename", ""))
        if data is None or request.query.get("type") != "output":
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type="image/png")

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"system": {"comfyui_version": "0.3.fake", "os": "posix"}, "devices": []}
        )
