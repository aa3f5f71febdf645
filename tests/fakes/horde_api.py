"""A fake of the AI Horde v2 image API, built from its public documentation.

Strict about what the real one checks: the `apikey` and `Client-Agent` headers, the request
schema (unknown fields and field types answered in flask-restx's `{"errors", "message"}`
shape, seed as a string, known sampler names, sizes in multiples of 64, anonymous limits),
and answers in its shapes (`{"message", "rc"}` errors, check/status objects, base64 WebP
images when `r2` is false and a storage link when it is not, `/status/models` worker
counts; a request for models without workers is not possible). `script` decides the next
jobs' fates; checks are timed so tests can see the client polled at most once a second.

Beyond text to image: `params.n` 1-20 (one generation each, seeds `seed_variation` apart),
`source_image` decoded as a picture (as the real one, any `source_image` containing "http"
is taken for a URL, which this fake cannot fetch: 400 `ImageValidationFailed`),
`source_processing` one of img2img / inpainting / outpainting, `denoising_strength`
0.01-1, a `source_mask` (base64 picture, only with inpainting or outpainting, of the source
image's size; kept in `source_masks`); alchemy (`/interrogate/async`, `/interrogate/status/{id}`) with `caption` (text)
and post-processor forms (a storage link to the result, served by this fake).
"""

from __future__ import annotations

import base64
import binascii
import io
import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from PIL import Image

ANONYMOUS_KEY = "0000000000"
TOP_LEVEL = {
    "prompt",
    "params",
    "nsfw",
    "censor_nsfw",
    "trusted_workers",
    "slow_workers",
    "models",
    "r2",
    "shared",
    "replacement_filter",
    "workers",
    "worker_blacklist",
    "dry_run",
    "source_image",
    "source_processing",
    "source_mask",
}
SOURCE_PROCESSING = {"img2img", "inpainting", "outpainting"}
POST_PROCESSORS = {"RealESRGAN_x4plus", "RealESRGAN_x2plus", "NMKD_Siax", "4x_AnimeSharp"}
FORMS = {"caption", "interrogation", "nsfw", *POST_PROCESSORS}
SAMPLERS = {
    "k_lms",
    "k_heun",
    "k_euler",
    "k_euler_a",
    "k_dpm_2",
    "k_dpm_2_a",
    "k_dpm_fast",
    "k_dpm_adaptive",
    "k_dpmpp_2s_a",
    "k_dpmpp_2m",
    "dpmsolver",
    "k_dpmpp_sde",
    "lcm",
    "DDIM",
}
TYPES: dict[str, type | tuple[type, ...]] = {
    "prompt": str,
    "params": dict,
    "nsfw": bool,
    "censor_nsfw": bool,
    "r2": bool,
    "shared": bool,
    "models": list,
    "trusted_workers": bool,
    "slow_workers": bool,
    "dry_run": bool,
    "params.width": int,
    "params.height": int,
    "params.steps": int,
    "params.n": int,
    "params.cfg_scale": (int, float),
    "params.seed": str,
    "params.sampler_name": str,
    "params.karras": bool,
    "params.denoising_strength": (int, float),
    "params.seed_variation": int,
    "source_image": str,
    "source_processing": str,
    "source_mask": str,
}
PARAMS = {
    "sampler_name",
    "cfg_scale",
    "denoising_strength",
    "seed",
    "height",
    "width",
    "seed_variation",
    "post_processing",
    "karras",
    "tiling",
    "hires_fix",
    "clip_skip",
    "steps",
    "n",
    "loras",
}


def webp_image(label: str, width: int, height: int) -> bytes:
    colour = tuple(hash(label) >> shift & 255 for shift in (0, 8, 16))
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="WEBP", lossless=True)
    return out.getvalue()


@dataclass
class Job:
    id: str
    payload: dict[str, Any]
    fate: str
    checks_left: int
    processing_left: int = 0
    checks: list[float] = field(default_factory=list)
    cancelled: bool = False
    image: bytes = b""
    images: list[bytes] = field(default_factory=list)


@dataclass
class Interrogation:
    id: str
    form: str
    source: bytes
    polls_left: int
    cancelled: bool = False
    result: bytes = b""


def decode_source(encoded: str) -> bytes | None:
    """The Horde's convert_source_image_to_pil: base64 of a picture Pillow can open."""
    try:
        data = base64.b64decode(encoded, validate=True)
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except (binascii.Error, ValueError, OSError):
        return None
    return data


