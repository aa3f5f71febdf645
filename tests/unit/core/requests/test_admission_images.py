"""Admission of counts and pictures: the cap per scope, each image against the daily
limits, the chain's capabilities, and pictures users send (refused in plain words with
nothing queued, or cleaned before they are stored and queued). Real SQLite, the in-process
Redis stand-in."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest
from PIL import Image

from bot.core.errors import (
    BadInputImage,
    ContentRefused,
    CountTooHigh,
    LimitReached,
    NoCapableProvider,
)
from bot.core.generation.providers.base import Capabilities
from bot.core.generation.queue import unpack
from bot.core.limits.safety import OpenAIModerator
from bot.core.messages import job_from_wire
from bot.core.models import ImagineCommand, Kind, ReplyTarget, Requester, Scope
from bot.core.requests.service import GenerationService
from tests.fakes.openai_images import FakeOpenAI
from tests.support.service import build_service

ALICE = Requester(platform="telegram", user_id="1", display_name="alice")
GROUP = Scope(platform="telegram", id="-100")
TARGET = ReplyTarget(platform="telegram", chat_id="-100", nsfw_ok=False)
TEXT_ONLY = Capabilities(aspects=("1:1",), negative_prompt=True, seed=True, max_prompt_chars=1000)
IMAGE_IN = TEXT_ONLY.model_copy(update={"image_input": True, "images_per_request": 4})


async def make_service(
    tmp_path: Path,
    capabilities: Mapping[str, Capabilities],
    moderator: OpenAIModerator | None = None,
    **overrides: object,
) -> GenerationService:
    return await build_service(
        tmp_path,
        capabilities=capabilities,
        moderator=moderator,
        daily_limit_per_user=6,
        max_pending_per_user=10,
        **overrides,
    )


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[GenerationService]:
    service = await make_service(tmp_path, {"sdwebui": IMAGE_IN})
    yield service
    await service.store.close()


@pytest.fixture
async def text_only(tmp_path: Path) -> AsyncIterator[GenerationService]:
    service = await make_service(tmp_path, {"openai": TEXT_ONLY})
    yield service
    await service.store.close()


async def nothing_queued(service: GenerationService, tmp_path: Path) -> None:
    assert await service.store.count_by_status() == {}
    assert await service.queue.redis.keys("arq:job:*") == []
    assert list((tmp_path / "images").iterdir()) == []


def png(width: int, height: int, colour: tuple[int, int, int] = (200, 30, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A PNG that says it is width x height pixels, in a few hundred bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


async def test_a_count_above_the_scope_cap_is_refused(
    service: GenerationService, tmp_path: Path
) -> None:
    assert await service.max_count(GROUP) == 4
    await service.set_scope_max_count(GROUP, 2)
    with pytest.raises(CountTooHigh, match="You asked for 3 pictures; 2 is the most"):
        await service.imagine(ALICE, GROUP, TARGET, ImagineCommand(prompt="a cat", count=3))
    await nothing_queued(service, tmp_path)
    ticket = await service.imagine(ALICE, GROUP, TARGET, ImagineCommand(prompt="a cat", count=2))
    payload = unpack(await service.queue.redis.get(f"arq:job:{ticket.generation_id}"))["a"][0]
    assert job_from_wire(payload).count == 2
    (row,) = await service.history(ALICE)
    assert row.count == 2


async def test_each_image_counts_against_the_daily_limit(service: GenerationService) -> None:
    # The limit is 6 pictures: a request for four, then one for two, then nothing more.
    await service.imagine(ALICE, GROUP, TARGET, ImagineCommand(prompt="a cat", count=4))
    with pytest.raises(LimitReached, match="asks for 4 pictures, but you have only 2 of your 6"):
        await service.prepare(ALICE, GROUP, ImagineCommand(prompt="a dog", count=4))
    await service.imagine(ALICE, GROUP, TARGET, ImagineCommand(prompt="a dog", count=2))
    with pytest.raises(LimitReached, match="You have used your 6 pictures for today"):
        await service.prepare(ALICE, GROUP, ImagineCommand(prompt="a cow"))


async def test_per_image_counts_survive_a_restart(tmp_path: Path) -> None:
    first = await make_service(tmp_path, {"sdwebui": IMAGE_IN})
    await first.imagine(ALICE, GROUP, TARGET, ImagineCommand(prompt="a cat", count=4))
    await first.store.close()
    again = await make_service(tmp_path, {"sdwebui": IMAGE_IN})
    try:
        await again.load_quotas()
        assert await again.quotas.used_today("telegram", "1") == 4
    finally:
        await again.store.close()


async def test_a_picture_on_a_chain_that_takes_none_is_refused_before_queueing(
    text_only: GenerationService, tmp_path: Path
) -> None:
    command = ImagineCommand(prompt="make it blue", image=png(64, 64))
    with pytest.raises(NoCapableProvider, match=r"\(openai\) can start from a picture"):
        await text_only.imagine(ALICE, GROUP, TARGET, command)
    await nothing_queued(text_only, tmp_path)
    assert await text_only.quotas.used_today("telegram", "1") == 0
    (refusal,) = await text_only.recent_refusals(GROUP)
    assert refusal.code == "no_capable_provider"


@pytest.mark.parametrize(
    ("data", "answer"),
    [
        (b"\xff" * 12_000_000, "That picture is 12 MB; the most this bot takes is 10 MB"),
        (bomb_png(20000, 20000), "more than the 16,000,000 pixels this bot takes"),
        (b"just some text, in a file named cat.png\n" * 40, "not a picture the bot can read"),
    ],
    ids=["12 MB upload", "20000x20000 PNG of a few KB", "text file named .png"],
)
async def test_bad_pictures_get_a_plain_answer_and_queue_nothing(
    service: GenerationService, tmp_path: Path, data: bytes, answer: str
) -> None:
    with pytest.raises(BadInputImage, match=answer):
        await service.imagine(
            ALICE, GROUP, TARGET, ImagineCommand(prompt="make it blue", image=data)
        )
    await nothing_queued(service, tmp_path)
    assert await service.quotas.used_today("telegram", "1") == 0


async def test_an_animated_gif_is_taken_as_its_first_frame(
    service: GenerationService, tmp_path: Path
) -> None:
    frames = [Image.new("RGB", (40, 30), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    ticket = await service.imagine(
        ALICE, GROUP, TARGET, ImagineCommand(prompt="make it blue", image=out.getvalue())
    )
    payload = unpack(await service.queue.redis.get(f"arq:job:{ticket.generation_id}"))["a"][0]
    job = job_from_wire(payload)
    assert job.init_image is not None and job.strength == 0.6
    with Image.open(io.BytesIO(job.init_image)) as sent:
        assert sent.format == "PNG" and not getattr(sent, "is_animated", False)
        assert sent.convert("RGB").getpixel((5, 5)) == (255, 0, 0)
    row = await service.generation(ticket.generation_id)
    assert row.input_path is not None and Path(row.input_path).read_bytes() == job.init_image


async def test_exif_is_gone_from_the_stored_and_queued_picture(
    service: GenerationService,
) -> None:
    picture = Image.new("RGB", (80, 60), (20, 40, 60))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 51.0, 30.0)  # where the photo was taken
    out = io.BytesIO()
    picture.save(out, format="JPEG", exif=exif.tobytes(), quality=95)
    sent = out.getvalue()
    assert b"PhoneMaker" in sent
    ticket = await service.imagine(
        ALICE, GROUP, TARGET, ImagineCommand(prompt="a sky", image=sent, strength=0.3)
    )
    payload = unpack(await service.queue.redis.get(f"arq:job:{ticket.generation_id}"))["a"][0]
    job = job_from_wire(payload)
    assert job.init_image is not None and b"PhoneMaker" not in job.init_image
    with Image.open(io.BytesIO(job.init_image)) as cleaned:
        assert not cleaned.getexif() and cleaned.size == (80, 60)
    row = await service.generation(ticket.generation_id)
    assert row.strength == 0.3 and row.kind is Kind.IMAGINE
    assert b"PhoneMaker" not in Path(row.input_path or "").read_bytes()


async def test_forget_me_removes_every_file_of_a_request(
    service: GenerationService, tmp_path: Path
) -> None:
    ticket = await service.imagine(
        ALICE, GROUP, TARGET, ImagineCommand(prompt="a sky", image=png(32, 32))
    )
    # As delivery leaves it: the images and the grid beside the input picture.
    gen = ticket.generation_id
    for name in (f"{gen}-1.png", f"{gen}-2.png", f"{gen}.jpg"):
        (tmp_path / "images" / name).write_bytes(b"x")
    (tmp_path / "images" / "0123456789abcdef.png").write_bytes(b"someone else's")
    assert await service.forget_user(ALICE) == 1
    assert [p.name for p in (tmp_path / "images").iterdir()] == ["0123456789abcdef.png"]


async def test_input_pictures_are_moderated_when_openai_moderation_is_on(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    moderator = OpenAIModerator(
        api_key=fake_openai.api_key, base_url=f"{fake_openai.base_url}/v1", timeout=10
    )
    service = await make_service(tmp_path, {"sdwebui": IMAGE_IN}, moderator)
    try:
        flagged = png(48, 48, colour=(255, 0, 255))
        with pytest.raises(ContentRefused, match="flagged this picture, so it was not queued"):
            await service.imagine(
                ALICE, GROUP, TARGET, ImagineCommand(prompt="a portrait", image=flagged)
            )
        await nothing_queued(service, tmp_path)
        # The moderation endpoint got the cleaned picture itself, beside the prompt's check.
        assert fake_openai.moderation_inputs == ["a portrait"]
        assert len(fake_openai.moderation_images) == 1
        with Image.open(io.BytesIO(fake_openai.moderation_images[0])) as checked:
            assert checked.size == (48, 48)
        fine = png(48, 48, colour=(10, 200, 10))
        await service.imagine(ALICE, GROUP, TARGET, ImagineCommand(prompt="a portrait", image=fine))
        assert len(fake_openai.moderation_images) == 2
        assert await service.store.count_by_status() == {"queued": 1}
    finally:
        await moderator.aclose()
        await service.store.close()
