"""AI Horde: the crowd-sourced Stable Diffusion cluster, usable with no key at all.

Asynchronous API: submit (`POST /generate/async`), check at most once a second
(`GET /generate/check/{id}`, which also gives the queue position and wait estimate that
flow into the chat's status message), fetch (`GET /generate/status/{id}`), and cancel
(`DELETE /generate/status/{id}`) when we give up or are cancelled; the loop is the shared
one in `polling.py`. Several images are one request (`params.n`, seeds one apart through
`seed_variation`); image to image sends `source_image` with `source_processing: img2img`
and `params.denoising_strength`; an edit sends `source_processing: inpainting` (a region) or
`outpainting` (a padded canvas) with `source_mask`, white = change, encoded like the source
at its size. Captions and upscaling go through alchemy
(`horde_alchemy.py`). A thin httpx client: it shares the process's one HTTP client,
timeouts and size caps (see docs/providers.md for why not `horde-sdk`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import logging
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from PIL import Image

from bot import __version__
from bot.core.errors import HORDE_NO_WORKER, ProviderError, ProviderUnavailable
from bot.core.generation import canvases
from bot.core.generation.providers.base import (
    Capabilities,
    DescribeRequest,
    Description,
    ProgressCallback,
    ProviderCheck,
    ProviderImage,
    ProviderRequest,
    UpscaleRequest,
)
from bot.core.generation.providers.common import ProviderBase, upscaled
from bot.core.generation.providers.hints import hint_float, hint_int, hint_str
from bot.core.generation.providers.horde_alchemy import UPSCALER, Alchemy, source_b64
from bot.core.generation.providers.horde_errors import horde_error
from bot.core.generation.providers.polling import Poll, Wording, follow
from bot.core.generation.providers.transport import capped_request
from bot.core.images.pixels import check_provider_image
from bot.core.models import AspectRatio

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
CALL_TIMEOUT = 30.0
MAX_JSON_BYTES = 4 * 1024 * 1024  # check/submit answers are small; status carries the image
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
MAX_BATCH = 4
MAX_SOURCE_SIDE = 1024
WORDING = Wording(
    queued="in the AI Horde queue",
    running="an AI Horde worker is drawing it",
    gave_up="horde: gave up waiting",
)


class _Impossible(Exception):
    """No Horde worker can serve the request as asked (e.g. the model has no worker)."""


def _to_png(data: bytes) -> bytes:
    """The Horde returns WebP; chat platforms and our files want PNG (lossless re-encode).
    The picture is checked from its header first: re-encoding decodes it."""
    check_provider_image("horde", data)
    with Image.open(io.BytesIO(data)) as image:
        if image.format == "PNG":
            return data
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()


def _source_fields(request: ProviderRequest) -> dict[str, str]:
    """`source_image` and how to use it: img2img, or inpainting / outpainting under a
    `source_mask` (white = change) encoded the same way at the same size."""
    assert request.init_image is not None
    fields = {
        "source_image": source_b64(request.init_image, MAX_SOURCE_SIDE),
        "source_processing": "img2img",
    }
    if request.mask is not None:
        mask = canvases.for_white_beside(request.init_image, request.mask)
        fields["source_mask"] = source_b64(mask, MAX_SOURCE_SIDE)
        fields["source_processing"] = "outpainting" if request.edit == "outpaint" else "inpainting"
    return fields


class HordeProvider(ProviderBase):
    id = "horde"
    name = "the AI Horde"

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        api_url: str,
        api_key: str,
        models: list[str],
        deadline_seconds: float,
        check_interval: float = CHECK_INTERVAL,
        max_image_bytes: int = MAX_RESPONSE_BYTES,
        link_schemes: tuple[str, ...] = ("https",),
    ) -> None:
        super().__init__(
            http=http,
            url=api_url,
            model=",".join(models) or "any",
            capabilities=Capabilities(
                aspects=tuple(SIZES),
                negative_prompt=True,
                seed=True,
                max_prompt_chars=1000,
                typical_latency_seconds=60.0,
                images_per_request=MAX_BATCH,
                image_input=True,
                inpaint=True,
                outpaint=True,
                upscaler=UPSCALER,
                describe=True,
                sizes=dict(SIZES),
            ),
        )
        self._key = api_key
        self._models = models
        self._deadline = deadline_seconds
        self._interval = check_interval
        self._max_image_bytes = max_image_bytes
        self._link_schemes = link_schemes
        self._alchemy = Alchemy(
            self._call, interval=check_interval, deadline_seconds=deadline_seconds
        )

    async def _call(
        self, method: str, path: str, *, max_bytes: int = MAX_JSON_BYTES, **kwargs: Any
    ) -> Any:
        response = await self._http_call(
            method,
            path,
            seconds=CALL_TIMEOUT,
            max_bytes=max_bytes,
            headers={"apikey": self._key, "Client-Agent": CLIENT_AGENT},
            **kwargs,
        )
        body = response.json()
        if response.status_code >= 400:
            raise horde_error(
                response.status_code,
                body if isinstance(body, dict) else {},
                response.retry_after(),
            )
        if body is None:
            raise ProviderUnavailable(f"horde {response.status_code}: the answer is not JSON")
        return body

    def _raise_for_status(self, response: Any, path: str) -> None:
        return None  # the Horde's errors carry a body to read: sorted in _call

    def _payload(self, request: ProviderRequest, models: list[str]) -> dict[str, Any]:
        width, height = SIZES[request.aspect]
        prompt = request.prompt
        if request.negative_prompt:
            # The Horde's negative-prompt convention: "positive ### negative".
            prompt = f"{prompt} ### {request.negative_prompt}"
        params: dict[str, Any] = {
            "width": width,
            "height": height,
            "seed": str(request.seed),
            "steps": hint_int(request.hints, "steps", 30, self.id),
            "cfg_scale": hint_float(request.hints, "cfg_scale", 7.0, self.id),
            "sampler_name": hint_str(request.hints, "sampler", self.id) or "k_euler_a",
            "n": request.count,
        }
        if request.count > 1:
            params["seed_variation"] = 1  # image k has seed + k, so each can be made again
        payload: dict[str, Any] = {
            "prompt": prompt,
            "params": params,
            "nsfw": request.nsfw,
            "censor_nsfw": not request.nsfw,
            "r2": False,  # the image inline, so nothing is fetched from another host
            "shared": False,
        }
        if models:
            payload["models"] = models
        return payload

    async def _make(
        self, request: ProviderRequest, progress: ProgressCallback
    ) -> list[ProviderImage]:
        deadline = time.monotonic() + self._deadline
        source = None
        if request.init_image is not None:
            source = await asyncio.to_thread(_source_fields, request)
        hinted = hint_str(request.hints, "model", self.id)
        # HORDE_MODELS, when set, is the operator's list: a style's model outside it is ignored.
        allowed = hinted and (not self._models or hinted in self._models)
        preferred = [hinted] if hinted and allowed else self._models
        try:
            return await self._run(request, progress, preferred, deadline, source)
        except _Impossible:
            if preferred == self._models:
                raise ProviderUnavailable(
                    "horde: no worker can serve this request",
                    user_message=HORDE_NO_WORKER,
                ) from None
        # A style's favourite model has no worker at the moment: any configured model will do.
        log.info(
            "generation %s: no Horde worker for model %s, trying %s",
            request.generation_id,
            hinted,
            self.model,
        )
        try:
            return await self._run(request, progress, self._models, deadline, source)
        except _Impossible:
            raise ProviderUnavailable(
                "horde: no worker can serve this request",
                user_message=HORDE_NO_WORKER,
            ) from None

    async def _run(
        self,
        request: ProviderRequest,
        progress: ProgressCallback,
        models: list[str],
        deadline: float,
        source: dict[str, str] | None,
    ) -> list[ProviderImage]:
        payload = self._payload(request, models)
        if source is not None:
            payload.update(source)
            payload["params"]["denoising_strength"] = max(0.01, request.strength)
        submitted = await self._call("POST", "/generate/async", json=payload)
        job_id = str(submitted.get("id") or "") if isinstance(submitted, dict) else ""
        if not job_id:
            raise ProviderUnavailable("horde accepted the request without an id")
        log.info("generation %s: horde job %s", request.generation_id, job_id)
        # Timed out, impossible, faulted or cancelled: the loop frees the Horde's queue slot
        # (and the kudos it holds) instead of leaving an orphan request behind.
        await follow(
            job_id,
            check=self._check,
            cancel=self._cancel,
            progress=progress,
            interval=self._interval,
            deadline=deadline,
            wording=WORDING,
        )
        status = await self._call(
            "GET", f"/generate/status/{job_id}", max_bytes=self._max_image_bytes * request.count
        )
        generations = status.get("generations") if isinstance(status, dict) else None
        if not generations:
            raise ProviderUnavailable("horde finished without an image")
        made = []
        for item in generations[: request.count]:
            data = await self._image_bytes(str(item.get("img") or ""))
            try:
                png = await asyncio.to_thread(_to_png, data)
            except ProviderError:
                raise
            except Exception as exc:
                raise ProviderUnavailable("horde sent an image we cannot read") from exc
            seed = item.get("seed")
            made.append(
                ProviderImage(
                    data=png,
                    model=str(item.get("model") or self.model),
                    seed=int(seed) if str(seed or "").isdigit() else None,
                    censored=bool(item.get("censored")),
                )
            )
        return made

    async def _check(self, job_id: str) -> Poll[bool]:
        check = await self._call("GET", f"/generate/check/{job_id}")
        if not isinstance(check, dict):
            raise ProviderUnavailable("horde check answer is not an object")
        if check.get("faulted"):
            raise ProviderUnavailable("the AI Horde could not make this picture (faulted)")
        if check.get("done"):
            return Poll(result=True)
        if not check.get("is_possible", True):
            raise _Impossible
        return Poll(
            position=int(check.get("queue_position") or 0) or None,
            eta_seconds=float(check.get("wait_time") or 0) or None,
            running=bool(check.get("processing")),
        )

    async def _image_bytes(self, img: str) -> bytes:
        """The image from a status answer: inline base64 (what `r2: false` asks for)."""
        if img.startswith(("http://", "https://")):
            return await self._download(img)
        try:
            return base64.b64decode(img, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ProviderUnavailable("horde sent an image we cannot read") from exc

    async def _download(self, url: str) -> bytes:
        """The one exception to "only the provider's own host": a storage link (an upscale's
        result, or a generation despite `r2: false`) is fetched only over https, without
        redirects, without our Horde key, under the size cap, and it must decode as an image
        afterwards."""
        if urlsplit(url).scheme not in self._link_schemes:
            raise ProviderUnavailable("horde sent a non-https image link")
        response = await capped_request(
            self._http,
            "GET",
            url,
            name="the AI Horde image store",
            seconds=CALL_TIMEOUT,
            max_bytes=self._max_image_bytes,
            follow_redirects=False,
        )
        if response.status_code != 200:
            raise ProviderUnavailable(f"horde image link answered {response.status_code}")
        return response.content

    async def _cancel(self, job_id: str) -> None:
        try:
            await self._call("DELETE", f"/generate/status/{job_id}")
        except ProviderError:
            log.info("horde job %s: cancel failed", job_id)

    async def upscale(self, request: UpscaleRequest, progress: ProgressCallback) -> ProviderImage:
        """RealESRGAN_x4plus through alchemy: always four times (the model's own scale)."""
        result = await self._alchemy.run(UPSCALER, request.image, progress)
        link = result.get(UPSCALER)
        if not isinstance(link, str) or not link:
            raise ProviderUnavailable("horde upscale finished without a link")
        data = await self._download(link)
        png = await asyncio.to_thread(_to_png, data)
        return upscaled(self.id, png, UPSCALER)

    async def describe(self, request: DescribeRequest) -> Description:
        async def quiet(_: Any) -> None:
            return None

        result = await self._alchemy.run("caption", request.image, quiet)
        caption = result.get("caption")
        if not isinstance(caption, str) or not caption.strip():
            raise ProviderUnavailable("horde caption finished without text")
        return Description(suggestions=(caption.strip(),), model="BLIP caption")

    async def check(self) -> ProviderCheck:
        """Reachable and authenticated (`/find_user`), and whether the wanted models have
        workers (`/status/models`)."""
        try:
            user = await self._call("GET", "/find_user")
            online = await self._call("GET", "/status/models", params={"type": "image"})
        except ProviderError as exc:
            return ProviderCheck(provider=self.id, ok=False, detail=exc.detail or exc.code)
        name = user.get("username", "?") if isinstance(user, dict) else "?"
        kudos = float(user.get("kudos") or 0) if isinstance(user, dict) else 0.0
        workers = {
            str(m.get("name")): int(m.get("count") or 0)
            for m in (online if isinstance(online, list) else [])
            if isinstance(m, dict)
        }
        who = f"signed in as {name} ({kudos:.0f} kudos)"
        if not self._models:
            served = sum(1 for count in workers.values() if count)
            return ProviderCheck(
                provider=self.id, ok=served > 0, detail=f"{who}; {served} models have workers"
            )
        found = [f"{m}: {workers.get(m, 0)} workers" for m in self._models]
        ok = any(workers.get(m, 0) for m in self._models)
        return ProviderCheck(provider=self.id, ok=ok, detail=f"{who}; {', '.join(found)}")
