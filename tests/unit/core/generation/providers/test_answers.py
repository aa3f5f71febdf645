"""Caps on what a provider can hand us: body size in the HTTP client, pixels in the header."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from bot.core.errors import ProviderBadOutput
from bot.core.generation.jobs import checked
from bot.core.generation.operations import Outcome
from bot.core.generation.providers.base import ProviderImage
from bot.core.generation.providers.transport import CappedTransport, ResponseTooLarge
from bot.core.images.pixels import BadImage, inspect, limit_pixels
from tests.fakes.openai_images import bomb_png, make_png


@pytest.fixture
def pillow_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)
    with warnings.catch_warnings():
        limit_pixels(40_000_000)
        yield


def test_pictures_within_the_limit_are_described(pillow_limit: None) -> None:
    info = inspect(make_png(64, 32, "x"))
    assert (info.format, info.width, info.height) == ("PNG", 64, 32)


@pytest.mark.parametrize("size", [(7000, 7000), (12000, 12000), (30000, 30000)])
def test_bombs_are_refused_from_the_header(pillow_limit: None, size: tuple[int, int]) -> None:
    # 49 M pixels (Pillow alone would only warn), 144 M (likewise at Pillow's default), 900 M.
    with pytest.raises(BadImage, match="more than 40,000,000"):
        inspect(bomb_png(*size))


def test_not_a_picture_is_refused(pillow_limit: None) -> None:
    with pytest.raises(BadImage, match="not a PNG, JPEG or WebP"):
        inspect(b"<html>502 Bad Gateway</html>")


def test_the_worker_turns_a_bad_picture_into_a_provider_failure(pillow_limit: None) -> None:
    with pytest.raises(ProviderBadOutput) as caught:
        checked(
            "openai",
            Outcome(model="m", images=(ProviderImage(data=bomb_png(12000, 12000), model="m"),)),
        )
    assert caught.value.user_message == (
        "The image service sent back a picture the bot will not open "
        "(the picture has more than 40,000,000 pixels)."
    )
    assert not caught.value.retryable


def _client(handler: httpx.MockTransport, limit: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=CappedTransport(handler, limit))


async def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-length": "999999999"}, content=b"{}")

    async with _client(httpx.MockTransport(handler), 1000) as client:
        with pytest.raises(ResponseTooLarge, match="999,999,999 bytes"):
            await client.get("http://provider.test/x")


async def test_a_streamed_body_stops_at_the_cap_whatever_the_status() -> None:
    served = []

    async def endless() -> object:
        for _ in range(1000):
            served.append(1)
            yield b"A" * 1000

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, content=endless())  # type: ignore[arg-type]

    async with _client(httpx.MockTransport(handler), 10_000) as client:
        with pytest.raises(ResponseTooLarge, match="over 10,000 bytes"):
            await client.get("http://provider.test/x")
    assert len(served) <= 11
