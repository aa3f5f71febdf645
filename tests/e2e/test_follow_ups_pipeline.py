"""After the first picture, through the real pipeline: the bot's service and delivery, real
Redis, a worker and fake providers over HTTP that record what they received.

A grid of four is stored as four originals (byte for byte what the provider sent) and one
grid; V2 sends image 2 to the provider and makes a new grid; U3 sends image 3 to the
upscaler, or hands back the original when the chain has none; a describe shows the
picture's own parameters first; a button from another chat does nothing."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from bot.bootstrap import BotApp
from bot.core.errors import WrongScope
from bot.core.models import (
    ImagineCommand,
    Kind,
)
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.sdwebui_api import FakeSDWebUI
from tests.support import RedisServer
from tests.support.channels import RecordingChannel
from tests.support.cli_pipeline import ALICE, ELSEWHERE, HERE, TARGET, settings_for

pytestmark = pytest.mark.e2e


def image_rows(tmp_path: Path, generation_id: str) -> list[sqlite3.Row]:
    db = sqlite3.connect(tmp_path / "imaginebot.sqlite3")
    db.row_factory = sqlite3.Row
    try:
        return list(
            db.execute(
                "SELECT * FROM generation_images WHERE generation_id = ? ORDER BY idx",
                (generation_id,),
            )
        )
    finally:
        db.close()


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as picture:
        return picture.size


async def test_a_grid_of_four_then_v2_then_u3(
    tmp_path: Path, sd_app: tuple[BotApp, RecordingChannel], sdwebui: tuple[FakeSDWebUI, str]
) -> None:
    app, channel = sd_app
    fake, _url = sdwebui
    service = app.service
    ticket = await service.imagine(
        ALICE, HERE, TARGET, ImagineCommand(prompt="a lighthouse at dusk", count=4)
    )
    grid_row, shown = await channel.result(ticket.generation_id)
    # One provider call with batch_size 4; four originals stored byte for byte.
    assert [b["batch_size"] for b in fake.bodies] == [4]
    assert len(fake.images) == 4
    stored = [Path(i.path).read_bytes() for i in grid_row.images]
    assert stored == fake.images
    assert [r["idx"] for r in image_rows(tmp_path, ticket.generation_id)] == [1, 2, 3, 4]
    assert len({i.seed for i in grid_row.images}) == 4
    # What the chat got is the 2x2 grid, not one of the originals.
    assert shown[:3] == b"\xff\xd8\xff" and shown not in fake.images
    width, height = size_of(shown)
    assert width > 1000 and height > 1000
    assert grid_row.count == 4 and grid_row.image_path == str(
        Path(grid_row.image_path or "").parent / f"{ticket.generation_id}.jpg"
    )

    vary = await service.submit(
        await service.prepare_vary(ticket.generation_id, 2, ALICE, HERE), TARGET
    )
    varied, varied_grid = await channel.result(vary.generation_id)
    # The provider got image 2, and a new grid of the same count came back.
    assert fake.init_images == [fake.images[1]]
    assert fake.bodies[-1]["denoising_strength"] == 0.6
    assert varied.kind is Kind.VARY and varied.parent_id == ticket.generation_id
    assert varied.parent_index == 2 and varied.count == 4 and len(varied.images) == 4
    assert varied_grid != shown and varied_grid[:3] == b"\xff\xd8\xff"

    upscale = await service.submit(
        await service.prepare_upscale(ticket.generation_id, 3, ALICE, HERE), TARGET
    )
    upscaled, upscaled_bytes = await channel.result(upscale.generation_id)
    ((sent, body),) = fake.upscaled
    assert sent == stored[2] and body["upscaler_1"]
    assert upscaled.kind is Kind.UPSCALE and upscaled.parent_index == 3
    assert size_of(upscaled_bytes) == (4096, 4096)
    # Its buttons, as the adapter got them: vary, remix, info and delete, no U1-U4 of its own.
    assert upscaled.follow_ups == service.follow_ups(upscaled)
    assert grid_row.follow_ups.upscale and grid_row.follow_ups.vary
    buttons = upscaled.follow_ups
    assert (buttons.upscale, buttons.vary, buttons.remix, buttons.info, buttons.delete) == (
        False,
        True,
        True,
        True,
        True,
    )
    assert service.follow_ups(grid_row).upscaler == "R-ESRGAN 4x+"

    info = await service.info(ticket.generation_id, ALICE, HERE)
    assert info.seeds == tuple(i.seed for i in grid_row.images)
    assert info.provider == "sdwebui" and info.sizes == ((1024, 1024),) * 4

    with pytest.raises(WrongScope):
        await service.submit(
            await service.prepare_upscale(ticket.generation_id, 1, ALICE, ELSEWHERE), TARGET
        )
    assert len(fake.upscaled) == 1


async def test_describe_shows_the_pictures_own_parameters_first(
    sd_app: tuple[BotApp, RecordingChannel], sdwebui: tuple[FakeSDWebUI, str]
) -> None:
    app, channel = sd_app
    fake, _url = sdwebui
    picture = Image.new("RGB", (64, 48), (10, 120, 200))
    text = PngImagePlugin.PngInfo()
    text.add_text("parameters", "a blue square, flat colour\nSteps: 20, Seed: 7")
    out = io.BytesIO()
    picture.save(out, format="PNG", pnginfo=text)
    describe = await app.service.prepare_describe(out.getvalue(), ALICE, HERE)
    ticket = await app.service.submit(describe, TARGET)
    described, _shown = await channel.result(ticket.generation_id)
    assert described.suggestions == ("a blue square, flat colour", fake.caption)
    # The describer got the picture without its text chunk, pixels unchanged.
    ((sent, _model),) = fake.interrogated
    assert b"parameters" not in sent
    with Image.open(io.BytesIO(sent)) as received:
        assert received.convert("RGB").tobytes() == picture.tobytes()
    assert described.follow_ups.imagine_suggestions
    follow = await app.service.submit(
        await app.service.prepare_suggestion(ticket.generation_id, 2, ALICE, HERE), TARGET
    )
    made, _grid = await channel.result(follow.generation_id)
    assert made.prompt == fake.caption and made.parent_id == ticket.generation_id


async def test_u_without_an_upscaler_hands_back_the_original(
    tmp_path: Path, redis_server: RedisServer, fake_openai: FakeOpenAI
) -> None:
    settings = settings_for(
        tmp_path,
        redis_server,
        openai_api_key=fake_openai.api_key,
        openai_base_url=f"{fake_openai.base_url}/v1",
    )
    app = await BotApp.create(settings)
    channel = RecordingChannel("cli")
    app.register(channel)
    await app.start(resume=False, worker=True, serve_health=False)
    try:
        ticket = await app.service.imagine(
            ALICE, HERE, TARGET, ImagineCommand(prompt="a red kite", count=2)
        )
        first, _grid = await channel.result(ticket.generation_id)
        assert [Path(i.path).read_bytes() for i in first.images] == fake_openai.images
        calls = len(fake_openai.calls)
        upscale = await app.service.submit(
            await app.service.prepare_upscale(ticket.generation_id, 2, ALICE, HERE), TARGET
        )
        upscaled, original = await channel.result(upscale.generation_id)
        assert original == fake_openai.images[1]
        assert len(fake_openai.calls) == calls  # no provider was asked
        assert upscaled.provider == "original"
    finally:
        await app.close()


async def test_a_restart_between_the_grid_and_the_click_still_works(
    tmp_path: Path, redis_server: RedisServer, sdwebui: tuple[FakeSDWebUI, str]
) -> None:
    fake, url = sdwebui
    settings = settings_for(tmp_path, redis_server, image_providers="sdwebui", sdwebui_url=url)
    app = await BotApp.create(settings)
    channel = RecordingChannel("cli")
    app.register(channel)
    await app.start(resume=False, worker=True, serve_health=False)
    try:
        ticket = await app.service.imagine(
            ALICE, HERE, TARGET, ImagineCommand(prompt="a harbour", count=2)
        )
        await channel.result(ticket.generation_id)
    finally:
        await app.close()
    again = await BotApp.create(settings)
    channel = RecordingChannel("cli")
    again.register(channel)
    await again.start(resume=True, worker=True, serve_health=False)
    try:
        vary = await again.service.submit(
            await again.service.prepare_vary(ticket.generation_id, 1, ALICE, HERE), TARGET
        )
        varied, _grid = await channel.result(vary.generation_id)
        assert fake.init_images == [fake.images[0]] and len(varied.images) == 2
    finally:
        await again.close()


async def test_retention_removes_every_file_of_a_grid_and_its_input(
    tmp_path: Path, sd_app: tuple[BotApp, RecordingChannel]
) -> None:
    app, channel = sd_app
    photo = io.BytesIO()
    Image.new("RGB", (64, 64), (90, 90, 20)).save(photo, format="JPEG")
    ticket = await app.service.imagine(
        ALICE, HERE, TARGET, ImagineCommand(prompt="a field", count=3, image=photo.getvalue())
    )
    made, _grid = await channel.result(ticket.generation_id)
    files = sorted(p.name for p in (tmp_path / "images").iterdir())
    gen = ticket.generation_id
    assert files == sorted(
        [f"{gen}.jpg", f"{gen}-1.png", f"{gen}-2.png", f"{gen}-3.png", f"{gen}-input.jpg"]
    )
    assert made.input_path == str(tmp_path / "images" / f"{gen}-input.jpg")
    for _ in range(100):  # the row becomes `delivered` right after the channel returns
        if (await app.service.generation(gen)).status.value == "delivered":
            break
        await asyncio.sleep(0.05)
    # The daily purge, run as if HISTORY_RETENTION_DAYS (90) had passed.
    app.housekeeping._clock = lambda: made.created_at + 91 * 86400
    assert await app.housekeeping.purge_history() == 2  # the grid and the input picture
    assert list((tmp_path / "images").iterdir()) == []
