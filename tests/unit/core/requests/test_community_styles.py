"""Community styles in the core: made by a scope's admins, checked like prompts and input
pictures, used by name in their scope and by code anywhere (unless private), exported and
imported, and carried on the job (recipe, defaults, preferred provider, reference pictures)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from bot.core.errors import BadInputImage, NotFound, StyleNotAllowed, UnknownStyle
from bot.core.generation.providers.base import Capabilities
from bot.core.limits.safety import BannedTerms, ContentRefused
from bot.core.messages import JobMessage
from bot.core.models import ImagineCommand, ReplyTarget, Requester, Scope
from bot.core.requests.service import GenerationService
from bot.core.requests.style_recipes import BadStyleText, StyleDraft, code_of, digest
from tests.support.service import build_service
from tests.support.store_rows import style_values
from tests.support.user_text import DISGUISED_DRAGONS

ADMIN = Requester(platform="discord", user_id="1", display_name="ann")
MEMBER = Requester(platform="discord", user_id="2", display_name="bo")
GUILD = Scope(platform="discord", id="100")
OTHER = Scope(platform="telegram", id="-200")
TARGET = ReplyTarget(platform="discord", chat_id="300", nsfw_ok=False)
CAN_ALL = Capabilities(
    aspects=("1:1", "16:9", "9:16"),
    negative_prompt=True,
    seed=True,
    max_prompt_chars=2000,
    images_per_request=4,
    image_input=True,
)
NOIR = StyleDraft(
    name="Neon Noir",
    description="Rain, neon, night.",
    template="{prompt}, neon noir, rain-soaked streets",
    negative="daylight",
    aspect="16:9",
    count=2,
    provider="sdwebui",
)


def picture(colour: str = "navy") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "PNG", pnginfo=None)
    return out.getvalue()


def banned_dragons(folder: Path) -> BannedTerms:
    rules = folder / "banned.txt"
    rules.write_text("dragon\n", encoding="utf-8")
    return BannedTerms.load(rules)


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[GenerationService]:
    built = await build_service(
        tmp_path,
        capabilities={"openai": CAN_ALL, "sdwebui": CAN_ALL},
        image_providers="openai,sdwebui",
        banned=banned_dragons(tmp_path),
    )
    yield built
    await built.store.close()


async def queued_job(
    service: GenerationService, requester: Requester, scope: Scope, **kw: object
) -> JobMessage:
    jobs: list[JobMessage] = []
    enqueue = service.queue.enqueue_ranked

    async def recording(job: JobMessage) -> tuple[bool, int]:
        jobs.append(job)
        return await enqueue(job)

    service.queue.enqueue_ranked = recording  # type: ignore[method-assign]
    await service.imagine(requester, scope, TARGET, ImagineCommand(prompt="a cat", **kw))  # type: ignore[arg-type]
    service.queue.enqueue_ranked = enqueue  # type: ignore[method-assign]
    return jobs[0]


async def test_a_style_is_used_by_name_with_its_defaults_and_pictures(
    service: GenerationService,
) -> None:
    style = await service.community.create(GUILD, ADMIN, NOIR, [picture()])
    assert style.id == "neon-noir" and style.code and style.code.startswith("#")
    job = await queued_job(service, MEMBER, GUILD, style="Neon Noir")
    assert job.prompt == "a cat, neon noir, rain-soaked streets"
    assert "daylight" in job.negative_prompt
    # The style's default aspect and count, and its preferred provider first.
    assert (job.aspect, job.count) == ("16:9", 2)
    assert job.providers[0] == "sdwebui"
    # The reference picture, stored cleaned (a PNG the bot wrote), rides on the job.
    assert len(job.style_references) == 1 and job.style_references[0][:4] == b"\x89PNG"
    stored = Path(style.style_references[0])
    assert stored.parent == service.files.directory and stored.name.endswith("-input.png")
    # What a member sets wins over the style's defaults.
    explicit = await queued_job(service, MEMBER, GUILD, style="neon-noir", aspect="1:1", count=1)
    assert (explicit.aspect, explicit.count) == ("1:1", 1)
    # After a restart, the row's style is found again: the same job.
    row = await service.generation(job.generation_id)
    assert await service.job_for(row) == job


async def test_a_style_ref_takes_the_place_of_the_styles_pictures(
    service: GenerationService,
) -> None:
    """One set of style references per request: the one-off sent with it wins over the
    style's own pictures; the style's recipe and defaults still apply. A compare of several
    styles takes no style's pictures."""
    await service.community.create(GUILD, ADMIN, NOIR, [picture("navy"), picture("teal")])
    # Three members (a member's pending requests are limited).
    cy, di = (Requester(platform="discord", user_id=u, display_name=u) for u in ("3", "4"))
    own = await queued_job(service, MEMBER, GUILD, style="Neon Noir")
    assert len(own.style_references) == 2
    one_off = picture("orange")
    job = await queued_job(service, cy, GUILD, style="Neon Noir", style_references=(one_off,))
    assert job.prompt == "a cat, neon noir, rain-soaked streets" and job.count == 2
    assert len(job.style_references) == 1
    with Image.open(io.BytesIO(job.style_references[0])) as followed:
        assert followed.getpixel((0, 0)) == (255, 165, 0)
    assert len(service.files.references(job.generation_id)) == 1
    compare = await queued_job(service, di, GUILD, style="neon-noir,photo")
    assert compare.style_references == ()


