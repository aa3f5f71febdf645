"""Edits through the real pipeline: the bot's service and delivery, real Redis, a worker and a
fake AUTOMATIC1111 server that records what it received.

An edit is rebuilt from its row after a restart as the same job (the canvas and mask from
their files, the same operation); its Info says what was done; only the requester, in the
chat of the picture, may edit it; forget-me and retention take its mask with its other files."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from PIL import Image

from bot.bootstrap import BotApp
from bot.core.errors import WrongScope
from bot.core.generation.canvases import for_white, padded
from bot.core.models import EditRequest, ImagineCommand, Kind
from tests.fakes.sdwebui_api import FakeSDWebUI
from tests.support import RedisServer
from tests.support.channels import RecordingChannel
from tests.support.cli_pipeline import ALICE, ELSEWHERE, HERE, TARGET, settings_for

pytestmark = pytest.mark.e2e


async def delivered(app: BotApp, generation_id: str) -> None:
    for _ in range(200):  # the row says `delivered` right after the channel has the picture
        if (await app.service.generation(generation_id)).status.value == "delivered":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{generation_id} was not marked delivered")


async def test_an_edit_is_rebuilt_from_its_row_as_the_same_job(
    tmp_path: Path, sd_app: tuple[BotApp, RecordingChannel], sdwebui: tuple[FakeSDWebUI, str]
) -> None:
    app, channel = sd_app
    fake, _url = sdwebui
    service = app.service
    ticket = await service.imagine(ALICE, HERE, TARGET, ImagineCommand(prompt="a field"))
    await channel.result(ticket.generation_id)
    pan = EditRequest(action="pan", direction="right")
    edit = await service.edit(ticket.generation_id, 1, pan, ALICE, HERE, TARGET)
    panned, _picture = await channel.result(edit.generation_id)
    assert panned.kind is Kind.PAN and panned.parent_id == ticket.generation_id
    assert panned.aspect == "3:2"

    # What a restart enqueues again for this row: built from the row and its files only.
    rebuilt = await service.job_for(await service.generation(edit.generation_id))
    assert rebuilt.operation == "outpaint" and rebuilt.v == 3 and rebuilt.mask is not None
    # The picture itself, which the worker pads to the canvas the provider got.
    assert rebuilt.init_image == (tmp_path / "images" / f"{ticket.generation_id}.png").read_bytes()
    assert rebuilt.init_image is not None
    assert padded(rebuilt.init_image, rebuilt.mask) == fake.init_images[-1]
    with Image.open(io.BytesIO(fake.init_images[-1])) as canvas:
        assert for_white(rebuilt.mask, canvas.size) == fake.masks[-1]
    assert rebuilt.prompt == fake.bodies[-1]["prompt"] and rebuilt.strength == 1.0

    info = await service.info(edit.generation_id, ALICE, HERE)
    assert info.kind is Kind.PAN and info.parent_index == 1
    assert info.edit_note is not None and info.edit_note.startswith("panned right: the picture")


async def test_only_the_requester_in_that_chat_edits_and_forget_me_takes_the_mask(
    tmp_path: Path, sd_app: tuple[BotApp, RecordingChannel], sdwebui: tuple[FakeSDWebUI, str]
) -> None:
    app, channel = sd_app
    fake, _url = sdwebui
    service = app.service
    ticket = await service.imagine(ALICE, HERE, TARGET, ImagineCommand(prompt="a barn"))
    await channel.result(ticket.generation_id)
    square = EditRequest(action="zoom", factor=1.5)
    with pytest.raises(WrongScope):
        await service.edit(ticket.generation_id, 1, square, ALICE, ELSEWHERE, TARGET)
    assert fake.masks == []

    edit = await service.edit(ticket.generation_id, 1, square, ALICE, HERE, TARGET)
    await channel.result(edit.generation_id)
    await delivered(app, edit.generation_id)
    names = {p.name for p in (tmp_path / "images").iterdir()}
    assert {f"{edit.generation_id}-mask.png", f"{edit.generation_id}-input.png"} <= names
    assert await service.forget_user(ALICE) == 3  # the paths of both rows: picture, edit, canvas
    assert list((tmp_path / "images").iterdir()) == []


async def test_retention_takes_an_edits_mask_with_its_other_files(
    tmp_path: Path, sd_app: tuple[BotApp, RecordingChannel]
) -> None:
    app, channel = sd_app
    ticket = await app.service.imagine(ALICE, HERE, TARGET, ImagineCommand(prompt="a pond"))
    made, _picture = await channel.result(ticket.generation_id)
    region = Image.new("L", (made.image_width or 0, made.image_height or 0), 0)
    region.paste(255, (0, 0, 200, 200))
    mask = io.BytesIO()
    region.save(mask, format="PNG")
    edit = await app.service.edit(
        ticket.generation_id,
        1,
        EditRequest(action="region"),
        ALICE,
        HERE,
        TARGET,
        mask=mask.getvalue(),
        prompt="a duck",
    )
    await channel.result(edit.generation_id)
    await delivered(app, ticket.generation_id)
    await delivered(app, edit.generation_id)
    assert (tmp_path / "images" / f"{edit.generation_id}-mask.png").is_file()
    app.housekeeping._clock = lambda: made.created_at + 91 * 86400
    await app.housekeeping.purge_history()
    assert list((tmp_path / "images").iterdir()) == []


async def test_an_edit_queued_when_redis_lost_everything_is_made_after_a_restart(
    tmp_path: Path, redis_server: RedisServer, sdwebui: tuple[FakeSDWebUI, str]
) -> None:
    """The resume path: the row and its files are the record. Redis forgets the queued edit;
    the next start enqueues it again from the row, and the provider gets the same canvas and
    mask as the first run would have sent."""
    fake, url = sdwebui
    settings = settings_for(tmp_path, redis_server, image_providers="sdwebui", sdwebui_url=url)

    async def started(*, resume: bool, worker: bool) -> tuple[BotApp, RecordingChannel]:
        app = await BotApp.create(settings)
        channel = RecordingChannel("cli")
        app.register(channel)
        await app.start(resume=resume, worker=worker, serve_health=False)
        return app, channel

    first, channel = await started(resume=False, worker=True)
    try:
        ticket = await first.service.imagine(ALICE, HERE, TARGET, ImagineCommand(prompt="a bay"))
        await channel.result(ticket.generation_id)
        await delivered(first, ticket.generation_id)
    finally:
        await first.close()
    queuing, _channel = await started(resume=False, worker=False)
    try:
        zoom = EditRequest(action="zoom", factor=2)
        edit = await queuing.service.edit(ticket.generation_id, 1, zoom, ALICE, HERE, TARGET)
        assert (await queuing.service.generation(edit.generation_id)).status.value == "queued"
        await queuing.service.queue.redis.flushall()  # Redis restarted with nothing
    finally:
        await queuing.close()
    assert fake.masks == []

    again, channel = await started(resume=True, worker=True)
    try:
        zoomed, _picture = await channel.result(edit.generation_id)
    finally:
        await again.close()
    assert zoomed.kind is Kind.ZOOM and zoomed.edit_note is not None
    ((canvas, mask),) = [(c, m) for c, m in zip(fake.init_images, fake.masks, strict=True)]
    with Image.open(io.BytesIO(canvas)) as sent, Image.open(io.BytesIO(mask)) as marked:
        assert sent.size == marked.size == (2048, 2048)
        assert marked.convert("L").getpixel((5, 5)) == 255
        assert marked.convert("L").getpixel((1024, 1024)) == 0
