"""One request's images in the store, the same on SQLite and PostgreSQL (each test runs on
both): per-image rows, follow-up columns, per-image counts, the pictures-per-request cap,
and every file name a purge or forget-me needs."""

from __future__ import annotations

import time

from bot.core.models import Kind, StoredImage
from bot.core.store import Store
from tests.support.store_rows import done, values


def four(gen_id: str) -> list[StoredImage]:
    return [
        StoredImage(
            index=k, path=f"/data/images/{gen_id}-{k}.png", width=1024, height=768, seed=2**32 - k
        )
        for k in range(1, 5)
    ]


async def test_a_follow_up_row_and_its_images_read_back(store: Store) -> None:
    parent = await store.insert_generation(values(count=4))
    child = await store.insert_generation(
        values(
            kind="vary",
            count=4,
            parent_id=parent.id,
            parent_index=2,
            input_path="/data/images/x-input.png",
            strength=0.6,
        )
    )
    read = await store.get(child.id)
    assert read is not None and read == child
    assert (read.kind, read.count, read.parent_id, read.parent_index) == (
        Kind.VARY,
        4,
        parent.id,
        2,
    )
    assert read.input_path == "/data/images/x-input.png" and read.strength == 0.6
    assert read.images == () and read.suggestions == () and read.crop_note is None

    images = four(parent.id)
    await store.record_images(
        parent.id, images, crop_note="made at 1536x1024 (3:2), cropped to 16:9"
    )
    await store.record_images(
        parent.id, images, crop_note="made at 1536x1024 (3:2), cropped to 16:9"
    )
    stored = await store.get(parent.id)
    assert stored is not None
    with_images = await store.with_images(stored)
    assert with_images.images == tuple(images)  # storing twice changed nothing
    assert with_images.crop_note == "made at 1536x1024 (3:2), cropped to 16:9"
    assert with_images.image(3) == images[2] and with_images.image(5) is None


async def test_suggestions_keep_their_order_and_text(store: Store) -> None:
    row = await store.insert_generation(values(kind="describe", prompt=""))
    await store.record_images(row.id, [], suggestions=["a 'fox', in snow", "watercolour fox"])
    read = await store.get(row.id)
    assert read is not None and read.suggestions == ("a 'fox', in snow", "watercolour fox")


async def test_each_image_counts_when_limits_are_rebuilt(store: Store) -> None:
    await store.insert_generation(values(count=4))
    await store.insert_generation(values(count=1, user_id="9"))
    lost = await store.insert_generation(values(count=3))
    await store.mark_failed(lost.id, "queue_unavailable", "queue down")
    since = time.time() - 60
    assert sorted(await store.accepted_images_since(since)) == [
        ("telegram", "42", "-100", 4),
        ("telegram", "9", "-100", 1),
    ]


async def test_the_pictures_per_request_cap_is_a_scope_setting(store: Store) -> None:
    assert (await store.scope_row("telegram", "-100")).max_count is None
    await store.set_scope_max_count("telegram", "-100", 2)
    await store.set_scope_limits("telegram", "-100", 5, None)
    row = await store.scope_row("telegram", "-100")
    assert row.max_count == 2 and row.daily_limit_per_user == 5
    await store.set_scope_max_count("telegram", "-100", None)
    assert (await store.scope_row("telegram", "-100")).max_count is None


async def test_forget_and_purge_name_input_pictures_and_drop_image_rows(store: Store) -> None:
    grid = await store.insert_generation(values(count=4))
    await done(store, grid.id, f"/data/images/{grid.id}.jpg")
    await store.record_images(grid.id, four(grid.id))
    # A request from the user's own picture that failed: no image, but an input file.
    failed = await store.insert_generation(values(input_path="/data/images/f-input.png"))
    await store.mark_failed(failed.id, "unavailable", "down")
    paths = await store.forget_user("telegram", "42")
    assert sorted(paths) == sorted([f"/data/images/{grid.id}.jpg", "/data/images/f-input.png"])
    assert await store.images(grid.id) == ()

    old = time.time() - 100 * 86400
    purged = await store.insert_generation(values(created_at=old, input_path="/data/in.png"))
    await done(store, purged.id, "/data/images/p.png")
    await store.mark_delivered(purged.id)
    await store.record_images(purged.id, four(purged.id)[:1])
    assert sorted(await store.purge_before(old + 1)) == ["/data/images/p.png", "/data/in.png"]
    assert await store.images(purged.id) == ()


async def test_a_describe_is_done_without_an_image(store: Store) -> None:
    row = await store.insert_generation(values(kind="describe", prompt=""))
    await store.mark_running(row.id, "sdwebui")
    stored = await store.mark_done(
        row.id,
        provider="sdwebui",
        model="clip",
        image_path=None,
        width=None,
        height=None,
        revised_prompt=None,
        provider_calls=1,
        seed=None,
    )
    assert stored is not None and stored.image_path is None and stored.status.value == "done"
