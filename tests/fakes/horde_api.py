"""A fake of the AI Horde v2 image API, built from its public documentation.

Strict about what the real one checks: the `apikey` and `Client-Agent` headers, the request
schema (unknown fields, seed as a string, sizes in multiples of 64, anonymous limits), and
answers in its shapes (`{"message", "rc"}` errors, check/status objects, base64 WebP images
when `r2` is false). `script` decides the next jobs' fates; checks are counted so tests can
see the client polled at most once a second.
"""

from __future__ import annotations

import base64
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
    checks: list[float] = field(default_factory=list)
    cancelled: bool = False
    image: bytes = b""


@dataclass
class FakeHorde:
    script: list[str] = field(default_factory=list)  # "ok", "faulted", "censored", "impossible"
    checks_before_done: int = 2
    submit_errors: list[tuple[int, str, str]] = field(default_factory=list)  # (status, rc, message)
    jobs: dict[str, Job] = field(default_factory=dict)
    agents: list[str] = field(default_factory=list)
    _serial: itertools.count[int] = field(default_factory=itertools.count)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/v2/generate/async", self.submit)
        app.router.add_get("/api/v2/generate/check/{id}", self.check)
        app.router.add_get("/api/v2/generate/status/{id}", self.status)
        app.router.add_delete("/api/v2/generate/status/{id}", self.cancel)
        app.router.add_get("/api/v2/find_user", self.find_user)
        return app

    @staticmethod
    def fail(status: int, message: str, rc: str) -> web.Response:
        return web.json_response({"message": message, "rc": rc}, status=status)

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
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("prompt"), str)
            or not body["prompt"]
        ):
            return self.fail(400, "Input payload validation failed", "InvalidPayload")
        unknown = set(body) - TOP_LEVEL
        if unknown:
            return self.fail(
                400,
                f"Additional properties are not allowed ({sorted(unknown)[0]!r} was unexpected)",
                "InvalidPayload",
            )
        params = body.get("params", {})
        if set(params) - PARAMS:
            return self.fail(400, "Input payload validation failed: params", "InvalidPayload")
        if "seed" in params and not isinstance(params["seed"], str):
            return self.fail(400, "params.seed: is not of type 'string'", "InvalidPayload")
        width, height = params.get("width", 512), params.get("height", 512)
        if width % 64 or height % 64:
            return self.fail(400, "Height and width need to both be multiples of 64", "InvalidSize")
        if anonymous and (width * height > 576 * 576 or params.get("steps", 30) > 50):
            return self.fail(
                403,
                "Due to heavy demand, anonymous requests are limited in size and steps",
                "KudosUpfront",
            )
        if "models" in body and not all(isinstance(m, str) for m in body["models"]):
            return self.fail(400, "models must be strings", "InvalidPayload")
        return None

    async def submit(self, request: web.Request) -> web.Response:
        problem = self._headers_ok(request)
        if problem:
            return problem
        if self.submit_errors:
            status, rc, message = self.submit_errors.pop(0)
            return self.fail(status, message, rc)
        body = await request.json()
        problem = self._validate(body, request.headers["apikey"] == ANONYMOUS_KEY)
        if problem:
            return problem
        job = Job(
            id=str(uuid.uuid4()),
            payload=body,
            fate=self.script.pop(0) if self.script else "ok",
            checks_left=self.checks_before_done,
        )
        params = body.get("params", {})
        job.image = webp_image(
            f"{next(self._serial)}:{body['prompt']}",
            params.get("width", 512),
            params.get("height", 512),
        )
        self.jobs[job.id] = job
        return web.json_response({"id": job.id, "kudos": 10.0}, status=202)

    def _job(self, request: web.Request) -> Job | None:
        return self.jobs.get(request.match_info["id"])

    async def check(self, request: web.Request) -> web.Response:
        job = self._job(request)
        if job is None:
            return self.fail(404, "Request not found", "RequestNotFound")
        job.checks.append(time.monotonic())
        if job.fate == "impossible":
            return web.json_response(self._check_body(job, done=False, possible=False))
        if job.checks_left > 0:
            body = self._check_body(job, done=False)
            job.checks_left -= 1
            return web.json_response(body)
        return web.json_response(
            self._check_body(job, done=job.fate != "faulted", faulted=job.fate == "faulted")
        )

    @staticmethod
    def _check_body(
        job: Job, *, done: bool, faulted: bool = False, possible: bool = True
    ) -> dict[str, Any]:
        waiting = 0 if done or faulted else 1
        return {
            "finished": int(done),
            "processing": 0,
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
        body["generations"] = [
            {
                "img": base64.b64encode(job.image).decode(),
                "seed": job.payload.get("params", {}).get("seed", "0"),
                "id": job.id,
                "censored": job.fate == "censored",
                "model": (job.payload.get("models") or ["AlbedoBase XL"])[0],
                "worker_id": "w1",
                "worker_name": "fake worker",
                "state": "censored" if job.fate == "censored" else "ok",
            }
        ]
        return web.json_response(body)

    async def cancel(self, request: web.Request) -> web.Response:
        job = self._job(request)
        if job is None:
            return self.fail(404, "Request not found", "RequestNotFound")
        job.cancelled = True
        return web.json_response({**self._check_body(job, done=False), "generations": []})
