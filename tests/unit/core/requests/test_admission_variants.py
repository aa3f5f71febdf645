"""Admission of compare, permutations and style references: refused in plain words with
nothing queued, or written as one row whose job has a tile per style or choice (rebuilt the
same after a restart) and carries the cleaned reference pictures. Real SQLite, the
in-process Redis stand-in."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from bot.core.errors import (
    BadInputImage,
    ContentRefused,
    CountTooHigh,
    LimitReached,
    PromptSyntaxError,
    StyleNotAllowed,
    TooManyVariants,
    UnknownStyle,
)
from bot.core.generation.providers.base import Capabilities
from bot.core.generation.queue import unpack
from bot.core.limits.safety import BannedTerms
from bot.core.messages import VARIANT_VERSION, JobMessage, job_from_wire
from bot.core.models import ImagineCommand, Kind, ReplyTarget, Requester, Scope
from bot.core.requests.service import GenerationService
from tests.fakes.openai_images import make_png
from tests.support.service import build_service

ALICE = Requester(platform="telegram", user_id="1", display_name="alice")
GROUP = Scope(platform="telegram", id="-100")
TARGET = ReplyTarget(platform="telegram", chat_id="-100", nsfw_ok=False)
WORDS_ONLY = Capabilities(aspects=("1:1",), negative_prompt=True, seed=True, max_prompt_chars=999)
FOLLOWS = WORDS_ONLY.model_copy(update={"style_references": True, "image_input": True})


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[GenerationService]:
    service = await build_service(
        tmp_path,
        capabilities={"horde": WORDS_ONLY, "openai": FOLLOWS},
        daily_limit_per_user=6,
        max_pending_per_user=10,
    )
    yield service
    await service.store.close()


async def queued_job(service: GenerationService, generation_id: str) -> JobMessage:
    return job_from_wire(unpack(await service.queue.redis.get(f"arq:job:{generation_id}"))["a"][0])


async def nothing_queued(service: GenerationService) -> None:
    assert await service.store.count_by_status() == {}
    assert await service.queue.redis.keys("arq:job:*") == []


async def test_compare_makes_one_tile_per_style_with_the_same_prompt_and_seed(
    service: GenerationService,
) -> None:
    command = ImagineCommand(prompt="a lighthouse", style="anime, pixel-art,photo", seed=9)
    ticket = await service.imagine(ALICE, GROUP, TARGET, command)
    job = await queued_job(service, ticket.generation_id)
    anime, pixel, photo = (service.styles.get(s) for s in ("anime", "pixel-art", "photo"))
    assert job.v == VARIANT_VERSION and job.count == 3 and job.seed == 9
    assert [v.prompt for v in job.variants] == [
        s.render("a lighthouse") for s in (anime, pixel, photo)
    ]
    assert [v.label for v in job.variants] == [anime.name, pixel.name, photo.name]
    assert [v.negative_prompt for v in job.variants] == [s.negative for s in (anime, pixel, photo)]
    (row,) = await service.history(ALICE)
    assert (row.style, row.count, row.kind) == ("anime,pixel-art,photo", 3, Kind.IMAGINE)
    # After a restart the row becomes the same job again.
    assert await service.admission.plans.job_for(row) == job


async def test_permutations_make_one_tile_per_choice(service: GenerationService) -> None:
    command = ImagineCommand(prompt="a {red, blue, golden} fox", style="anime")
    ticket = await service.imagine(ALICE, GROUP, TARGET, command)
    job = await queued_job(service, ticket.generation_id)
    anime = service.styles.get("anime")
    assert [v.prompt for v in job.variants] == [
        anime.render(f"a {colour} fox") for colour in ("red", "blue", "golden")
    ]
    assert [v.label for v in job.variants] == ["red", "blue", "golden"]
    (row,) = await service.history(ALICE)
    assert (row.prompt, row.count) == ("a {red, blue, golden} fox", 3)
    assert await service.admission.plans.job_for(row) == job


async def test_each_tile_counts_against_the_daily_limit(service: GenerationService) -> None:
    await service.imagine(ALICE, GROUP, TARGET, ImagineCommand(prompt="{a, b, c, d} fox"))
    with pytest.raises(LimitReached, match="asks for 3 pictures, but you have only 2"):
        await service.prepare(ALICE, GROUP, ImagineCommand(prompt="x", style="anime,photo,dark"))


async def test_an_escaped_brace_reaches_the_provider_as_a_brace(
    service: GenerationService,
) -> None:
    command = ImagineCommand(prompt=r"a sign saying \{open\}", style="photo")
    ticket = await service.imagine(ALICE, GROUP, TARGET, command)
    job = await queued_job(service, ticket.generation_id)
    assert not job.variants and job.v == 2
    assert "a sign saying {open}" in job.prompt and "\\" not in job.prompt


@pytest.mark.parametrize(
    ("command", "error", "said"),
    [
        (ImagineCommand(prompt="a fox", style="anime,animme"), UnknownStyle, "animme"),
        (ImagineCommand(prompt="a fox", style="a,b,c,d,e"), TooManyVariants, "5 styles"),
        (ImagineCommand(prompt="{a,b,c} {d,e} fox"), TooManyVariants, "6 prompts"),
        (ImagineCommand(prompt="a {red fox"), PromptSyntaxError, "never closed"),
        (
            ImagineCommand(prompt="a {red, blue} fox", style="anime,photo"),
            PromptSyntaxError,
            "not both",
        ),
        (ImagineCommand(prompt="a {red, blue} fox", count=4), CountTooHigh, "leave out the count"),
    ],
)
async def test_what_does_not_make_one_grid_is_refused_plainly(
    service: GenerationService, command: ImagineCommand, error: type[Exception], said: str
) -> None:
    with pytest.raises(error, match=said):
        await service.imagine(ALICE, GROUP, TARGET, command)
    await nothing_queued(service)


async def test_a_style_the_scope_does_not_allow_is_refused_in_a_compare(
    service: GenerationService,
) -> None:
    await service.set_allowed_styles(GROUP, ["anime", "photo"])
    with pytest.raises(StyleNotAllowed, match="not allowed here"):
        await service.imagine(ALICE, GROUP, TARGET, ImagineCommand(prompt="x", style="anime,dark"))
    await nothing_queued(service)


async def test_a_reroll_of_a_compare_compares_again(service: GenerationService) -> None:
    first = await service.imagine(
        ALICE, GROUP, TARGET, ImagineCommand(prompt="a boat", style="anime,photo")
    )
    prepared = await service.prepare_variation(first.generation_id, ALICE, GROUP)
    assert prepared.command.count == 2 and [s.id for s in prepared.styles] == ["anime", "photo"]


def png_with_text() -> bytes:
    image = Image.new("RGB", (120, 80), (10, 200, 30))
    out = io.BytesIO()
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret location")
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


async def test_references_are_cleaned_stored_and_sent_to_the_providers_that_follow_them_first(
    service: GenerationService, tmp_path: Path
) -> None:
    command = ImagineCommand(prompt="a fox", style_references=(png_with_text(),))
    ticket = await service.imagine(ALICE, GROUP, TARGET, command)
    job = await queued_job(service, ticket.generation_id)
    assert job.providers == ("openai", "horde")  # the one that follows them first
    (reference,) = job.style_references
    assert b"secret location" not in reference  # metadata gone, like an input picture
    with Image.open(io.BytesIO(reference)) as picture:
        assert picture.size == (120, 80)
    stored = sorted(p.name for p in (tmp_path / "images").iterdir())
    assert stored == [f"{ticket.generation_id}-ref1.png"]
    (row,) = await service.history(ALICE)
    assert (await service.admission.plans.job_for(row)).style_references == (reference,)


async def test_a_reference_that_is_no_picture_is_refused(service: GenerationService) -> None:
    command = ImagineCommand(prompt="a fox", style_references=(b"not a picture",))
    with pytest.raises(BadInputImage):
        await service.imagine(ALICE, GROUP, TARGET, command)
    await nothing_queued(service)


async def test_info_says_whether_the_references_were_followed(
    service: GenerationService,
) -> None:
    command = ImagineCommand(prompt="a fox", style_references=(make_png(64, 64, "look"),) * 2)
    ticket = await service.imagine(ALICE, GROUP, TARGET, command)
    await service.store.mark_running(ticket.generation_id, "horde")
    info = await service.info(ticket.generation_id, ALICE, GROUP)
    assert info.references_note == (
        "2 style reference pictures given, but horde cannot follow reference pictures: "
        "made from the prompt and style alone."
    )
    await service.store.mark_running(ticket.generation_id, "openai")
    info = await service.info(ticket.generation_id, ALICE, GROUP)
    assert info.references_note == "Followed 2 style reference pictures."


async def test_a_banned_word_put_together_from_choices_is_refused(tmp_path: Path) -> None:
    rules = tmp_path / "banned.txt"
    rules.write_text("dragonfire\n")
    service = await build_service(
        tmp_path, capabilities={"horde": WORDS_ONLY}, banned=BannedTerms.load(rules)
    )
    try:
        with pytest.raises(ContentRefused, match="not allowed"):
            await service.imagine(ALICE, GROUP, TARGET, ImagineCommand(prompt="{dragon, x}fire"))
        await nothing_queued(service)
    finally:
        await service.store.close()


async def test_a_reroll_follows_the_same_references(service: GenerationService) -> None:
    look = make_png(48, 48, "the look")
    command = ImagineCommand(prompt="a fox", style_references=(look,))
    first = await service.imagine(ALICE, GROUP, TARGET, command)
    original = (await queued_job(service, first.generation_id)).style_references
    again = await service.submit(
        await service.prepare_variation(first.generation_id, ALICE, GROUP), TARGET
    )
    assert (await queued_job(service, again.generation_id)).style_references == original
