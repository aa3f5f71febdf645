"""Prompts in any language (bot/core/requests/prompt_translation.py), through the real `openai`
client against the fake chat completions: when a prompt is translated (and when not), the
cache in the store, the English kept on the row and given only to providers that read English
best, and a failing, slow or refusing translator leaving the words as written."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.errors import ContentRefused
from bot.core.generation.operations import worded_for
from bot.core.generation.providers.base import Capabilities
from bot.core.generation.queue import calls_key
from bot.core.limits.safety import BannedTerms, OpenAIModerator
from bot.core.messages import JobMessage
from bot.core.models import ImagineCommand, Info, Kind, ReplyTarget, Requester, Scope
from bot.core.requests.prompt_translation import (
    TranslationFailed,
    may_need_translation,
    prompt_sent_text,
    same_words,
    usable,
)
from bot.core.requests.service import GenerationService
from tests.fakes.openai_images import FakeOpenAI
from tests.support.service import GPT_IMAGE, build_service

IVAN = Requester(platform="telegram", user_id="5", display_name="ivan", language="ru")
AMY = Requester(platform="telegram", user_id="6", display_name="amy", language="en")
JONAS = Requester(platform="telegram", user_id="7", display_name="jonas", language="de")
CHAT = Scope(platform="telegram", id="5")
TARGET = ReplyTarget(platform="telegram", chat_id="5", nsfw_ok=True)
SD = Capabilities(
    aspects=("1:1",),
    negative_prompt=True,
    seed=True,
    max_prompt_chars=2000,
    english_prompts=True,
)
RUSSIAN = "кот в шляпе, акварель"


class Translating:
    """The service with translation on, and every job its queue was handed."""

    def __init__(self, service: GenerationService, fake: FakeOpenAI) -> None:
        self.service, self.fake = service, fake
        self.jobs: dict[str, JobMessage] = {}
        enqueue = service.queue.enqueue_ranked

        async def recording(job: JobMessage) -> tuple[bool, int]:
            self.jobs[job.generation_id] = job
            return await enqueue(job)

        service.queue.enqueue_ranked = recording  # type: ignore[method-assign]

    async def imagine(
        self, prompt: str, who: Requester = IVAN, negative: str | None = None
    ) -> tuple[str, JobMessage]:
        command = ImagineCommand(prompt=prompt, negative_prompt=negative, style="photo")
        ticket = await self.service.imagine(who, CHAT, TARGET, command)
        return ticket.generation_id, self.jobs[ticket.generation_id]

    async def close(self) -> None:
        if self.service.translation is not None:
            await self.service.translation.aclose()
        await self.service.store.close()

    @property
    def asked(self) -> list[str]:
        return [call.text for call in self.fake.translations.calls]


async def translating(
    tmp_path: Path, fake: FakeOpenAI, providers: dict[str, Capabilities], **settings: object
) -> Translating:
    service = await build_service(
        tmp_path,
        capabilities=providers,
        prompt_translation="openai",
        max_pending_per_user=20,
        openai_api_key=fake.api_key,
        openai_base_url=f"{fake.base_url}/v1",
        **settings,
    )
    return Translating(service, fake)


@pytest.fixture
async def sd(tmp_path: Path, fake_openai: FakeOpenAI) -> AsyncIterator[Translating]:
    made = await translating(tmp_path, fake_openai, {"sdwebui": SD})
    yield made
    await made.close()


async def test_a_russian_prompt_goes_in_english_to_sd_and_the_row_keeps_the_russian(
    sd: Translating,
) -> None:
    gen_id, job = await sd.imagine(RUSSIAN, negative="размыто, текст")
    assert sorted(sd.asked) == sorted([RUSSIAN, "размыто, текст"])  # asked at once
    body = sd.fake.translations.calls[0].body
    assert body["model"] == "gpt-4o-mini" and body["response_format"] == {"type": "json_object"}
    row = await sd.service.generation(gen_id)
    assert (row.prompt, row.negative_prompt) == (RUSSIAN, "размыто, текст")
    assert (row.prompt_english, row.negative_english) == (
        "a cat in a hat, watercolour",
        "blurry, text",
    )
    # The job carries both; the provider that reads English best gets the English.
    assert RUSSIAN in job.prompt and job.english is not None
    assert "a cat in a hat, watercolour" in job.english.prompt
    assert job.english.negative_prompt.startswith("blurry, text")
    sent = worded_for(SD, job)
    assert (sent.prompt, sent.english) == (job.english.prompt, None)
    assert worded_for(GPT_IMAGE, job) == job  # OpenAI's image models read any language
    # Each translation is a provider call of the request: counted on it.
    assert int(await sd.service.queue.redis.get(calls_key(gen_id))) == 2
    # A restart rebuilds the same job from the row, asking nothing again.
    assert await sd.service.job_for(row) == job
    assert len(sd.asked) == 2


async def test_the_same_words_again_are_read_from_the_store_not_asked(
    sd: Translating, tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    await sd.imagine(RUSSIAN)
    again, job = await sd.imagine(RUSSIAN)
    assert sd.asked == [RUSSIAN]
    assert job.english is not None and "a cat in a hat" in job.english.prompt
    assert await sd.service.queue.redis.get(calls_key(again)) is None  # no call: none counted
    # Another bot process on the same store shares it too.
    other = await translating(tmp_path, fake_openai, {"sdwebui": SD})
    try:
        _, job = await other.imagine(RUSSIAN)
        assert sd.asked == [RUSSIAN] and job.english is not None
    finally:
        await other.close()


async def test_openai_image_models_get_the_prompt_as_written_and_nothing_is_asked(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    made = await translating(tmp_path, fake_openai, {"openai": GPT_IMAGE})
    try:
        gen_id, job = await made.imagine(RUSSIAN)
        assert made.asked == [] and job.english is None and RUSSIAN in job.prompt
        assert (await made.service.generation(gen_id)).prompt_english is None
    finally:
        await made.close()


async def test_english_from_an_english_reader_is_not_asked_and_english_back_is_no_translation(
    sd: Translating,
) -> None:
    _, job = await sd.imagine("a lighthouse at dusk", who=AMY)
    assert sd.asked == [] and job.english is None
    # The same letters from a German reader may be German: asked, answered unchanged, cached.
    gen_id, job = await sd.imagine("a lighthouse at dusk", who=JONAS)
    assert sd.asked == ["a lighthouse at dusk"] and job.english is None
    assert (await sd.service.generation(gen_id)).prompt_english is None
    await sd.imagine("a lighthouse at dusk", who=JONAS)
    assert len(sd.asked) == 1


def test_which_texts_may_need_a_translation() -> None:
    assert not may_need_translation("2024 — 16:9, (((:1.2)))", "ru")  # no letters at all
    assert not may_need_translation("a red fox", "en")
    assert may_need_translation("a red fox", "de")
    assert may_need_translation("ein Fuchs im Schnee", "de")
    assert may_need_translation("renard roux, forêt", "en")  # not ASCII: not English, surely
    assert may_need_translation("狐", "en")


@pytest.mark.parametrize("outcome", ["500", "429", "401", "refuse", "prose", "long"])
async def test_a_failing_translator_leaves_the_words_as_written_with_a_log_line(
    sd: Translating, outcome: str, caplog: pytest.LogCaptureFixture
) -> None:
    sd.fake.translations.script = [outcome]
    if outcome == "401":
        sd.fake.translations.script = []
        sd.fake.api_key = "sk-another-key"
    with caplog.at_level(logging.WARNING, logger="bot.core.requests.prompt_translation"):
        gen_id, job = await sd.imagine(RUSSIAN)
    assert len(sd.asked) == 1 and job.english is None and RUSSIAN in job.prompt
    assert (await sd.service.generation(gen_id)).prompt_english is None
    assert f"generation {gen_id}: prompt not translated" in caplog.text
    assert RUSSIAN not in caplog.text  # the user's words are not logged above DEBUG
    # Not cached: the next request with these words asks again (after a 429's cool-down).
    sd.fake.api_key = FakeOpenAI.api_key
    if outcome == "429":
        await sd.service.queue.redis.delete("imaginebot:cooldown:prompt_translation")
    _, job = await sd.imagine(RUSSIAN)
    assert len(sd.asked) == 2 and job.english is not None


async def test_a_429_makes_every_process_wait_its_retry_after_without_holding_requests(
    sd: Translating,
) -> None:
    sd.fake.translations.script = ["429"]
    await sd.imagine(RUSSIAN)
    started = time.monotonic()
    _, job = await sd.imagine("собака")
    # Within the 7 s retry-after: not asked, and the request was not held waiting for it.
    assert sd.asked == [RUSSIAN] and job.english is None
    assert time.monotonic() - started < 3


async def test_a_slow_translator_is_given_up_on_after_the_timeout(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    made = await translating(
        tmp_path, fake_openai, {"sdwebui": SD}, prompt_translation_timeout_seconds=0.5
    )
    try:
        fake_openai.translations.script = ["slow:5"]
        started = time.monotonic()
        _, job = await made.imagine(RUSSIAN)
        assert time.monotonic() - started < 3
        assert job.english is None and RUSSIAN in job.prompt
    finally:
        await made.close()


async def test_refused_words_are_never_sent_and_a_banned_word_in_english_is_refused(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    banned = tmp_path / "banned.txt"
    banned.write_text("hat\nзапрет\n", encoding="utf-8")
    moderator = OpenAIModerator(
        api_key=fake_openai.api_key, base_url=f"{fake_openai.base_url}/v1", timeout=5
    )
    service = await build_service(
        tmp_path,
        capabilities={"sdwebui": SD},
        prompt_translation="openai",
        openai_api_key=fake_openai.api_key,
        openai_base_url=f"{fake_openai.base_url}/v1",
        moderator=moderator,
        banned=BannedTerms.load(banned),
    )
    made = Translating(service, fake_openai)
    try:
        for refused in ("FLAG_ME кот", "запрет кот"):  # moderation, then the banned words
            with pytest.raises(ContentRefused):
                await made.imagine(refused)
        assert made.asked == []
        # "кот в шляпе" is "a cat in a hat": the English says what the Russian hid.
        with pytest.raises(ContentRefused):
            await made.imagine(RUSSIAN)
        assert made.asked == [RUSSIAN]
        assert [row.id for row in await service.store.history("telegram", IVAN.user_id)] == []
    finally:
        await moderator.aclose()
        await made.close()


async def test_choices_in_braces_are_translated_tile_by_tile_or_not_at_all(
    sd: Translating,
) -> None:
    _, job = await sd.imagine("{рыжий, чёрный} кот")
    assert job.english is not None
    assert ["ginger cat" in v.prompt for v in job.english.variants] == [True, False]
    assert ["black cat" in v.prompt for v in job.english.variants] == [False, True]
    # The labels drawn on the tiles stay the user's words.
    assert [v.label for v in job.variants] == ["рыжий", "чёрный"]
    sd.fake.translations.script = ["braces"]
    _, job = await sd.imagine("{белый, серый} кот")
    assert job.english is None


def test_english_given_back_with_only_case_or_spacing_changed_is_no_translation() -> None:
    assert same_words("A lighthouse  at dusk", "a lighthouse at dusk")
    assert not same_words("a lighthouse at dusk", "ein Leuchtturm")


def test_an_answer_that_is_not_one_prompt_is_not_used() -> None:
    assert usable("кот", "  a cat ", 100) == "a cat"
    for source, english in (("кот", ""), ("кот", "x" * 101), ("{а, б}", "a or b")):
        with pytest.raises(TranslationFailed):
            usable(source, english, 100)


def test_info_shows_what_the_provider_got_only_when_it_was_translated() -> None:
    info = Info(
        generation_id="g",
        kind=Kind.IMAGINE,
        prompt=RUSSIAN,
        negative_prompt=None,
        style="photo",
        aspect="1:1",
        seeds=(1,),
        sizes=(),
        provider="sdwebui",
        model=None,
        seconds=None,
        crop_note=None,
        strength=None,
        parent_id=None,
        parent_index=None,
    )
    assert prompt_sent_text(info) is None
    line = prompt_sent_text(info.model_copy(update={"prompt_sent": "a cat in a hat"}))
    assert line is not None and line.message == "🌐 Sent in English: {prompt}"