@dataclass
class FakeHorde:
    script: list[str] = field(default_factory=list)  # "ok", "faulted", "censored", "impossible"
    checks_before_done: int = 2
    processing_checks: int = 0  # checks answered "a worker is on it" after the queue
    # (status, rc, message, retry-after header or None), answered to the next submissions
    submit_errors: list[tuple[int, str, str, str | None]] = field(default_factory=list)
    models_online: dict[str, int] = field(
        default_factory=lambda: {"AlbedoBase XL": 12, "Deliberate": 3, "Anything Diffusion": 2}
    )
    jobs: dict[str, Job] = field(default_factory=dict)
    agents: list[str] = field(default_factory=list)
    base_url: str = ""  # set by the test once the server runs; storage links point there
    source_images: list[bytes] = field(default_factory=list)  # decoded, as received
    source_masks: list[bytes] = field(default_factory=list)  # decoded, as received
    interrogations: dict[str, Interrogation] = field(default_factory=dict)
    polls_before_alchemy: int = 1
    caption: str = "a red fox standing in the snow"
    _serial: itertools.count[int] = field(default_factory=itertools.count)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/v2/generate/async", self.submit)
        app.router.add_get("/api/v2/generate/check/{id}", self.check)
        app.router.add_get("/api/v2/generate/status/{id}", self.status)
        app.router.add_delete("/api/v2/generate/status/{id}", self.cancel)
        app.router.add_get("/api/v2/find_user", self.find_user)
        app.router.add_get("/api/v2/status/models", self.models)
        app.router.add_get("/r2/{id}.webp", self.r2_image)
        app.router.add_post("/api/v2/interrogate/async", self.interrogate)
        app.router.add_get("/api/v2/interrogate/status/{id}", self.interrogation_status)
        app.router.add_delete("/api/v2/interrogate/status/{id}", self.interrogation_cancel)
        app.router.add_get("/r2/alchemy/{id}.webp", self.alchemy_image)
        return app

    async def interrogate(self, request: web.Request) -> web.Response:
        problem = self._headers_ok(request)
        if problem:
            return problem
        body = await request.json()
        if not isinstance(body, dict) or set(body) - {"forms", "source_image", "slow_workers"}:
            return self.invalid({"": "Additional properties are not allowed"})
        forms = body.get("forms")
        if (
            not isinstance(forms, list)
            or len(forms) != 1
            or not isinstance(forms[0], dict)
            or set(forms[0]) - {"name", "payload"}
            or forms[0].get("name") not in FORMS
        ):
            return self.invalid({"forms": f"{forms!r} is not valid under any of the given schemas"})
        source = body.get("source_image")
        if not isinstance(source, str) or not source:
            return self.invalid({"source_image": "required"})
        if "http" in source:
            return self.fail(400, "Could not download the source image", "ImageValidationFailed")
        data = decode_source(source)
        if data is None:
            return self.fail(400, "Image validation failed", "ImageValidationFailed")
        job = Interrogation(str(uuid.uuid4()), forms[0]["name"], data, self.polls_before_alchemy)
        if job.form in POST_PROCESSORS:
            with Image.open(io.BytesIO(data)) as image:
                scale = 2 if "x2" in job.form else 4
                big = image.convert("RGB").resize((image.width * scale, image.height * scale))
                out = io.BytesIO()
                big.save(out, format="WEBP", lossless=True)
                job.result = out.getvalue()
        self.interrogations[job.id] = job
        return web.json_response({"id": job.id}, status=202)

    async def interrogation_status(self, request: web.Request) -> web.Response:
        job = self.interrogations.get(request.match_info["id"])
        if job is None:
            return self.fail(404, "Interrogation not found", "RequestNotFound")
        if job.cancelled:
            return web.json_response({"state": "cancelled", "forms": []})
        if job.polls_left > 0:
            job.polls_left -= 1
            state = "waiting" if job.polls_left else "processing"
            return web.json_response(
                {"state": state, "forms": [{"form": job.form, "state": state}]}
            )
        if job.form == "caption":
            result: dict[str, Any] = {"caption": self.caption}
        elif job.form in POST_PROCESSORS:
            result = {job.form: f"{self.base_url}/r2/alchemy/{job.id}.webp"}
        else:
            result = {"nsfw": False}
        return web.json_response(
            {"state": "done", "forms": [{"form": job.form, "state": "done", "result": result}]}
        )

    async def interrogation_cancel(self, request: web.Request) -> web.Response:
        job = self.interrogations.get(request.match_info["id"])
        if job is None:
            return self.fail(404, "Interrogation not found", "RequestNotFound")
        job.cancelled = True
        return web.json_response({"state": "cancelled", "forms": []})

    async def alchemy_image(self, request: web.Request) -> web.Response:
        job = self.interrogations.get(request.match_info["id"])
        if job is None or not job.result:
            raise web.HTTPNotFound()
        return web.Response(body=job.result, content_type="image/webp")

    @staticmethod
    def fail(status: int, message: str, rc: str, retry_after: str | None = None) -> web.Response:
        headers = {"Retry-After": retry_after} if retry_after else None
        return web.json_response({"message": message, "rc": rc}, status=status, headers=headers)

    @staticmethod
    def invalid(errors: dict[str, str]) -> web.Response:
        """flask-restx's answer to a body that does not match the schema."""
        return web.json_response(
            {"errors": errors, "message": "Input payload validation failed"}, status=400
        )

    async def models(self, request: web.Request) -> web.Response:
        if request.query.get("type", "image") != "image":
            return web.json_response([])
        return web.json_response(
            [
                {
                    "name": name,
                    "count": count,
                    "performance": 1.0,
                    "queued": 0.0,
                    "jobs": 0.0,
                    "eta": 10,
                    "type": "image",
                }
                for name, count in self.models_online.items()
            ]
        )

    async def r2_image(self, request: web.Request) -> web.Response:
        job = self.jobs.get(request.match_info["id"])
        if job is None:
            raise web.HTTPNotFound()
        return web.Response(body=job.image, content_type="image/webp")

    def _headers_ok(self, request: web.Request) -> web.Response | None:
        agent = request.headers.get("Client-Agent", "")
        if agent.count(":") < 2:
            return self.fail(
                400,
                "Please provide a Client-Agent header: name:version:contact",
                "MissingClientAgent",
            )
        self.agents.append(agent)
        key = request.headers.get("apikey")
        if not key:
            return self.fail(401, "No API key provided", "InvalidAPIKey")
        if key != ANONYMOUS_KEY and not key.startswith("valid-"):
            return self.fail(401, "Invalid API Key", "InvalidAPIKey")
        return None

    async def find_user(self, request: web.Request) -> web.Response:
        problem = self._headers_ok(request)
        if problem:
            return problem
        anonymous = request.headers["apikey"] == ANONYMOUS_KEY
        return web.json_response(
            {"username": "Anonymous#0" if anonymous else "imaginebot#42", "kudos": 0}
        )

    def _validate(self, body: Any, anonymous: bool) -> web.Response | None:
        if not isinstance(body, dict):
            return self.invalid({"": "is not of type 'object'"})
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            return self.fail(400, "The generation prompt was not given", "MissingPrompt")
        unknown = set(body) - TOP_LEVEL
        if unknown:
            return self.invalid(
                {
                    "": f"Additional properties are not allowed ({sorted(unknown)[0]!r} was unexpected)"
                }
            )
        params = body.get("params", {})
        flat = (
            {**body, **{f"params.{k}": v for k, v in params.items()}}
            if isinstance(params, dict)
            else body
        )
        wrong = {
            name: f"{flat[name]!r} is not of type '{getattr(kind, '__name__', 'number')}'"
            for name, kind in TYPES.items()
            if name in flat
            and (not isinstance(flat[name], kind) or isinstance(flat[name], bool) != (kind is bool))
        }
        if wrong:
            return self.invalid(wrong)
        if set(params) - PARAMS:
            extra = sorted(set(params) - PARAMS)[0]
            return self.invalid({"params": f"Additional properties are not allowed ({extra!r})"})
        if params.get("sampler_name", "k_euler_a") not in SAMPLERS:
            return self.invalid(
                {
                    "params.sampler_name": f"{params['sampler_name']!r} is not one of {sorted(SAMPLERS)}"
                }
            )
        if not all(isinstance(m, str) for m in body.get("models", [])):
            return self.invalid({"models": "is not of type 'string'"})
        if len(body["prompt"]) > 7000:
            return self.fail(400, "Prompt is too large", "InvalidPromptSize")
        if not 1 <= params.get("n", 1) <= 20:
            return self.invalid({"params.n": f"{params['n']} is not within 1-20"})
        if not 0.01 <= params.get("denoising_strength", 0.75) <= 1.0:
            return self.invalid({"params.denoising_strength": "is not within 0.01-1.0"})
        if "source_image" in body:
            if "http" in body["source_image"]:
                return self.fail(
                    400, "Could not download the source image", "ImageValidationFailed"
                )
            if decode_source(body["source_image"]) is None:
                return self.fail(400, "Image validation failed", "ImageValidationFailed")
        if body.get("source_processing", "img2img") not in SOURCE_PROCESSING:
            return self.invalid(
                {"source_processing": "is not one of img2img, inpainting, outpainting"}
            )
        refused = self._check_mask(body)
        if refused is not None:
            return refused
        width, height = params.get("width", 512), params.get("height", 512)
        if width % 64 or height % 64:
            return self.fail(400, "Height and width need to both be multiples of 64", "InvalidSize")
        if anonymous and (width * height > 576 * 576 or params.get("steps", 30) > 50):
            return self.fail(
                403,
                "Due to heavy demand, anonymous requests are limited in size and steps",
                "KudosUpfront",
            )
        return None

    def _check_mask(self, body: dict[str, Any]) -> web.Response | None:
        """A `source_mask` goes with a source image being inpainted or outpainted, decodes
        like a source image, and has its size (stricter than the Horde, whose workers would
        stretch it and misplace the edit)."""
        if "source_mask" not in body:
            return None
        if "source_image" not in body or body.get("source_processing") not in (
            "inpainting",
            "outpainting",
        ):
            return self.fail(
                400, "A source mask needs inpainting or outpainting", "SourceMaskUnnecessary"
            )
        mask = decode_source(body["source_mask"])
        source = decode_source(body["source_image"])
        if mask is None or source is None:
            return self.fail(400, "Image validation failed", "ImageValidationFailed")
        with Image.open(io.BytesIO(mask)) as drawn, Image.open(io.BytesIO(source)) as picture:
            if drawn.size != picture.size:
                return self.fail(400, "The mask is not the source image's size", "InvalidSize")
        return None

    async def submit(self, request: web.Request) -> web.Response:
        problem = self._headers_ok(request)
        if problem:
            return problem
        if self.submit_errors:
            status, rc, message, retry_after = self.submit_errors.pop(0)
            return self.fail(status, message, rc, retry_after)
        body = await request.json()
        problem = self._validate(body, request.headers["apikey"] == ANONYMOUS_KEY)
        if problem:
            return problem
        job = Job(
            id=str(uuid.uuid4()),
            payload=body,
            fate=self.script.pop(0) if self.script else "ok",
            checks_left=self.checks_before_done,
            processing_left=self.processing_checks,
        )
        params = body.get("params", {})
        if "source_image" in body:
            self.source_images.append(decode_source(body["source_image"]) or b"")
        if "source_mask" in body:
            self.source_masks.append(decode_source(body["source_mask"]) or b"")
        serial = next(self._serial)
        job.images = [
            webp_image(
                f"{serial}:{k}:{body['prompt']}",
                params.get("width", 512),
                params.get("height", 512),
            )
            for k in range(params.get("n", 1))
        ]
        job.image = job.images[0]
        self.jobs[job.id] = job
        return web.json_response({"id": job.id, "kudos": 10.0}, status=202)

    def _job(self, request: web.Request) -> Job | None:
        return self.jobs.get(request.match_info["id"])

    async def check(self, request: web.Request) -> web.Response:
        job = self._job(request)
        if job is None:
            return self.fail(404, "Request not found", "RequestNotFound")
        job.checks.append(time.monotonic())
        models = job.payload.get("models") or []
        served = not models or any(self.models_online.get(m, 0) for m in models)
        if job.fate == "impossible" or not served:
            return web.json_response(self._check_body(job, done=False, possible=False))
        if job.checks_left > 0:
            body = self._check_body(job, done=False)
            job.checks_left -= 1
            return web.json_response(body)
        if job.processing_left > 0:
            job.processing_left -= 1
            return web.json_response(self._check_body(job, done=False, processing=True))
        return web.json_response(
            self._check_body(job, done=job.fate != "faulted", faulted=job.fate == "faulted")
        )

    @staticmethod
    def _check_body(
        job: Job,
        *,
        done: bool,
        faulted: bool = False,
        possible: bool = True,
        processing: bool = False,
    ) -> dict[str, Any]:
        waiting = 0 if done or faulted or processing else 1
        return {
            "finished": int(done),
            "processing": int(processing),
            "restarted": 0,
            "waiting": waiting,
            "done": done,
            "faulted": faulted,
            "wait_time": job.checks_left * 5,
            "queue_position": job.checks_left,
            "kudos": 10.0,
            "is_possible": possible,
        }

    async def status(self, request: web.Request) -> web.Response:
        job = self._job(request)
        if job is None:
            return self.fail(404, "Request not found", "RequestNotFound")
        body = self._check_body(job, done=True)
        # r2 defaults to true in the real API: then the image is a link to its storage.
        inline = job.payload.get("r2", True) is False
        params = job.payload.get("params", {})
        seed = params.get("seed", "0")
        step = params.get("seed_variation", 1)
        body["generations"] = [
            {
                "img": base64.b64encode(image).decode()
                if inline
                else f"{self.base_url}/r2/{job.id}.webp",
                "seed": str(int(seed) + k * step) if seed.isdigit() else seed,
                "id": f"{job.id}-{k}",
                "censored": job.fate == "censored",
                "model": (job.payload.get("models") or ["AlbedoBase XL"])[0],
                "worker_id": "w1",
                "worker_name": "fake worker",
                "state": "censored" if job.fate == "censored" else "ok",
            }
            for k, image in enumerate(job.images)
        ]
        return web.json_response(body)

    async def cancel(self, request: web.Request) -> web.Response:
        job = self._job(request)
        if job is None:
            return self.fail(404, "Request not found", "RequestNotFound")
        job.cancelled = True
        return web.json_response({**self._check_body(job, done=False), "generations": []})
