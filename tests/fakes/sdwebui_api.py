"""A fake AUTOMATIC1111 API (`/sdapi/v1/txt2img`, `/sdapi/v1/sd-models`).

Strict about basic auth (`--api-auth`), field types and sizes (FastAPI's 422 shape), and
sampler names (404 "Sampler not found", as the real server answers); stricter than the real
one about unknown fields, which it would silently ignore and so hide a typo. Answers base64
PNGs with an `info` JSON string carrying the seed and model, and the real 500 shape of a
failed generation.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BasicAuth, web

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
}
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

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/sdapi/v1/txt2img", self.txt2img)
        app.router.add_get("/sdapi/v1/sd-models", self.models)
        return app

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
        errors = [
            {
                "loc": ["body", k],
                "msg": f"value is not a valid {getattr(t, '__name__', 'number')}",
                "type": "type_error",
            }
            for k, t in TYPES.items()
            if k in body and not isinstance(body[k], t)
        ]
        errors += [
            {"loc": ["body", k], "msg": "extra fields not permitted", "type": "value_error.extra"}
            for k in body
            if k not in TYPES
        ]
        if not isinstance(body.get("prompt"), str):
            errors.append(
                {"loc": ["body", "prompt"], "msg": "field required", "type": "value_error.missing"}
            )
        if body.get("width", 512) % 8 or body.get("height", 512) % 8:
            errors.append(
                {"loc": ["body", "width"], "msg": "must be a multiple of 8", "type": "value_error"}
            )
        if errors:
            return web.json_response({"detail": errors}, status=422)
        if body.get("sampler_name", "Euler a") not in SAMPLERS:
            return web.json_response({"detail": "Sampler not found"}, status=404)
        self.bodies.append(body)
        data = make_png(
            body.get("width", 512),
            body.get("height", 512),
            f"sd:{len(self.bodies)}:{body['prompt']}",
        )
        self.images.append(data)
        seed = body.get("seed", -1) if body.get("seed", -1) != -1 else 1234
        info = {
            "seed": seed,
            "all_seeds": [seed],
            "prompt": body["prompt"],
            "sd_model_name": MODEL["model_name"],
            "sd_model_hash": MODEL["hash"],
        }
        return web.json_response(
            {
                "images": [base64.b64encode(data).decode()],
                "parameters": body,
                "info": json.dumps(info),
            }
        )
