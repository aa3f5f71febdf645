"""AI Horde: the crowd-sourced Stable Diffusion cluster, usable with no key at all.

Asynchronous API: submit (`POST /generate/async`), check at most once a second
(`GET /generate/check/{id}`, which also gives the queue position and wait estimate that
flow into the chat's status message), fetch (`GET /generate/status/{id}`), and cancel
(`DELETE /generate/status/{id}`) when we give up. A thin httpx client: the whole API we use
is four calls, and it shares the process's one HTTP client, timeouts and size caps.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import time
from typing import Any

import httpx
from PIL import Image

from bot import __version__
from bot.core.errors import (
    ProviderAuthFailed,
    ProviderError,
    ProviderRateLimited,
    ProviderRefused,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from bot.core.models import AspectRatio, Status, StatusUpdate
from bot.core.providers.base import (
    Capabilities,
    ProgressCallback,
    ProviderCheck,
    ProviderImage,
    ProviderRequest,
)

log = logging.getLogger(__name__)

ANONYMOUS_KEY = "0000000000"
CLIENT_AGENT = f"imaginebot:{__version__}:https://github.com/imaginebot/imaginebot"
# Within what anonymous users may ask for without kudos: multiples of 64, about 512x512.
SIZES: dict[AspectRatio, tuple[int, int]] = {
    "1:1": (512, 512),
    "3:2": (576, 384),
    "2:3": (384, 576),
    "16:9": (640, 384),
    "9:16": (384, 640),
}
CHECK_INTERVAL = 1.0  # the Horde asks clients to check at most once a second
MAX_RESPONSE_BYTES = 16 * 1024 * 1024


def _to_png(data: bytes) -> bytes:
    """The Horde returns WebP; chat platforms and our files want PNG (lossless re-encode)."""
    with Image.open(io.BytesIO(data)) as image:
        if image.format == "PNG":
            return data
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()


class HordeProvider:
    id = "horde"

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        api_url: str,
        api_key: str,
        models: list[str],
        deadline_seconds: float,
        check_interval: float = CHECK_INTERVAL,
    ) -> None:
        self._http = http
        self._url = api_url.rstrip("/")
        self._key = api_key
        self._models = models
        self._deadline = deadline_seconds
        self._interval = check_interval
        self._capabilities = Capabilities(
            aspects=tuple(SIZES),
            negative_prompt=True,
            seed=True,
            max_prompt_chars=1000,
            typical_latency_seconds=60.0,
        )

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    @property
    def model(self) -> str:
        return ",".join(self._models) or "any"

    @property
    def _headers(self) -> dict[str, str]:
        return {"apikey": self._key, "Client-Agent": CLIENT_AGENT}

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._http.request(
                method, f"{self._url}{path}", headers=self._headers, timeout=30.0, **kwargs
            )
        except httpx.TimeoutException as exc:
            raise ProviderTimeout("horde did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(
                f"cannot reach the AI Horde: {exc.__class__.__name__}"
            ) from exc
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise ProviderUnavailable("horde response too large")
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400:
            raise self._error(response.status_code, body if isinstance(body, dict) else {})
        return body

    @staticmethod
    def _error(status: int, body: dict[str, Any]) -> ProviderError:
        message = str(body.get("message") or "")
        code = str(body.get("rc") or "")
        detail = f"horde {status} {code} {message}".strip()
        if status == 401 or code == "InvalidAPIKey":
            return ProviderAuthFailed(detail)
        if code == "CorruptPrompt" or "corrupt prompt" in message.lower():
            return ProviderRefused(detail)
        if status == 429:
            return ProviderRateLimited(detail, retry_after=5.0)
        if status >= 500:
            return ProviderUnavailable(detail)
        if code in ("KudosUpfront", "KudosValidationError"):
            return ProviderRejected(
                detail,
                user_message="The AI Horde asks for kudos (a registered key) for this request; "
                "try a smaller or simpler one.",
            )
        return ProviderRejected(detail)

    def _payload(self, request: ProviderRequest) -> dict[str, Any]:
        width, height = SIZES[request.aspect]
        prompt = request.prompt
        if request.negative_prompt:
            prompt = (
                f"{prompt} ### {request.negative_prompt}"  # the Horde's negative-prompt convention
            )
        params: dict[str, Any] = {
            "width": width,
            "height": height,
            "seed": str(request.seed),
            "steps": int(request.hints.get("steps", 30)),
            "cfg_scale": float(request.hints.get("cfg_scale", 7.0)),
            "sampler_name": str(request.hints.get("sampler", "k_euler_a")),
            "n": 1,
        }
        payload: dict[str, Any] = {
            "prompt": prompt,
            "params": params,
            "nsfw": request.nsfw,
            "censor_nsfw": not request.nsfw,
            "r2": False,  # the image inline, so we never fetch from another host
            "shared": False,
        }
        model = request.hints.get("model")
        models = [str(model)] if model else self._models
        if models:
            payload["models"] = models
        return payload

    async def generate(self, request: ProviderRequest, progress: ProgressCallback) -> ProviderImage:
        submitted = await self._call("POST", "/generate/async", json=self._payload(request))
        job_id = str(submitted.get("id") or "")
        if not job_id:
            raise ProviderUnavailable("horde accepted the request without an id")
        log.info("generation %s: horde job %s", request.generation_id, job_id)
        deadline = time.monotonic() + self._deadline
        last_shown: tuple[Any, Any] | None = None
        try:
            while True:
                check = await self._call("GET", f"/generate/check/{job_id}")
                if check.get("faulted"):
                    raise ProviderUnavailable("the AI Horde could not make this picture (faulted)")
                if not check.get("is_possible", True):
                    raise ProviderRejected(
                        "horde: no worker can serve this request",
                        user_message="No AI Horde worker can make this picture right now.",
                    )
                if check.get("done"):
                    break
                shown = (check.get("queue_position"), check.get("wait_time"))
                if shown != last_shown:
                    last_shown = shown
                    await progress(
                        StatusUpdate(
                            status=Status.RUNNING,
                            position=int(check.get("queue_position") or 0) or None,
                            eta_seconds=float(check.get("wait_time") or 0) or None,
                            detail="in the AI Horde queue",
                        )
                    )
                if time.monotonic() + self._interval > deadline:
                    raise ProviderTimeout("horde: gave up waiting")
                await asyncio.sleep(self._interval)
        except BaseException:
            await self._cancel(job_id)
            raise
        status = await self._call("GET", f"/generate/status/{job_id}")
        generations = status.get("generations") or []
        if not generations:
            raise ProviderUnavailable("horde finished without an image")
        item = generations[0]
        try:
            data = _to_png(base64.b64decode(item["img"]))
        except Exception as exc:
            raise ProviderUnavailable("horde sent an image we cannot read") from exc
        seed = item.get("seed")
        return ProviderImage(
            data=data,
            model=str(item.get("model") or self.model),
            seed=int(seed) if str(seed or "").isdigit() else None,
            censored=bool(item.get("censored")),
        )

    async def _cancel(self, job_id: str) -> None:
        try:
            await self._call("DELETE", f"/generate/status/{job_id}")
        except ProviderError:
            log.info("horde job %s: cancel failed", job_id)

    async def check(self) -> ProviderCheck:
        try:
            user = await self._call("GET", "/find_user")
        except ProviderError as exc:
            return ProviderCheck(provider=self.id, ok=False, detail=exc.detail or exc.code)
        name = user.get("username", "anonymous")
        return ProviderCheck(provider=self.id, ok=True, detail=f"reachable, signed in as {name}")

    async def aclose(self) -> None:
        return None
