"""One builder of a generation's job: what a restart enqueues again for a row (`job_for`) is
exactly what the first enqueue sent, for every kind of request, edits included."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from PIL import Image

from bot.core.generation.providers.base import Capabilities
from bot.core.messages import VARIANT_VERSION, JobMessage
from bot.core.models import (
    EditRequest,
    ImagineCommand,
    Kind,
    ReplyTarget,
    Requester,
    Scope,
    StoredImage,
    Ticket,
)
from bot.core.requests.service import GenerationService
from bot.core.requests.style_recipes import StyleDraft
from tests.support.service import build_service

ALICE = Requester(platform="discord", user_id="1", display_name="alice")
GUILD = Scope(platform="discord", id="100")
# An age-restricted channel, so the scope's NSFW setting reaches the job too.
TARGET = ReplyTarget(platform="discord", chat_id="300", nsfw_ok=True)
EVERYTHING = Capabilities(
    aspects=("1:1", "3:2", "2:3"),
    negative_prompt=True,
    seed=True,
    max_prompt_chars=2000,
    images_per_request=4,
    image_input=True,
    upscaler="R-ESRGAN 4x+",
    describe=True,
    inpaint=True,
    outpaint=True,
    edit_by_words=True,
)


def picture(size: tuple[int, int] = (96, 64), colour: str = "navy") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def a_mask(size: tuple[int, int] = (96, 64)) -> bytes:
    """White (change) on the left half, black (keep) on the right."""
    mask = Image.new("L", size, 0)
    mask.paste(255, (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


class Built:
    """The service, and every job its queue was handed at a first enqueue."""

    def __init__(self, service: GenerationService) -> None:
        self.service = service
        self.first: dict[str, JobMessage] = {}
        enqueue = service.queue.enqueue_ranked

        async def recording(job: JobMessage) -> tuple[bool, int]:
            self.first[job.generation_id] = job
            return await enqueue(job)

        service.queue.enqueue_ranked = recording  # type: ignore[method-assign]

    async def finished(self, ticket: Ticket, *, suggestions: tuple[str, ...] = ()) -> str:
        """The request's row as delivery leaves it: its pictures stored, the row done."""
        gen_id = ticket.generation_id
        service = self.service
        images = []
        if not suggestions:
            for index in range(1, 3):
                path, width, height = service.files.write(gen_id, picture(), part=str(index))
                images.append(StoredImage(index=index, path=str(path), width=width, height=height))
        await service.store.record_images(gen_id, images, suggestions=suggestions)
        await service.store.mark_done(
            gen_id,
            provider="sdwebui",
            model="m",
            image_path=images[0].path if images else None,
            width=None,
            height=None,
            revised_prompt=None,
            provider_calls=1,
            seed=None,
        )
        await service.settled(gen_id)
        return gen_id

    async def resumed(self, ticket: Ticket) -> JobMessage:
        return await self.service.job_for(await self.service.generation(ticket.generation_id))


@pytest.fixture
async def built(tmp_path: Path) -> AsyncIterator[Built]:
    service = await build_service(
        tmp_path, capabilities={"sdwebui": EVERYTHING}, default_style="photo"
    )
    await service.set_scope_nsfw(GUILD, True)
    yield Built(service)
    await service.store.close()


async def a_grid(b: Built) -> str:
    command = ImagineCommand(prompt="a lighthouse", negative_prompt="fog", count=2, style="anime")
    return await b.finished(await b.service.imagine(ALICE, GUILD, TARGET, command))


def request(kind: str) -> Callable[[Built], Awaitable[Ticket]]:
    async def make(b: Built) -> Ticket:
        s = b.service
        if kind == "imagine":
            return await s.imagine(
                ALICE, GUILD, TARGET, ImagineCommand(prompt="a cat", aspect="3:2", seed=7)
            )
        if kind == "describe":
            return await s.describe(picture(), ALICE, GUILD, TARGET)
        if kind == "suggestion":
            described = await s.describe(picture(), ALICE, GUILD, TARGET)
            gen_id = await b.finished(described, suggestions=("a red barn", "a blue sea"))
            return await s.imagine_suggestion(gen_id, 2, ALICE, GUILD, TARGET)
        parent = await a_grid(b)
        if kind in ("reroll", "restyle"):
            style = "photo" if kind == "restyle" else None
            prepared = await s.prepare_variation(parent, ALICE, GUILD, style=style)
            return await s.submit(prepared, TARGET)
        if kind == "upscale":
            return await s.upscale(parent, 2, ALICE, GUILD, TARGET)
        if kind == "vary":
            return await s.vary(parent, 1, ALICE, GUILD, TARGET)
        if kind == "remix":
            remix = await s.prepare_remix(parent, "a lighthouse at noon", None, ALICE, GUILD)
            return await s.submit(remix, TARGET)
        if kind == "region":
            edit = EditRequest(action="region")
            return await s.edit(
                parent, 1, edit, ALICE, GUILD, TARGET, mask=a_mask(), prompt="a boat"
            )
        if kind == "words":
            edit = EditRequest(action="words")
            return await s.edit(parent, 1, edit, ALICE, GUILD, TARGET, prompt="make it night")
        edits = {
            "zoom": EditRequest(action="zoom", factor=2.0),
            "pan": EditRequest(action="pan", direction="left"),
            "square": EditRequest(action="square"),
        }
        return await s.edit(parent, 2, edits[kind], ALICE, GUILD, TARGET)

    return make


KINDS = {
    "imagine": Kind.IMAGINE,
    "describe": Kind.DESCRIBE,
    "suggestion": Kind.IMAGINE,
    "reroll": Kind.REROLL,
    "restyle": Kind.RESTYLE,
    "upscale": Kind.UPSCALE,
    "vary": Kind.VARY,
    "remix": Kind.REMIX,
    "region": Kind.EDIT,
    "words": Kind.EDIT,
    "zoom": Kind.ZOOM,
    "pan": Kind.PAN,
    "square": Kind.SQUARE,
}


@pytest.mark.parametrize("kind", KINDS)
async def test_a_resumed_job_equals_the_first_one(built: Built, kind: str) -> None:
    ticket = await request(kind)(built)
    row = await built.service.generation(ticket.generation_id)
    assert row.kind is KINDS[kind]
    first = built.first[ticket.generation_id]
    assert first.nsfw is True and first.providers == ("sdwebui",)  # the job is a real one
    assert await built.resumed(ticket) == first


async def test_a_resumed_job_keeps_its_community_styles_reference_pictures(
    built: Built,
) -> None:
    """A community style's pictures are the request's style references, stored beside it:
    the job after a restart carries the same pictures, even when the style has changed its
    pictures in between."""
    s = built.service
    draft = StyleDraft(name="Harbour Ink", template="{prompt}, ink wash")
    await s.community.create(GUILD, ALICE, draft, [picture(colour="teal")])
    ticket = await s.imagine(
        ALICE, GUILD, TARGET, ImagineCommand(prompt="a boat", style="Harbour Ink")
    )
    first = built.first[ticket.generation_id]
    assert len(first.style_references) == 1 and first.v == VARIANT_VERSION
    stored = s.files.references(ticket.generation_id)
    assert [p.name for p in stored] == [f"{ticket.generation_id}-ref1.png"]
    await s.community.edit(GUILD, "harbour-ink", {}, [picture(colour="red"), picture()])
    resumed = await built.resumed(ticket)
    assert resumed == first
    assert resumed.style_references == (stored[0].read_bytes(),)
