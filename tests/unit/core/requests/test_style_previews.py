"""A community style's preview: four sample prompts, one seed, queued under the scope's own
preview requester (never the admin's limits), delivered to the previews' channel, composed into
one labelled grid recorded on the style."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from bot.core.errors import UnknownStyle, UserFacingError
from bot.core.models import STYLE_PREVIEW, Requester, Scope
from bot.core.requests.service import GenerationService
from bot.core.requests.style_previews import SAMPLES
from bot.core.requests.style_recipes import StyleDraft
from tests.support.service import build_service

ADMIN = Requester(platform="discord", user_id="1", display_name="ann")
GUILD = Scope(platform="discord", id="100")
NOIR = StyleDraft(name="Neon Noir", template="{prompt}, neon noir", aspect="3:2", count=2)


def picture(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 64), colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[GenerationService]:
    built = await build_service(tmp_path, max_pending_per_user=1)
    yield built
    await built.store.close()


async def test_four_samples_one_seed_one_labelled_grid(service: GenerationService) -> None:
    style = await service.community.create(GUILD, ADMIN, NOIR)
    await service.preview_style(GUILD, style)
    rows = await service.store.fetch(
        "SELECT * FROM generations WHERE platform = 'discord' AND scope_id = '100' "
        "ORDER BY created_at"
    )
    assert [r["prompt"] for r in rows] == list(SAMPLES)
    assert {r["seed"] for r in rows} == {rows[0]["seed"]} and {r["aspect"] for r in rows} == {"3:2"}
    assert {r["count"] for r in rows} == {1}  # one picture per sample, whatever the style's count
    # Not the admin's: the scope's preview requesters, one per tile, so a waiting limit of
    # one request per person does not hold the preview up.
    assert [r["user_id"] for r in rows] == [f"preview:100:{n}" for n in range(1, 5)]
    assert {r["style"] for r in rows} == {"neon-noir"}
    for number, (row, colour) in enumerate(
        zip(rows, ("red", "green", "blue", "white"), strict=True)
    ):
        path, width, height = service.files.write(row["id"], picture(colour))
        done = await service.store.mark_done(
            row["id"],
            provider="openai",
            model="m",
            image_path=str(path),
            width=width,
            height=height,
            revised_prompt=None,
            provider_calls=1,
            seed=None,
        )
        assert done is not None and STYLE_PREVIEW in done.handle
        await service.previews.deliver(done, path)
        stored = await service.store.community_style("discord", "100", "neon-noir")
        assert stored is not None
        assert (stored["preview_path"] is None) == (number < 3)
    grid = Image.open(stored["preview_path"])
    assert grid.format == "JPEG" and grid.width > 96 * 2 and grid.height > 64 * 2
    # The labels: a dark band along each tile's bottom, over the tile's own colour.
    assert grid.convert("RGB").getpixel((60, 5))[0] > 200  # the red tile, above its band
    hidden = await service.store.fetch("SELECT hidden FROM generations")
    assert {r["hidden"] for r in hidden} == {1}
    found = await service.community.find(GUILD, "neon-noir")
    assert found is not None and found.preview_path == stored["preview_path"]


async def test_a_hidden_style_gets_no_preview_until_shown(service: GenerationService) -> None:
    style = await service.community.create(GUILD, ADMIN, NOIR.model_copy(update={"hidden": True}))
    assert not await service.preview_style(GUILD, style)
    with pytest.raises(UnknownStyle):  # asked directly: a hidden style is not found by code
        await service.previews.request(GUILD, style)
    assert await service.store.fetch("SELECT id FROM generations") == []


async def test_the_scopes_limits_count_the_preview(tmp_path: Path) -> None:
    service = await build_service(tmp_path, daily_limit_per_scope=6)
    try:
        style = await service.community.create(GUILD, ADMIN, NOIR)
        assert await service.preview_style(GUILD, style)
        edited = await service.community.edit(GUILD, "neon-noir", {"negative": "sun"})
        assert edited.preview_path is None  # a new look: the old preview no longer shows it
        # Four more pictures would pass the scope's six a day: refused, the style kept.
        with pytest.raises(UserFacingError, match="limit"):
            await service.preview_style(GUILD, edited)
        assert await service.community.find(GUILD, "neon-noir") is not None
        rows = await service.store.fetch("SELECT user_id FROM generations")
        assert len(rows) == 4 and all(r["user_id"].startswith("preview:100:") for r in rows)
    finally:
        await service.store.close()
