"""GenerationService rules against a real SQLite file and the in-process Redis stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.errors import (
    EmptyPrompt,
    NotFound,
    NotOwner,
    PromptTooLong,
    StyleNotAllowed,
    UnknownStyle,
    UnsupportedAspect,
    WrongScope,
)
from bot.core.generation.queue import unpack
from bot.core.messages import job_from_wire
from bot.core.models import EditRequest, ImagineCommand, ReplyTarget, Requester, Scope, Style
from bot.core.requests.access import Need
from bot.core.requests.service import GenerationService, clean_text
from bot.core.store import Store
from tests.support.service import ALICE, GUILD, TARGET, build_service

BOB = Requester(platform="discord", user_id="2", display_name="bob")
OTHER_GUILD = Scope(platform="discord", id="200")


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[GenerationService]:
    service = await build_service(tmp_path, default_style="photo", max_prompt_chars=50)
    yield service
    await service.store.close()


async def test_empty_prompt(service: GenerationService) -> None:
    with pytest.raises(EmptyPrompt, match="Your prompt is empty"):
        await service.prepare(ALICE, GUILD, ImagineCommand(prompt="  \n\x00 "))


async def test_prompt_over_limit_names_both_numbers(service: GenerationService) -> None:
    with pytest.raises(PromptTooLong, match="51 characters long; the limit is 50"):
        await service.prepare(ALICE, GUILD, ImagineCommand(prompt="x" * 51))


async def test_unknown_style_has_suggestions(service: GenerationService) -> None:
    with pytest.raises(UnknownStyle) as caught:
        await service.prepare(ALICE, GUILD, ImagineCommand(prompt="cat", style="watercolour"))
    assert caught.value.suggestions[0] == "watercolor"
    assert "Did you mean watercolor" in caught.value.message


async def test_an_aspect_the_provider_cannot_make_is_queued_to_be_cropped(
    service: GenerationService,
) -> None:
    # The provider makes 1:1, 3:2 and 2:3 only: 16:9 is made at 3:2 and cropped by the worker.
    ticket = await service.imagine(
        ALICE, GUILD, TARGET, ImagineCommand(prompt="cat", aspect="16:9")
    )
    assert ticket.aspect == "16:9"
    job = await service.job_for(await service.generation(ticket.generation_id))
    assert job.aspect == "16:9" and job.providers == ("openai",)


async def test_a_ratio_the_platforms_cannot_show_is_refused(service: GenerationService) -> None:
    command = ImagineCommand.model_construct(prompt="cat", aspect="21:9")
    with pytest.raises(UnsupportedAspect, match=r"cannot make 21:9 .*1:1, 3:2, 2:3, 16:9, 9:16"):
        await service.prepare(ALICE, GUILD, command)


async def test_style_resolution_order(service: GenerationService) -> None:
    async def resolved(who: Requester, scope: Scope, explicit: str | None = None) -> str:
        prepared = await service.prepare(who, scope, ImagineCommand(prompt="cat", style=explicit))
        return prepared.style.id

    assert await resolved(ALICE, GUILD) == "photo"  # DEFAULT_STYLE
    await service.set_scope_default(GUILD, "comic")
    assert await resolved(ALICE, GUILD) == "comic"  # scope default
    assert await resolved(ALICE, OTHER_GUILD) == "photo"  # only that scope
    await service.set_user_style(ALICE, "sketch")
    assert await resolved(ALICE, GUILD) == "sketch"  # the user's own default
    assert await resolved(BOB, GUILD) == "comic"
    assert await resolved(ALICE, GUILD, "anime") == "anime"  # explicit choice wins


async def test_allowed_styles_restrict_choice_and_defaults(service: GenerationService) -> None:
    await service.set_user_style(ALICE, "sketch")
    await service.set_allowed_styles(GUILD, ["anime", "Comic"])
    with pytest.raises(StyleNotAllowed, match="Allowed styles: anime, comic"):
        await service.prepare(ALICE, GUILD, ImagineCommand(prompt="cat", style="photo"))
    # Neither the user's default nor DEFAULT_STYLE is allowed: the first allowed style is used.
    prepared = await service.prepare(ALICE, GUILD, ImagineCommand(prompt="cat"))
    assert prepared.style.id == "anime"
    await service.set_allowed_styles(GUILD, None)
    prepared = await service.prepare(ALICE, GUILD, ImagineCommand(prompt="cat"))
    assert prepared.style.id == "sketch"


async def test_settings_survive_a_new_service(service: GenerationService, tmp_path: Path) -> None:
    await service.set_scope_default(GUILD, "dark")
    await service.set_allowed_styles(GUILD, ["dark", "space"])
    store = await Store.open(service.settings.database_path)
    try:
        assert await store.scope_settings("discord", "100") == ("dark", ["dark", "space"])
    finally:
        await store.close()


async def test_submit_writes_row_and_enqueues_job_with_generation_id(
    service: GenerationService,
) -> None:
    ticket = await service.imagine(
        ALICE, GUILD, TARGET, ImagineCommand(prompt="a cat", style="anime", seed=42)
    )
    row = await service.store.get(ticket.generation_id)
    assert (
        row is not None and row.status.value == "queued" and row.seed == 42 and row.style == "anime"
    )
    assert ticket.position == 1
    raw = await service.queue.redis.get(f"arq:job:{ticket.generation_id}")
    job = unpack(raw)
    payload = job["a"][0]
    assert payload["prompt"].startswith("a cat, anime style")
    assert payload["generation_id"] == ticket.generation_id
    # Enqueueing the same generation again is a no-op.
    assert await service.queue.enqueue(job_from_wire(payload)) is False


async def test_history_and_delete_own_only(service: GenerationService) -> None:
    ticket = await service.imagine(ALICE, GUILD, TARGET, ImagineCommand(prompt="a cat"))
    assert [g.id for g in await service.history(ALICE)] == [ticket.generation_id]
    assert await service.history(BOB) == []
    with pytest.raises(Exception, match="Only the person who asked"):
        await service.delete_generation(ticket.generation_id, BOB, GUILD)
    await service.delete_generation(ticket.generation_id, ALICE, GUILD)
    assert await service.history(ALICE) == []


async def test_buttons_act_only_in_the_generations_own_scope(service: GenerationService) -> None:
    ticket = await service.imagine(ALICE, GUILD, TARGET, ImagineCommand(prompt="a cat"))
    gen_id = ticket.generation_id
    telegram_alice = ALICE.model_copy(update={"platform": "telegram"})
    for actor, scope in (
        (ALICE, OTHER_GUILD),
        (BOB, Scope.direct("discord", "9")),
        (telegram_alice, Scope(platform="telegram", id="100")),
    ):
        with pytest.raises(WrongScope):
            await service.generation_for(gen_id, actor, scope)
        with pytest.raises(WrongScope):
            await service.prepare_variation(gen_id, actor, scope)
        # A moderator of another server cannot delete here either.
        with pytest.raises(WrongScope):
            await service.delete_generation(gen_id, actor, scope, moderator=True)
    assert (await service.generation_for(gen_id, BOB, GUILD)).id == gen_id
    with pytest.raises(NotOwner):
        await service.generation_for(gen_id, BOB, GUILD, Need.OWNER)
    reroll = await service.prepare_variation(gen_id, BOB, GUILD)
    assert reroll.parent_id == gen_id and reroll.command.prompt == "a cat"
    await service.delete_generation(gen_id, BOB, GUILD, moderator=True)
    assert await service.store.get(gen_id) is None


async def test_history_in_a_scope_shows_only_that_scopes_rows(service: GenerationService) -> None:
    here = await service.imagine(ALICE, GUILD, TARGET, ImagineCommand(prompt="a cat"))
    there = await service.imagine(ALICE, OTHER_GUILD, TARGET, ImagineCommand(prompt="a dog"))
    assert [g.id for g in await service.history(ALICE, scope=GUILD)] == [here.generation_id]
    assert [g.id for g in await service.history(ALICE, scope=OTHER_GUILD)] == [there.generation_id]
    assert len(await service.history(ALICE)) == 2


def test_clean_text_strips_control_and_format_characters() -> None:
    assert clean_text("a\x00b\u200fc\n\td  e\u200b\u2060f") == "abc d ef"


async def test_nsfw_reaches_the_job_only_when_scope_and_chat_allow_it(
    service: GenerationService,
) -> None:
    async def nsfw_for(target: ReplyTarget) -> bool:
        ticket = await service.imagine(ALICE, GUILD, target, ImagineCommand(prompt="a cat"))
        await service.settled(ticket.generation_id)
        payload = unpack(await service.queue.redis.get(f"arq:job:{ticket.generation_id}"))["a"][0]
        return bool(payload["nsfw"])

    age_restricted = ReplyTarget(platform="discord", chat_id="300", nsfw_ok=True)
    assert await nsfw_for(age_restricted) is False  # off by default
    await service.set_scope_nsfw(GUILD, True)
    assert await nsfw_for(age_restricted) is True
    assert await nsfw_for(TARGET) is False  # a chat that may not show it never gets it


async def test_the_style_is_rendered_once_on_the_way_to_the_job(
    service: GenerationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[str] = []
    render = Style.render

    def counting(style: Style, prompt: str) -> str:
        rendered.append(prompt)
        return render(style, prompt)

    monkeypatch.setattr(Style, "render", counting)
    ticket = await service.imagine(
        ALICE, GUILD, TARGET, ImagineCommand(prompt="a cat", style="anime")
    )
    # Checked against the prompt limit when prepared, built into the job from the row (the
    # one job builder): each time from the user's words, never a rendered prompt rendered again.
    assert rendered and set(rendered) == {"a cat"}
    payload = unpack(await service.queue.redis.get(f"arq:job:{ticket.generation_id}"))["a"][0]
    assert payload["prompt"] == render(service.styles.get("anime"), "a cat")


async def test_only_the_requester_or_a_moderator_may_edit(service: GenerationService) -> None:
    ticket = await service.imagine(ALICE, GUILD, TARGET, ImagineCommand(prompt="a cat"))
    gen_id, zoom = ticket.generation_id, EditRequest(action="zoom", factor=2.0)
    # Anyone in the server may reroll it, but not edit it.
    with pytest.raises(NotOwner):
        await service.prepare_edit(gen_id, 1, zoom, BOB, GUILD)
    with pytest.raises(WrongScope):
        await service.prepare_edit(gen_id, 1, zoom, ALICE, OTHER_GUILD, moderator=True)
    # Past the access check, the request still has no picture to edit: for both, the same.
    for actor, moderator in ((ALICE, False), (BOB, True)):
        with pytest.raises(NotFound, match="image 1"):
            await service.prepare_edit(gen_id, 1, zoom, actor, GUILD, moderator=moderator)
