"""What every image provider declares and returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from pydantic import Field

from bot.core.models import AspectRatio, Frozen, StatusUpdate

HintValue = str | int | float | bool
ProgressCallback = Callable[[StatusUpdate], Awaitable[None]]


class Capabilities(Frozen):
    """What a provider can do, so the core refuses impossible requests before queueing them."""

    aspects: tuple[AspectRatio, ...]
    negative_prompt: bool
    seed: bool
    max_prompt_chars: int
    images_per_request: int = 1
    typical_latency_seconds: float = 15.0


class ProviderRequest(Frozen):
    generation_id: str
    prompt: str
    negative_prompt: str = ""
    aspect: AspectRatio = "1:1"
    seed: int = 0
    hints: Mapping[str, HintValue] = Field(default_factory=dict)
    # Only true when the scope's admins allowed NSFW output and the chat may show it.
    nsfw: bool = False


class ProviderImage(Frozen):
    data: bytes
    model: str
    seed: int | None = None
    revised_prompt: str | None = None
    censored: bool = False


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