async def test_a_compare_of_community_styles_renders_each_tile_in_its_own(
    service: GenerationService,
) -> None:
    await service.community.create(GUILD, ADMIN, NOIR)
    ink = StyleDraft(name="Harbour Ink", template="{prompt}, ink wash", negative="colour")
    await service.community.create(GUILD, ADMIN, ink)
    job = await queued_job(service, MEMBER, GUILD, style="neon-noir,harbour-ink")
    assert [v.prompt for v in job.variants] == [
        "a cat, neon noir, rain-soaked streets",
        "a cat, ink wash",
    ]
    assert [v.label for v in job.variants] == ["Neon Noir", "Harbour Ink"]
    assert "colour" in job.variants[1].negative_prompt
    # After a restart the tiles are found again the same way.
    assert await service.job_for(await service.generation(job.generation_id)) == job


async def test_a_code_works_elsewhere_unless_private(service: GenerationService) -> None:
    style = await service.community.create(GUILD, ADMIN, NOIR)
    assert style.code is not None
    job = await queued_job(service, MEMBER, OTHER, style=style.code)
    assert job.prompt.endswith("neon noir, rain-soaked streets") and job.style == style.code
    # Not by name in another scope.
    with pytest.raises(UnknownStyle):
        await queued_job(service, MEMBER, OTHER, style="Neon Noir")
    await service.community.edit(GUILD, "neon-noir", {"private": True})
    with pytest.raises(UnknownStyle, match="private"):
        await queued_job(service, MEMBER, OTHER, style=style.code)
    # Its own scope still uses it by code.
    assert (await queued_job(service, MEMBER, GUILD, style=style.code)).style == "neon-noir"


async def test_hidden_styles_leave_the_catalogue_but_stay_the_admins(
    service: GenerationService,
) -> None:
    await service.community.create(GUILD, ADMIN, NOIR.model_copy(update={"hidden": True}))
    assert "neon-noir" not in (await service.community.catalogue(GUILD)).ids
    with pytest.raises(UnknownStyle):
        await queued_job(service, MEMBER, GUILD, style="neon-noir")
    assert [s.id for s in await service.community.styles_of(GUILD)] == ["neon-noir"]
    await service.community.edit(GUILD, "Neon Noir", {"hidden": False})
    assert "neon-noir" in (await service.community.catalogue(GUILD)).ids


async def test_scope_settings_cover_community_styles(service: GenerationService) -> None:
    await service.community.create(GUILD, ADMIN, NOIR)
    allowed = await service.set_allowed_styles(GUILD, ["neon noir", "anime"])
    assert [s.id for s in allowed] == ["neon-noir", "anime"]
    assert (await service.set_scope_default(GUILD, "Neon Noir")) is not None
    job = await queued_job(service, MEMBER, GUILD)
    assert job.style == "neon-noir"
    assert [s.id for s in await service.allowed_styles(GUILD)] == ["anime", "neon-noir"]
    with pytest.raises(StyleNotAllowed):
        await queued_job(service, MEMBER, GUILD, style="photo")


