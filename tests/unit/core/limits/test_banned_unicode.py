"""Banned terms hold against Unicode disguises, through the service's own entry point."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.errors import ContentRefused
from bot.core.generation.queue import unpack
from bot.core.limits.safety import BannedTerms
from bot.core.models import ImagineCommand, ReplyTarget, Requester, Scope
from bot.core.requests.service import GenerationService
from tests.support.service import SQUARE_ONLY, build_service
from tests.support.user_text import DISGUISED_DRAGONS

ALICE = Requester(platform="telegram", user_id="1", display_name="alice")
GROUP = Scope(platform="telegram", id="-100")
TARGET = ReplyTarget(platform="telegram", chat_id="-100", nsfw_ok=False)


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[GenerationService]:
    rules = tmp_path / "banned.txt"
    rules.write_text("dragon\nre:blood\\s*moon\n", encoding="utf-8")
    service = await build_service(
        tmp_path,
        capabilities={"openai": SQUARE_ONLY},
        banned=BannedTerms.load(rules),
        max_pending_per_user=100,
    )
    yield service
    await service.store.close()


@pytest.mark.parametrize("prompt", DISGUISED_DRAGONS.values(), ids=DISGUISED_DRAGONS.keys())
async def test_disguised_banned_word_is_refused_and_nothing_is_queued(
    service: GenerationService, prompt: str
) -> None:
    with pytest.raises(ContentRefused):
        await service.imagine(ALICE, GROUP, TARGET, ImagineCommand(prompt=prompt))
    assert await service.queue.depth() == 0
    assert await service.store.history("telegram", "1", 10) == []
    refusals = await service.recent_refusals(GROUP)
    assert [r.code for r in refusals] == ["content_refused"]


async def test_disguised_negative_prompt_and_regex_rule_are_refused(
    service: GenerationService,
) -> None:
    with pytest.raises(ContentRefused):
        await service.imagine(
            ALICE,
            GROUP,
            TARGET,
            ImagineCommand(prompt="a cat", negative_prompt="ｄｒａｇｏｎs, dr\u0430gon"),
        )
    with pytest.raises(ContentRefused):
        await service.imagine(
            ALICE, GROUP, TARGET, ImagineCommand(prompt="a bl\u043e\u200bod moon")
        )
    assert await service.queue.depth() == 0


async def test_the_job_carries_the_cleaned_text(service: GenerationService) -> None:
    ticket = await service.imagine(
        ALICE,
        GROUP,
        TARGET,
        ImagineCommand(prompt="a \uff52\uff45\uff44 fo\u200bx in s\u00adnow\u2060", style="none"),
    )
    row = await service.store.get(ticket.generation_id)
    assert row is not None and row.prompt == "a red fox in snow"
    job = unpack(await service.queue.redis.get(f"arq:job:{ticket.generation_id}"))
    assert job["a"][0]["prompt"] == "a red fox in snow"


async def test_words_in_other_scripts_are_not_mistaken_for_banned_ones(
    service: GenerationService,
) -> None:
    # Russian for "a dragon" is not the Latin word; a Latin look-alike spelling is.
    ticket = await service.imagine(ALICE, GROUP, TARGET, ImagineCommand(prompt="дракон в небе"))
    row = await service.store.get(ticket.generation_id)
    assert row is not None and row.prompt == "дракон в небе"


def test_what_scripts_and_emoji_need_stays_in_the_stored_text() -> None:
    from bot.core.text import clean_text, skeleton

    for kept in ("नमस्ते दुनिया", "❤\ufe0f", "👨\u200d👩\u200d👧", "می\u200cخواهم", "café"):
        assert clean_text(kept) == kept
    # Only the comparison form loses marks and joiners.
    assert skeleton("नमस्ते") == "नमसत" and skeleton("👨\u200d👩") == "👨👩"
    # Invisible fillers go from the stored text too: they hid words and names.
    assert clean_text("a\u3164b\u2800c\u034fd\u115fe\uffa0f\U000e0041g") == "abcdefg"


async def test_names_kept_for_the_gallery_pass_the_same_cleaning(
    service: GenerationService,
) -> None:
    """A display name made of Hangul fillers and Braille blanks shows as nobody in the
    gallery; one with invisible letters inside is stored as it reads."""
    for name, shown in (("\u3164\u2800\u115f", "someone"), ("a\u3164li\u034fce\u202e", "alice")):
        who = Requester(platform="telegram", user_id=f"n{len(name)}", display_name=name)
        await service.imagine(who, GROUP, TARGET, ImagineCommand(prompt="a cat"))
        (row,) = await service.store.history("telegram", who.user_id, 10)
        assert row.user_name == shown
