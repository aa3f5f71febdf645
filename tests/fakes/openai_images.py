"""A fake of OpenAI's images API, strict about the request shape the real one accepts.

`/v1/moderations` flags text containing FLAG_ME. Image calls are scripted: `fake.script` is a
list of outcomes consumed one per call ("ok", "500", "429", "quota", "refuse", "invalid",
"slow:<seconds>", "huge:<bytes>" for a b64_json answer that goes on for that many bytes,
streamed without a length, "bomb:<w>x<h>" for a small PNG that declares w x h pixels); when it
is empty a prompt containing REFUSE_ME is refused and everything else succeeds. Every call is
recorded, and every served image is kept so tests can compare bytes with what reached a chat.

`n` is 1-10 (dall-e-3: 1 only), as the real API allows. Image edits (`/v1/images/edits`,
multipart as the SDK sends it) are for gpt-image-1 and dall-e-2; the `image` (or `image[]`)
part must decode as PNG, JPEG or WebP (dall-e-2: a square PNG under 4 MB), unknown fields
are refused, and the bytes received are kept (`edit_images`). A `mask` must be a PNG with an
alpha channel (fully transparent pixels are the area to change), under 4 MB and of the same
size as the (first) image, or the edit is refused with 400 as the real API refuses it; the
masks received are kept (`edit_masks`). Several pictures in one edit (`image[]` parts: the GPT
image models take up to 16, which is how they follow reference pictures) are kept together
per call (`edit_image_sets`); dall-e-2 takes one and refuses more. Chat completions with an
`image_url` data URL (`/v1/chat/completions`) answer `vision_answer` for the vision models;
the image in the data URL is decoded and kept (`vision_images`); one with text alone is a
prompt translation, answered by `translations` (`tests/fakes/openai_chat.py`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import itertools
import json
import os
import struct
import threading
import zlib
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aiohttp import web
from PIL import Image, ImageDraw

from tests.fakes.openai_chat import FakeTranslations

VALID_SIZES = {
    "gpt-image-1": {"1024x1024", "1536x1024", "1024x1536", "auto"},
    "dall-e-3": {"1024x1024", "1792x1024", "1024x1792"},
    "dall-e-2": {"256x256", "512x512", "1024x1024"},
}
VALID_QUALITY = {
    "gpt-image-1": {"low", "medium", "high", "auto"},
    "dall-e-3": {"standard", "hd"},
    "dall-e-2": {"standard"},
}
ALLOWED_FIELDS = {
    "model",
    "prompt",
    "n",
    "size",
    "quality",
    "style",
    "response_format",
    "user",
    "background",
    "moderation",
    "output_format",
    "output_compression",
}
MODERATION_MODELS = {
    "omni-moderation-latest",
    "omni-moderation-2024-09-26",
    "text-moderation-latest",
}
MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
PROMPT_LIMITS = {"gpt-image-1": 32000, "dall-e-3": 4000, "dall-e-2": 1000}
MAX_N = {"gpt-image-1": 10, "dall-e-3": 1, "dall-e-2": 10}
EDIT_FIELDS = {
    "image",
    "image[]",
    "prompt",
    "mask",
    "model",
    "n",
    "size",
    "quality",
    "response_format",
    "user",
    "background",
    "input_fidelity",
    "output_format",
    "output_compression",
}
VISION_MODELS = {"gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1"}
CHAT_FIELDS = {"model", "messages", "max_completion_tokens", "max_tokens", "temperature"}


def decoded_picture(
    data: bytes, formats: tuple[str, ...] = ("PNG", "JPEG", "WEBP")
) -> Image.Image | None:
    """The picture in `data` (fully decoded), or None when it is none."""
    try:
        with Image.open(io.BytesIO(data), formats=formats) as image:
            image.load()
            return image.copy()
    except (OSError, ValueError):
        return None


def mask_problem(mask: bytes, image: bytes) -> str | None:
    """Why the real API refuses this mask for this image, or None: a PNG with alpha, under
    4 MB, of the image's size."""
    picture = decoded_picture(mask, ("PNG",))
    if picture is None or len(mask) > 4 * 1024 * 1024:
        return "Invalid mask image file: the mask must be a PNG file under 4 MB."
    if picture.mode not in ("RGBA", "LA") and "transparency" not in picture.info:
        return f"Invalid input image - format must be in ['RGBA', 'LA'], got {picture.mode}."
    target = decoded_picture(image)
    if target is None or target.size != picture.size:
        return "Invalid mask: the mask size does not match the image size."
    return None


