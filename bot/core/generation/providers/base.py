"""What every image provider declares and returns, and the operations it may offer.

Besides text to image (`generate`), a provider may make several images in one request
(`count`), start from an input image (`init_image` and `strength`), upscale an image,
describe one in words, and edit one: repaint what a mask marks (inpaint), fill the new area
of a padded canvas (outpaint), or follow an instruction with no mask (edit by words). What it can do is declared in its `Capabilities`, so the core and
the fallback chain (`chain.py`) pick only providers that can do what a request needs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Literal, Protocol

from pydantic import Field

from bot.core.models import DEFAULT_STRENGTH, MAX_COUNT, AspectRatio, Frozen, StatusUpdate

HintValue = str | int | float | bool
ProgressCallback = Callable[[StatusUpdate], Awaitable[None]]
EditMode = Literal["", "inpaint", "outpaint", "words"]


class Capabilities(Frozen):
    """What a provider can do, so the core refuses impossible requests before queueing them."""

    aspects: tuple[AspectRatio, ...]
    negative_prompt: bool
    seed: bool
    max_prompt_chars: int
    # The most images one provider call makes (OpenAI `n`, Horde `params.n`, AUTOMATIC1111
    # `batch_size`, ComfyUI's latent batch); a larger count is made by calls in parallel.
    images_per_request: int = 1
    typical_latency_seconds: float = 15.0
    image_input: bool = False  # image to image: an init image and a strength
    upscaler: str | None = None  # the upscaler's name, None when the provider has none
    describe: bool = False  # can caption an image into prompt suggestions
    inpaint: bool = False  # repaints the area a mask marks, keeping the rest
    outpaint: bool = False  # fills the new area of a padded canvas (zoom out, pan, square)
    edit_by_words: bool = False  # edits a picture by an instruction alone, with no mask
    # Follows reference pictures of a look (IP-Adapter on ComfyUI and AUTOMATIC1111, several
    # input images on the GPT image models); others make the picture from the prompt alone.
    style_references: bool = False
    # Reads English best (Stable Diffusion's text encoders: AUTOMATIC1111, ComfyUI, most AI
    # Horde models): given the prompt translated into English when PROMPT_TRANSLATION is on.
    english_prompts: bool = False
    # Pixel size made for each aspect ratio (what `aspects` lists, in pixels).
    sizes: dict[AspectRatio, tuple[int, int]] = Field(default_factory=dict)

    @property
    def upscale(self) -> bool:
        return self.upscaler is not None


class ProviderRequest(Frozen):
    generation_id: str
    prompt: str
    negative_prompt: str = ""
    aspect: AspectRatio = "1:1"
    seed: int = 0
    hints: Mapping[str, HintValue] = Field(default_factory=dict)
    # Only true when the scope's admins allowed NSFW output and the chat may show it.
    nsfw: bool = False
    count: int = Field(default=1, ge=1, le=MAX_COUNT)
    # Image to image: a checked, metadata-free picture (bot.core.images.pixels.load_input) and how
    # far the result may move from it (0 keeps it, 1 ignores it).
    init_image: bytes | None = None
    strength: float = Field(default=DEFAULT_STRENGTH, ge=0.0, le=1.0)
    # An edit of `init_image`: "inpaint" and "outpaint" change only where `mask` is white
    # (`bot.core.generation.canvases`: one bit a pixel, init_image's size); "words" follows the prompt as
    # an instruction.
    edit: EditMode = ""
    mask: bytes | None = None
    # Checked pictures of the look to follow; only a provider that declares
    # `style_references` gets them (the others are given none).
    style_references: tuple[bytes, ...] = ()


class UpscaleRequest(Frozen):
    generation_id: str
    image: bytes
    factor: int = Field(default=4, ge=2, le=4)


class DescribeRequest(Frozen):
    generation_id: str
    image: bytes
    max_suggestions: int = Field(default=4, ge=1, le=4)


class ProviderImage(Frozen):
    data: bytes
    model: str
    seed: int | None = None
    revised_prompt: str | None = None
    censored: bool = False
    width: int | None = None
    height: int | None = None


class Description(Frozen):
    """Prompt suggestions for an image, best first."""

    suggestions: tuple[str, ...]
    model: str


class ProviderCheck(Frozen):
    provider: str
    ok: bool
    detail: str


class ImageProvider(Protocol):
    id: str

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def model(self) -> str: ...

    async def generate(
        self, request: ProviderRequest, progress: ProgressCallback
    ) -> ProviderImage: ...

    async def check(self) -> ProviderCheck: ...

    async def aclose(self) -> None: ...


class ImageOperations(ImageProvider, Protocol):
    """What the providers built on `ProviderBase` offer beyond one text-to-image picture."""

    async def generate_batch(
        self, request: ProviderRequest, progress: ProgressCallback
    ) -> list[ProviderImage]: ...

    async def upscale(
        self, request: UpscaleRequest, progress: ProgressCallback
    ) -> ProviderImage: ...

    async def describe(self, request: DescribeRequest) -> Description: ...