@pytest.mark.parametrize(
    ("draft", "error", "words"),
    [
        (NOIR.model_copy(update={"name": "Anime"}), BadStyleText, "built-in"),
        (NOIR.model_copy(update={"template": "no placeholder"}), BadStyleText, r"\{prompt\}"),
        (NOIR.model_copy(update={"provider": "horde"}), BadStyleText, "openai, sdwebui"),
        (NOIR.model_copy(update={"name": "!!!"}), BadStyleText, "letter or digit"),
        (
            NOIR.model_copy(update={"negative": DISGUISED_DRAGONS["zero-width space"]}),
            ContentRefused,
            "not allowed",
        ),
        (
            NOIR.model_copy(update={"description": DISGUISED_DRAGONS["cyrillic a"]}),
            ContentRefused,
            "not allowed",
        ),
        (NOIR.model_copy(update={"name": "Dragon"}), ContentRefused, "not allowed"),
    ],
)
async def test_bad_styles_are_refused_in_plain_words(
    service: GenerationService, draft: StyleDraft, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        await service.community.create(GUILD, ADMIN, draft)
    assert await service.community.styles_of(GUILD) == []


async def test_pictures_are_checked_like_input_pictures(service: GenerationService) -> None:
    with pytest.raises(BadInputImage, match="picture"):
        await service.community.create(GUILD, ADMIN, NOIR, [b"not a picture"])
    with pytest.raises(BadStyleText, match="at most 4"):
        await service.community.create(GUILD, ADMIN, NOIR, [picture()] * 5)
    assert await service.community.styles_of(GUILD) == []
    assert not list(service.files.directory.glob("*-input.*"))


async def test_a_name_is_taken_once_per_scope(service: GenerationService) -> None:
    await service.community.create(GUILD, ADMIN, NOIR)
    with pytest.raises(BadStyleText, match="already has"):
        await service.community.create(GUILD, ADMIN, NOIR.model_copy(update={"name": "neon  noir"}))
    # Another scope may have its own Neon Noir; the same look shares its code.
    theirs = await service.community.create(OTHER, ADMIN, NOIR)
    ours = await service.community.find(GUILD, "neon-noir")
    assert ours is not None and theirs.code == ours.code


async def test_export_import_and_delete(service: GenerationService) -> None:
    made = await service.community.create(GUILD, ADMIN, NOIR, [picture()])
    text = await service.community.export(GUILD, "neon noir")
    assert "recipe:" in text and "reference_pictures: 1" in text
    imported = await service.community.import_text(OTHER, MEMBER, text)
    assert imported.template == made.template and imported.style_references == ()
    # Without its picture, the look differs: so does the code.
    assert imported.code != made.code
    # By code, the pictures come along (copied, stored under new names).
    copied = await service.community.import_text(OTHER, MEMBER, made.code or "", name="Noir 2")
    assert copied.code == made.code and len(copied.style_references) == 1
    assert copied.style_references != made.style_references
    deleted = await service.community.delete(GUILD, "neon-noir")
    assert not Path(deleted.style_references[0]).exists()
    assert Path(copied.style_references[0]).exists()
    with pytest.raises(NotFound):
        await service.community.delete(GUILD, "neon-noir")
    with pytest.raises(BadStyleText, match="not a style exported"):
        await service.community.import_text(OTHER, MEMBER, "hello")


async def test_an_edit_changes_the_code_and_keeps_the_maker(service: GenerationService) -> None:
    made = await service.community.create(GUILD, ADMIN, NOIR)
    edited = await service.community.edit(GUILD, "neon-noir", {"name": "Rain", "negative": "sun"})
    assert edited.id == "rain" and edited.code != made.code
    row = await service.store.community_style("discord", "100", "rain")
    assert row is not None and row["created_by"] == "1"
    assert await service.community.find(GUILD, "neon-noir") is None
    with pytest.raises(BadStyleText, match="no field"):
        await service.community.edit(GUILD, "rain", {"evil": 1})


async def test_a_code_taken_by_another_look_grows_a_character(service: GenerationService) -> None:
    taken = code_of(digest(NOIR))
    await service.store.save_community_style(
        style_values(platform="discord", scope_id="999", code=taken, digest="0" * 64)
    )
    style = await service.community.create(GUILD, ADMIN, NOIR)
    assert style.code == code_of(digest(NOIR), 5) and len(style.code) == 6


class Flagging:
    """A moderator that flags one word, and pictures that are red."""

    async def flagged(self, text: str) -> bool:
        return "gore" in text

    async def flagged_image(self, data: bytes, mime: str) -> bool:
        with Image.open(io.BytesIO(data)) as image:
            return bool(image.convert("RGB").getpixel((0, 0)) == (255, 0, 0))


async def test_the_moderation_check_sees_words_and_pictures(tmp_path: Path) -> None:
    service = await build_service(tmp_path, moderator=Flagging(), moderation="openai")
    try:
        with pytest.raises(ContentRefused, match="flagged this style's words"):
            await service.community.create(
                GUILD, ADMIN, NOIR.model_copy(update={"description": "gore", "provider": None})
            )
        with pytest.raises(ContentRefused, match="reference picture 2"):
            await service.community.create(
                GUILD,
                ADMIN,
                NOIR.model_copy(update={"provider": None}),
                [picture(), picture("red")],
            )
        assert await service.community.styles_of(GUILD) == []
    finally:
        await service.store.close()


async def test_a_group_that_moves_keeps_its_styles_by_name(service: GenerationService) -> None:
    old, new = Scope(platform="telegram", id="-100"), Scope(platform="telegram", id="-1002")
    await service.community.create(old, ADMIN, NOIR.model_copy(update={"provider": None}))
    assert "neon-noir" not in (await service.community.catalogue(new)).ids  # cached, empty
    await service.move_chat("telegram", "-100", "-1002")
    assert "neon-noir" in (await service.community.catalogue(new)).ids