def make_png(width: int, height: int, label: str) -> bytes:
    """A distinct, valid PNG of the requested size (flat colours compress fast and small)."""
    digest = hashlib.sha256(label.encode()).digest()
    image = Image.new("RGB", (width, height), tuple(digest[:3]))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width // 2, height // 2), fill=tuple(digest[3:6]))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def noise_png(width: int, height: int) -> bytes:
    """A PNG of random pixels: about 3 bytes a pixel whatever the compression."""
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


@cache
def bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of width x height pixels, all black: kilobytes on the wire, and
    width x height bytes or more once decoded (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then the packed bits
    packer = zlib.compressobj(9)
    compressed = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", compressed)
        + chunk(b"IEND", b"")
    )


@dataclass
class Call:
    body: dict[str, Any]
    outcome: str


@dataclass
class FakeOpenAI:
    api_key: str = "sk-test-fake-key"
    script: list[str] = field(default_factory=list)
    delay: float = 0.0
    # Like a real rate-limited account: calls beyond this many in flight get 429.
    max_concurrency: int | None = None
    in_flight: int = 0
    peak_in_flight: int = 0
    rejected_for_concurrency: int = 0
    calls: list[Call] = field(default_factory=list)
    images: list[bytes] = field(default_factory=list)
    # The prompt each of `images` was made for, in the same order.
    image_prompts: list[str] = field(default_factory=list)
    huge_bytes_sent: int = 0  # how much of the last "huge" answer went out before the reader quit
    image_urls: dict[str, bytes] = field(default_factory=dict)
    base_url: str = ""
    # /v1/moderations flags any input containing one of these.
    flag_terms: tuple[str, ...] = ("FLAG_ME",)
    moderation_inputs: list[str] = field(default_factory=list)
    # Pictures sent to /v1/moderations (omni models only, as data URLs), decoded; one whose
    # top-left pixel has a colour listed here is flagged (sexual).
    moderation_images: list[bytes] = field(default_factory=list)
    flag_image_colours: tuple[tuple[int, int, int], ...] = ((255, 0, 255),)
    edit_images: list[bytes] = field(default_factory=list)
    edits: list[dict[str, str]] = field(default_factory=list)
    edit_masks: list[bytes] = field(default_factory=list)
    edit_image_sets: list[list[bytes]] = field(default_factory=list)  # each edit's pictures
    vision_images: list[bytes] = field(default_factory=list)
    vision_answer: str = (
        "1. a red fox in fresh snow, soft morning light, photograph\n"
        "2. watercolour fox in a winter forest\n"
        "3. a fox, low poly 3d render\n"
        "4. ink sketch of a fox, minimal"
    )
    # Text-only chat completions (the prompt translator's): tests/fakes/openai_chat.py.
    translations: FakeTranslations = field(default_factory=FakeTranslations)
    _counter: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def made_for(self, prompt: str) -> list[bytes]:
        """Every picture made for a request whose prompt starts with `prompt`, oldest first."""
        return [
            data
            for data, asked in zip(list(self.images), list(self.image_prompts), strict=False)
            if asked.startswith(prompt)
        ]

    def app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_post("/v1/images/generations", self.generations)
        app.router.add_post("/v1/images/edits", self.image_edits)
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_get("/v1/models/{model}", self.model)
        app.router.add_get("/files/{name}", self.file)
        app.router.add_post("/v1/moderations", self.moderations)
        return app

    def _moderate_parts(self, model: str, items: list[Any]) -> web.Response:
        if not str(model).startswith("omni-moderation"):
            return self.error(400, f"{model} does not take images", None, "invalid_request_error")
        texts, pictures = [], []
        for item in items:
            kind = item.get("type") if isinstance(item, dict) else None
            if kind == "text" and set(item) == {"type", "text"} and isinstance(item["text"], str):
                texts.append(item["text"])
                continue
            url = item.get("image_url", {}).get("url") if kind == "image_url" else None
            if not isinstance(url, str) or set(item) != {"type", "image_url"}:
                return self.error(400, "Invalid input item", None, "invalid_request_error")
            head, _, encoded = url.partition(";base64,")
            if head not in ("data:image/png", "data:image/jpeg", "data:image/webp"):
                return self.error(
                    400, "Invalid image URL", "invalid_image_url", "invalid_request_error"
                )
            try:
                data = base64.b64decode(encoded, validate=True)
            except ValueError:
                data = b""
            picture = decoded_picture(data)
            if picture is None:
                return self.error(
                    400,
                    "You uploaded an unsupported image.",
                    "invalid_image_format",
                    "invalid_request_error",
                )
            pictures.append((data, picture))
        if len(pictures) > 1:
            return self.error(400, "At most one image per request", None, "invalid_request_error")
        flagged_text = any(term in text for text in texts for term in self.flag_terms)
        flagged_image = any(
            picture.convert("RGB").getpixel((0, 0)) in self.flag_image_colours
            for _data, picture in pictures
        )
        with self._lock:
            self.moderation_inputs.extend(texts)
            self.moderation_images.extend(data for data, _picture in pictures)
        categories = {
            name: (flagged_text and name == "violence") or (flagged_image and name == "sexual")
            for name in MODERATION_CATEGORIES
        }
        result = {
            "flagged": flagged_text or flagged_image,
            "categories": categories,
            "category_scores": {k: 0.9 if v else 0.001 for k, v in categories.items()},
            "category_applied_input_types": {
                k: (["image"] if pictures else []) + (["text"] if texts else []) for k in categories
            },
        }
        return web.json_response(
            {"id": f"modr-{next(self._counter)}", "model": model, "results": [result]}
        )

    async def moderations(self, request: web.Request) -> web.Response:
        """The moderation endpoint: text containing a `flag_terms` entry is flagged (violence)."""
        if not self._authorised(request):
            return self.error(
                401, "Incorrect API key provided.", "invalid_api_key", "invalid_request_error"
            )
        body = await request.json()
        problem = None
        if not isinstance(body, dict) or set(body) - {"model", "input"} or "input" not in body:
            problem = "body must be an object with 'input' and optionally 'model'"
        elif body.get("model", "omni-moderation-latest") not in MODERATION_MODELS:
            problem = f"The model '{body.get('model')}' does not exist"
        elif not isinstance(body["input"], (str, list)) or not body["input"]:
            problem = "'input' must be a non-empty string or array"
        if problem is not None:
            return self.error(400, problem, None, "invalid_request_error")
        items = [body["input"]] if isinstance(body["input"], str) else list(body["input"])
        if any(isinstance(item, dict) for item in items):
            # Multi-modal input: text and image_url objects, one result for them together;
            # only the omni models take images, and at most one image per request.
            return self._moderate_parts(body.get("model", "omni-moderation-latest"), items)
        if not all(isinstance(item, str) for item in items):
            return self.error(400, "'input' items must be strings", None, "invalid_request_error")
        texts: list[str] = items
        with self._lock:
            self.moderation_inputs.extend(texts)
        results = []
        for text in texts:
            flagged = any(term in text for term in self.flag_terms)
            categories = {name: flagged and name == "violence" for name in MODERATION_CATEGORIES}
            results.append(
                {
                    "flagged": flagged,
                    "categories": categories,
                    "category_scores": {k: 0.9 if v else 0.001 for k, v in categories.items()},
                    "category_applied_input_types": {k: ["text"] for k in categories},
                }
            )
        return web.json_response(
            {
                "id": f"modr-{next(self._counter)}",
                "model": "omni-moderation-latest",
                "results": results,
            }
        )

    @staticmethod
    def error(
        status: int,
        message: str,
        code: str | None,
        kind: str,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        return web.json_response(body, status=status, headers=headers)

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.api_key}"

    async def model(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self.error(
                401, "Incorrect API key provided.", "invalid_api_key", "invalid_request_error"
            )
        name = request.match_info["model"]
        if name not in VALID_SIZES:
            return self.error(
                404,
                f"The model '{name}' does not exist",
                "model_not_found",
                "invalid_request_error",
            )
        return web.json_response(
            {"id": name, "object": "model", "created": 0, "owned_by": "system"}
        )

    async def file(self, request: web.Request) -> web.Response:
        data = self.image_urls.get(request.match_info["name"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type="image/png")

    def _validate(self, body: Any) -> str | None:
        if not isinstance(body, dict):
            return "body must be a JSON object"
        unknown = set(body) - ALLOWED_FIELDS
        if unknown:
            return f"Unknown parameter: '{sorted(unknown)[0]}'."
        model = body.get("model")
        if model not in VALID_SIZES:
            return f"Invalid value for 'model': {model!r}."
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            return "Missing required parameter: 'prompt'."
        if len(prompt) > PROMPT_LIMITS[model]:
            return f"Invalid 'prompt': string too long. Expected a string with maximum length {PROMPT_LIMITS[model]}."
        n = body.get("n", 1)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_N[model]:
            return f"Invalid 'n': {model} takes 1 to {MAX_N[model]}."
        if "size" in body and body["size"] not in VALID_SIZES[model]:
            return f"Invalid value for 'size': {body['size']!r}."
        if "quality" in body and body["quality"] not in VALID_QUALITY[model]:
            return f"Invalid value for 'quality': {body['quality']!r}."
        if model != "dall-e-3" and "style" in body:
            return "Unknown parameter: 'style'."
        if model.startswith("gpt-image") and "response_format" in body:
            return "Unknown parameter: 'response_format'."
        return None

    def _next_outcome(self, prompt: str) -> str:
        with self._lock:
            if self.script:
                return self.script.pop(0)
        return "refuse" if "REFUSE_ME" in prompt else "ok"

    async def generations(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return self.error(
                401, "Incorrect API key provided.", "invalid_api_key", "invalid_request_error"
            )
        if request.content_type != "application/json":
            return self.error(
                400, "Content-Type must be application/json", None, "invalid_request_error"
            )
        try:
            body = json.loads(await request.text())
        except json.JSONDecodeError:
            return self.error(
                400,
                "We could not parse the JSON body of your request.",
                None,
                "invalid_request_error",
            )
        problem = self._validate(body)
        if problem:
            self.calls.append(Call(body if isinstance(body, dict) else {}, "invalid"))
            return self.error(400, problem, "invalid_value", "invalid_request_error")
        if self.max_concurrency is not None and self.in_flight >= self.max_concurrency:
            self.rejected_for_concurrency += 1
            self.calls.append(Call(body, "429"))
            return self.error(
                429,
                "Rate limit reached: too many concurrent requests.",
                "rate_limit_exceeded",
                "requests",
                headers={"retry-after": "1"},
            )
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return await self._serve(body, request)
        finally:
            self.in_flight -= 1

    async def _serve(self, body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        outcome = self._next_outcome(body["prompt"])
        self.calls.append(Call(body, outcome))
        if outcome.startswith("huge:"):
            return await self._huge(request, int(outcome.split(":", 1)[1]))
        if outcome.startswith("noise:"):
            # Random pixels do not compress: a PNG of megabytes, for upload-limit tests.
            width, height = (int(v) for v in outcome.split(":", 1)[1].split("x"))
            data = noise_png(width, height)
            self.images.append(data)
            item = {"b64_json": base64.b64encode(data).decode()}
            return web.json_response({"created": 1_700_000_000, "data": [item]})
        if outcome.startswith("bomb:"):
            width, height = (int(v) for v in outcome.split(":", 1)[1].split("x"))
            item = {"b64_json": base64.b64encode(bomb_png(width, height)).decode()}
            return web.json_response({"created": 1_700_000_000, "data": [item]})
        if self.delay:
            await asyncio.sleep(self.delay)
        if outcome.startswith("slow:"):
            await asyncio.sleep(float(outcome.split(":", 1)[1]))
            outcome = "ok"
        if outcome == "500":
            return self.error(
                500, "The server had an error while processing your request.", None, "server_error"
            )
        if outcome == "429":
            return self.error(
                429,
                "Rate limit reached for images per minute.",
                "rate_limit_exceeded",
                "requests",
                headers={"retry-after": "1"},
            )
        if outcome == "quota":
            return self.error(
                429,
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
                "insufficient_quota",
            )
        if outcome == "refuse":
            return self.error(
                400,
                "Your request was rejected as a result of our safety system.",
                "moderation_blocked",
                "image_generation_user_error",
            )
        if outcome == "invalid":
            return self.error(400, "Invalid request.", "invalid_value", "invalid_request_error")
        return self._image_response(body)

    def _image_response(self, body: dict[str, Any]) -> web.Response:
        size = body.get("size", "1024x1024")
        if size == "auto":
            size = "1024x1024"
        width, height = (int(v) for v in size.split("x"))
        serial = next(self._counter)
        items = []
        for index in range(int(body.get("n", 1))):
            data = make_png(width, height, f"{serial}:{index}:{body['prompt']}")
            self.images.append(data)
            self.image_prompts.append(body["prompt"])
            item: dict[str, Any] = {}
            if body["model"].startswith("gpt-image") or body.get("response_format") == "b64_json":
                item["b64_json"] = base64.b64encode(data).decode()
            else:
                name = f"img-{serial}-{index}.png"
                self.image_urls[name] = data
                item["url"] = f"{self.base_url}/files/{name}"
            if body["model"] == "dall-e-3":
                item["revised_prompt"] = f"A detailed rendering of: {body['prompt'][:200]}"
            items.append(item)
        payload: dict[str, Any] = {"created": 1_700_000_000 + serial, "data": items}
        if body["model"].startswith("gpt-image"):
            payload["usage"] = {
                "total_tokens": 100,
                "input_tokens": 50,
                "output_tokens": 50,
                "input_tokens_details": {"text_tokens": 50, "image_tokens": 0},
            }
        return web.json_response(payload)

    async def _huge(self, request: web.Request, size: int) -> web.StreamResponse:
        """A 200 answer whose b64_json never seems to end: chunked, so no length warns."""
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        self.huge_bytes_sent = 0
        opening = b'{"created": 1700000000, "data": [{"b64_json": "'
        block = b"A" * (1024 * 1024)
        try:
            await response.write(opening)
            while self.huge_bytes_sent < size:
                await response.write(block)
                self.huge_bytes_sent += len(block)
            await response.write(b'"}]}')
            await response.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client stopped reading, as it should
        return response

    async def image_edits(self, request: web.Request) -> web.Response:
        """`images.edit` as the SDK sends it: multipart, the picture as `image`."""
        if not self._authorised(request):
            return self.error(
                401, "Incorrect API key provided.", "invalid_api_key", "invalid_request_error"
            )
        if request.content_type != "multipart/form-data":
            return self.error(400, "Expected multipart/form-data", None, "invalid_request_error")
        form = await request.post()
        unknown = set(form) - EDIT_FIELDS
        if unknown:
            return self.error(
                400,
                f"Unknown parameter: '{sorted(unknown)[0]}'.",
                "unknown_parameter",
                "invalid_request_error",
            )
        fields = {k: str(v) for k, v in form.items() if not isinstance(v, web.FileField)}
        model = fields.get("model", "dall-e-2")
        files = [v for k, v in form.items() if k in ("image", "image[]")]
        problem = None
        if model not in ("gpt-image-1", "dall-e-2"):
            problem = (
                f"Invalid value for 'model': '{model}'. Image edits take gpt-image-1 or dall-e-2."
            )
        elif not fields.get("prompt"):
            problem = "Missing required parameter: 'prompt'."
        elif not files or not all(isinstance(f, web.FileField) for f in files):
            problem = "Missing required parameter: 'image'."
        elif not fields.get("n", "1").isdigit() or not 1 <= int(fields.get("n", "1")) <= 10:
            problem = "Invalid 'n': expected 1 to 10."
        elif "size" in fields and fields["size"] not in VALID_SIZES[model] | {"auto"}:
            problem = f"Invalid value for 'size': {fields['size']!r}."
        elif "input_fidelity" in fields and (
            model != "gpt-image-1" or fields["input_fidelity"] not in ("high", "low")
        ):
            problem = "Invalid value for 'input_fidelity'."
        if problem:
            return self.error(400, problem, "invalid_value", "invalid_request_error")
        received = [f.file.read() for f in files if isinstance(f, web.FileField)]
        if len(received) > (1 if model == "dall-e-2" else 16):
            return self.error(
                400,
                f"Too many images: {model} takes at most {1 if model == 'dall-e-2' else 16}.",
                "invalid_value",
                "invalid_request_error",
            )
        for data in received:
            picture = decoded_picture(
                data, ("PNG",) if model == "dall-e-2" else ("PNG", "JPEG", "WEBP")
            )
            if picture is None or len(data) > (4 if model == "dall-e-2" else 50) * 1024 * 1024:
                return self.error(
                    400,
                    "Invalid image file or mode for image 1, please check your image file.",
                    "invalid_image_file",
                    "invalid_request_error",
                )
            if model == "dall-e-2" and picture.width != picture.height:
                return self.error(
                    400, "Uploaded image must be square.", "invalid_image", "invalid_request_error"
                )
        mask = form.get("mask")
        mask_bytes = None
        if mask is not None:
            if not isinstance(mask, web.FileField):
                return self.error(
                    400, "Invalid mask: expected a file.", "invalid_value", "invalid_request_error"
                )
            mask_bytes = mask.file.read()
            problem = mask_problem(mask_bytes, received[0])
            if problem:
                return self.error(400, problem, "invalid_image_file", "invalid_request_error")
        if self._next_outcome(fields["prompt"]) == "refuse":
            # Edits pass the same safety system as generations (moderation_blocked).
            self.calls.append(Call({"prompt": fields["prompt"], "edit": True}, "refuse"))
            return self.error(
                400,
                "Your request was rejected as a result of our safety system.",
                "moderation_blocked",
                "image_generation_user_error",
            )
        self.edit_images.extend(received)
        self.edit_image_sets.append(received)
        if mask_bytes is not None:
            self.edit_masks.append(mask_bytes)
        self.edits.append(fields)
        body = {"model": model, "prompt": fields["prompt"], "n": int(fields.get("n", "1"))}
        body["size"] = fields.get("size", "1024x1024")
        self.calls.append(Call({**body, "edit": True}, "ok"))
        return self._image_response(body)

    async def chat(self, request: web.Request) -> web.Response:
        """Chat completions: describing a picture (one user message with an image_url), or
        text alone (translating a prompt), which `translations` answers."""
        body = await request.json()
        if FakeTranslations.takes(body):
            return await self.translations.answer(body, self._authorised(request))
        if not self._authorised(request):
            return self.error(
                401, "Incorrect API key provided.", "invalid_api_key", "invalid_request_error"
            )
        problem = None
        if not isinstance(body, dict) or set(body) - CHAT_FIELDS:
            problem = "Unrecognized request argument supplied"
        elif body.get("model") not in VISION_MODELS:
            problem = f"The model '{body.get('model')}' does not exist or does not take images"
        elif not isinstance(body.get("messages"), list) or not body["messages"]:
            problem = "'messages' must be a non-empty array"
        if problem:
            return self.error(400, problem, "invalid_value", "invalid_request_error")
        images = []
        for message in body["messages"]:
            content = message.get("content") if isinstance(message, dict) else None
            parts = content if isinstance(content, list) else []
            for part in parts:
                if not isinstance(part, dict) or part.get("type") not in ("text", "image_url"):
                    return self.error(
                        400, "Invalid content part", "invalid_value", "invalid_request_error"
                    )
                if part["type"] == "image_url":
                    url = str((part.get("image_url") or {}).get("url", ""))
                    head, _, encoded = url.partition(";base64,")
                    if head not in (
                        "data:image/png",
                        "data:image/jpeg",
                        "data:image/webp",
                        "data:image/gif",
                    ):
                        return self.error(
                            400, "Invalid image URL", "invalid_image_url", "invalid_request_error"
                        )
                    try:
                        data = base64.b64decode(encoded, validate=True)
                    except ValueError:
                        data = b""
                    if decoded_picture(data, ("PNG", "JPEG", "WEBP", "GIF")) is None:
                        return self.error(
                            400,
                            "You uploaded an unsupported image.",
                            "invalid_image_format",
                            "invalid_request_error",
                        )
                    images.append(data)
        if not images:
            return self.error(
                400, "No image in the message", "invalid_value", "invalid_request_error"
            )
        self.vision_images.extend(images)
        serial = next(self._counter)
        return web.json_response(
            {
                "id": f"chatcmpl-{serial}",
                "object": "chat.completion",
                "created": 1_700_000_000 + serial,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": self.vision_answer},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 300, "completion_tokens": 60, "total_tokens": 360},
            }
        )

    @property
    def successful_calls(self) -> int:
        return sum(1 for c in self.calls if c.outcome == "ok" or c.outcome.startswith("slow:"))


class PooledImages(FakeOpenAI):
    """For benchmarks: serves from a pool of pre-rendered distinct PNGs (rendering costs ~10 ms)."""

    pool_size: int = 64

    def _image_response(self, body: dict[str, Any]) -> web.Response:
        size = body.get("size", "1024x1024")
        pool = self.__dict__.setdefault("_pool", {})
        if size not in pool:
            width, height = (int(v) for v in size.split("x"))
            pool[size] = [
                base64.b64encode(make_png(width, height, f"pool:{i}")).decode()
                for i in range(self.pool_size)
            ]
        serial = next(self._counter)
        item = {"b64_json": pool[size][serial % self.pool_size]}
        return web.json_response({"created": 1_700_000_000 + serial, "data": [item]})


def main() -> None:
    """Serve the fake on a port, for benchmarks and manual runs: python -m tests.fakes.openai_images."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--max-concurrency", type=int)
    parser.add_argument("--api-key", default="sk-test-fake-key")
    args = parser.parse_args()
    fake = PooledImages(
        api_key=args.api_key, delay=args.delay, max_concurrency=args.max_concurrency
    )
    app = fake.app()

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response(
            {
                "calls": len(fake.calls),
                "rejected_for_concurrency": fake.rejected_for_concurrency,
                "peak_in_flight": fake.peak_in_flight,
            }
        )

    app.router.add_get("/stats", stats)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
