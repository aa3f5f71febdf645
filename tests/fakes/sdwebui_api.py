"""A fake AUTOMATIC1111 API: `/sdapi/v1/txt2img`, `/sdapi/v1/img2img`,
`/sdapi/v1/extra-single-image`, `/sdapi/v1/interrogate`, `/sdapi/v1/upscalers`,
`/sdapi/v1/sd-models`.

Strict about basic auth (`--api-auth`), field types and sizes (FastAPI's 422 shape), and
sampler names (404 "Sampler not found", as the real server answers); stricter than the real
one about unknown fields, which it would silently ignore and so hide a typo. Answers base64
PNGs with an `info` JSON string carrying the seed and model, and the real 500 shape of a
failed generation. `batch_size` 1-8 (the web UI's own limit) and `n_iter` 1; with
`save_images` on and more than one image, a grid comes first in `images`, as the real server
returns it. Base64 images sent in (`init_images`, `image`) are decoded and must be PNG, JPEG
or WebP; `denoising_strength` must be 0-1; `upscaler_1` must be an installed upscaler and
`model` of an interrogation `clip` or `deepdanbooru` (404 "Model not found" otherwise).
Inpainting is img2img with a `mask` (base64 picture, white = change) and `inpainting_fill`
(0 fill, 1 original, 2 latent noise, 3 latent nothing), `mask_blur`, `inpaint_full_res`,
`inpaint_full_res_padding`, `inpainting_mask_invert`; a mask that does not decode is refused
like an init image that does not, and one of another size than the init image is refused
(stricter than the real server, which stretches it to the output size and so misplaces the
edit). What came in is recorded so tests can compare bytes.

The ControlNet extension, when installed (`controlnet_models` not empty), takes always-on
script units on txt2img and img2img (`alwayson_scripts.controlnet.args`, a list of units:
`enabled`, `module`, `model`, `weight`, `image` as base64, `resize_mode`, `control_mode`,
`pixel_perfect`, ...); a module or model the server does not have, or an image that does
not decode, is refused. Without the extension an always-on script is answered 422 "always
on script controlnet not found", as the web UI answers it. Each call's units are recorded
with their decoded pictures (`controlnet_images`).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BasicAuth, web
from PIL import Image, UnidentifiedImageError

from tests.fakes.openai_images import make_png

TYPES = {
    "prompt": str,
    "negative_prompt": str,
    "seed": int,
    "width": int,
    "height": int,
    "steps": int,
    "cfg_scale": (int, float),
    "sampler_name": str,
    "batch_size": int,
    "n_iter": int,
    "override_settings": dict,
    "save_images": bool,
    "send_images": bool,
    "alwayson_scripts": dict,
}
CONTROLNET_UNIT = {
    "enabled": bool,
    "module": str,
    "model": str,
    "weight": (int, float),
    "image": str,
    "input_image": str,
    "resize_mode": (str, int),
    "control_mode": (str, int),
    "pixel_perfect": bool,
    "low_vram": bool,
    "processor_res": int,
    "threshold_a": (int, float),
    "threshold_b": (int, float),
    "guidance_start": (int, float),
    "guidance_end": (int, float),
}
CONTROLNET_MODULES = {"none", "ip-adapter_clip_sd15", "ip-adapter_clip_sdxl", "canny", "depth"}
IMG2IMG_TYPES = {
    **TYPES,
    "init_images": list,
    "denoising_strength": (int, float),
    "resize_mode": int,
    "mask": str,
    "inpainting_fill": int,
    "mask_blur": int,
    "inpaint_full_res": bool,
    "inpaint_full_res_padding": int,
    "inpainting_mask_invert": int,
}
EXTRAS_TYPES = {
    "image": str,
    "resize_mode": int,
    "show_extras_results": bool,
    "upscaling_resize": (int, float),
    "upscaler_1": str,
    "upscaler_2": str,
    "gfpgan_visibility": (int, float),
    "codeformer_visibility": (int, float),
}
INTERROGATE_TYPES = {"image": str, "model": str}
UPSCALERS = ["None", "Lanczos", "Nearest", "ESRGAN_4x", "R-ESRGAN 4x+", "R-ESRGAN 4x+ Anime6B"]
MAX_BATCH = 8
SAMPLERS = {
    "DPM++ 2M",
    "DPM++ SDE",
    "DPM++ 2M SDE",
    "DPM++ 2S a",
    "Euler a",
    "Euler",
    "LMS",
    "Heun",
    "DPM2",
    "DPM2 a",
    "DDIM",
    "PLMS",
    "UniPC",
}
MODEL = {
    "title": "sdxl.safetensors [31e35c80fc]",
    "model_name": "sdxl",
    "hash": "31e35c80fc",
    "filename": "/models/Stable-diffusion/sdxl.safetensors",
}


@dataclass
class FakeSDWebUI:
    auth: tuple[str, str] | None = None
    fail_next: list[int] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    images: list[bytes] = field(default_factory=list)
    init_images: list[bytes] = field(default_factory=list)  # decoded, as received
    masks: list[bytes] = field(default_factory=list)  # decoded, as received
    upscaled: list[tuple[bytes, dict[str, Any]]] = field(default_factory=list)
    interrogated: list[tuple[bytes, str]] = field(default_factory=list)
    caption: str = "a fox sitting in the snow, a photorealistic painting, trending on artstation"
    # The ControlNet extension's installed models; empty: the extension is not installed.
    controlnet_models: list[str] = field(default_factory=list)
    controlnet_units: list[list[dict[str, Any]]] = field(default_factory=list)
    controlnet_images: list[list[bytes]] = field(default_factory=list)  # decoded, per call

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/sdapi/v1/txt2img", self.txt2img)
        app.router.add_post("/sdapi/v1/img2img", self.img2img)
        app.router.add_post("/sdapi/v1/extra-single-image", self.extras)
        app.router.add_post("/sdapi/v1/interrogate", self.interrogate)
        app.router.add_get("/sdapi/v1/upscalers", self.upscalers)
        app.router.add_get("/sdapi/v1/sd-models", self.models)
        return app

    @staticmethod
    def _schema(body: Any, types: dict[str, Any]) -> list[dict[str, Any]]:
        if not isinstance(body, dict):
            return [{"loc": ["body"], "msg": "value is not a valid dict", "type": "type_error"}]
        errors = [
            {
                "loc": ["body", k],
                "msg": f"value is not a valid {getattr(t, '__name__', 'number')}",
                "type": "type_error",
            }
            for k, t in types.items()
            if k in body
            and (not isinstance(body[k], t) or isinstance(body[k], bool) != (t is bool))
        ]
        errors += [
            {"loc": ["body", k], "msg": "extra fields not permitted", "type": "value_error.extra"}
            for k in body
            if k not in types
        ]
        return errors

    @staticmethod
    def _decode(encoded: str) -> bytes | None:
        """The server's decode_base64_to_image: a data URL or bare base64 of a picture."""
        if encoded.startswith("data:image/"):
            encoded = encoded.split(";base64,", 1)[-1]
        try:
            data = base64.b64decode(encoded, validate=True)
            with Image.open(io.BytesIO(data), formats=("PNG", "JPEG", "WEBP")) as image:
                image.load()
        except (binascii.Error, ValueError, UnidentifiedImageError, OSError):
            return None
        return data

    @staticmethod
    def _invalid_image() -> web.Response:
        return web.json_response(
            {"error": "HTTPException", "detail": "Invalid encoded image", "body": "", "errors": ""},
            status=400,
        )

    async def upscalers(self, request: web.Request) -> web.Response:
        denied = self._denied(request)
        return denied or web.json_response(
            [
                {"name": n, "model_name": None, "model_path": None, "model_url": None, "scale": 4}
                for n in UPSCALERS
            ]
        )

    async def img2img(self, request: web.Request) -> web.Response:
        denied = self._denied(request)
        if denied:
            return denied
        body = await request.json()
        errors = self._schema(body, IMG2IMG_TYPES)
        if not errors and not 0 <= body.get("denoising_strength", 0.75) <= 1:
            errors.append(
                {"loc": ["body", "denoising_strength"], "msg": "must be 0-1", "type": "value_error"}
            )
        if errors:
            return web.json_response({"detail": errors}, status=422)
        init = body.get("init_images") or []
        if len(init) != 1 or not isinstance(init[0], str):
            return web.json_response({"detail": "Init image not found"}, status=404)
        data = self._decode(init[0])
        if data is None:
            return self._invalid_image()
        mask = None
        if "mask" in body:
            mask = self._decode(body["mask"])
            if mask is None:
                return self._invalid_image()
            refused = self._check_mask(body, data, mask)
            if refused is not None:
                return refused
        self.init_images.append(data)
        if mask is not None:
            self.masks.append(mask)
        return self._generate(body)

    def _controlnet(self, scripts: dict[str, Any]) -> web.Response | None:
        """The always-on scripts: only ControlNet is installed (when it has models)."""
        for name in scripts:
            if name.lower() != "controlnet" or not self.controlnet_models:
                return web.json_response(
                    {"detail": f"always on script {name} not found"}, status=422
                )
        if not scripts:
            return None
        args = next(iter(scripts.values())).get("args") if scripts else None
        if not isinstance(args, list) or not all(isinstance(u, dict) for u in args):
            return web.json_response({"detail": "controlnet args must be a list"}, status=422)
        pictures = []
        for unit in args:
            errors = self._schema(unit, CONTROLNET_UNIT)
            if errors:
                return web.json_response({"detail": errors}, status=422)
            if unit.get("module", "none") not in CONTROLNET_MODULES:
                return web.json_response({"detail": "module not found"}, status=422)
            if unit.get("model", "None") not in self.controlnet_models:
                return web.json_response({"detail": "model not found"}, status=422)
            data = self._decode(str(unit.get("image") or unit.get("input_image") or ""))
            if data is None:
                return self._invalid_image()
            pictures.append(data)
        self.controlnet_units.append(args)
        self.controlnet_images.append(pictures)
        return None

    @staticmethod
    def _check_mask(body: dict[str, Any], init: bytes, mask: bytes) -> web.Response | None:
        if body.get("inpainting_fill", 1) not in (0, 1, 2, 3):
            return web.json_response(
                {"detail": [{"loc": ["body", "inpainting_fill"], "msg": "0-3", "type": "value"}]},
                status=422,
            )
        with Image.open(io.BytesIO(init)) as picture, Image.open(io.BytesIO(mask)) as drawn:
            if picture.size != drawn.size:
                return web.json_response(
                    {"detail": f"mask {drawn.size} is not the init image's size {picture.size}"},
                    status=422,
                )
        return None

    async def extras(self, request: web.Request) -> web.Response:
        denied = self._denied(request)
        if denied:
            return denied
        body = await request.json()
        errors = self._schema(body, EXTRAS_TYPES)
        if errors:
            return web.json_response({"detail": errors}, status=422)
        if body.get("upscaler_1", "None") not in UPSCALERS:
            return web.json_response(
                {"detail": f"could not find upscaler named {body.get('upscaler_1')}"}, status=404
            )
        data = self._decode(body.get("image", ""))
        if data is None:
            return self._invalid_image()
        self.upscaled.append((data, body))
        with Image.open(io.BytesIO(data)) as image:
            factor = float(body.get("upscaling_resize", 2))
            size = (int(image.width * factor), int(image.height * factor))
            out = io.BytesIO()
            image.convert("RGB").resize(size, Image.Resampling.NEAREST).save(out, format="PNG")
        return web.json_response(
            {"html_info": "<p>upscaled</p>", "image": base64.b64encode(out.getvalue()).decode()}
        )

    async def interrogate(self, request: web.Request) -> web.Response:
        denied = self._denied(request)
        if denied:
            return denied
        body = await request.json()
        errors = self._schema(body, INTERROGATE_TYPES)
        if errors:
            return web.json_response({"detail": errors}, status=422)
        model = body.get("model", "clip")
        if model not in ("clip", "deepdanbooru"):
            return web.json_response({"detail": "Model not found"}, status=404)
        data = self._decode(body.get("image", ""))
        if data is None:
            return self._invalid_image()
        self.interrogated.append((data, model))
        return web.json_response({"caption": self.caption})

    def _denied(self, request: web.Request) -> web.Response | None:
        if self.auth is None:
            return None
        header = request.headers.get("Authorization", "")
        try:
            given = BasicAuth.decode(header)
        except ValueError:
            return web.json_response({"detail": "Not authenticated"}, status=401)
        if (given.login, given.password) != self.auth:
            return web.json_response({"detail": "Incorrect username or password"}, status=401)
        return None

    async def models(self, request: web.Request) -> web.Response:
        return self._denied(request) or web.json_response([MODEL])

    async def txt2img(self, request: web.Request) -> web.Response:
        denied = self._denied(request)
        if denied:
            return denied
        if self.fail_next:
            # What the server's exception handler answers when generation raises.
            return web.json_response(
                {
                    "error": "OutOfMemoryError",
                    "detail": "",
                    "body": "",
                    "errors": "CUDA out of memory. Tried to allocate 2.00 GiB",
                },
                status=self.fail_next.pop(0),
            )
        body = await request.json()
        errors = self._schema(body, TYPES)
        if errors:
            return web.json_response({"detail": errors}, status=422)
        return self._generate(body)

    def _generate(self, body: dict[str, Any]) -> web.Response:
        errors = []
        if not isinstance(body.get("prompt"), str):
            errors.append(
                {"loc": ["body", "prompt"], "msg": "field required", "type": "value_error.missing"}
            )
        if body.get("width", 512) % 8 or body.get("height", 512) % 8:
            errors.append(
                {"loc": ["body", "width"], "msg": "must be a multiple of 8", "type": "value_error"}
            )
        batch = body.get("batch_size", 1)
        if not 1 <= batch <= MAX_BATCH or body.get("n_iter", 1) != 1:
            errors.append(
                {"loc": ["body", "batch_size"], "msg": f"1-{MAX_BATCH}", "type": "value_error"}
            )
        if errors:
            return web.json_response({"detail": errors}, status=422)
        if body.get("sampler_name", "Euler a") not in SAMPLERS:
            return web.json_response({"detail": "Sampler not found"}, status=404)
        refused = self._controlnet(body.get("alwayson_scripts") or {})
        if refused is not None:
            return refused
        self.bodies.append(body)
        seed = body.get("seed", -1) if body.get("seed", -1) != -1 else 1234
        made = []
        for index in range(batch):
            data = make_png(
                body.get("width", 512),
                body.get("height", 512),
                f"sd:{len(self.bodies)}:{index}:{body['prompt']}",
            )
            self.images.append(data)
            made.append(base64.b64encode(data).decode())
        if body.get("save_images") and batch > 1:
            grid = make_png(body.get("width", 512) * 2, body.get("height", 512), "grid")
            made.insert(0, base64.b64encode(grid).decode())
        info = {
            "seed": seed,
            "all_seeds": [seed + i for i in range(batch)],
            "prompt": body["prompt"],
            "sd_model_name": MODEL["model_name"],
            "sd_model_hash": MODEL["hash"],
        }
        return web.json_response({"images": made, "parameters": body, "info": json.dumps(info)})
