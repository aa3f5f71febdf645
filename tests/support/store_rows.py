"""Rows for the store's tests: a complete generation row, one marked done, a store filled with
one of everything."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

from bot.core.models import StoredImage
from bot.core.store import NewGeneration, Store


def values(**overrides: Any) -> NewGeneration:
    row: dict[str, Any] = {
        "id": f"g{next(_ids):06d}",
        "platform": "telegram",
        "scope_id": "-100",
        "chat_id": "-100",
        "thread_id": None,
        "reply_to_message_id": "7",
        "user_id": "42",
        "user_name": "Ada",
        "prompt": "a lighthouse",
        "negative_prompt": None,
        "style": "photo",
        "aspect": "1:1",
        "seed": 1234,
        "parent_id": None,
        "status": "queued",
        "handle": {"status_message_id": 9},
        "created_at": time.time(),
    }
    row.update(overrides)
    return NewGeneration(**row)


async def done(store: Store, gen_id: str, path: str = "/data/images/x.png") -> None:
    await store.mark_running(gen_id, "openai")
    stored = await store.mark_done(
        gen_id,
        provider="openai",
        model="gpt-image-1",
        image_path=path,
        width=1024,
        height=1024,
        revised_prompt=None,
        provider_calls=1,
        seed=None,
    )
    assert stored is not None


async def fill(store: Store, images: Path) -> dict[str, Any]:
    """A small but complete history: every table, a parent link, an image on disk."""
    images.mkdir(parents=True)
    parent = await store.insert_generation(values(handle={"k": None, "m": 3}))
    image = images / f"{parent.id}.png"
    image.write_bytes(b"\x89PNG picture bytes")
    await done(store, parent.id, str(image))
    await store.mark_delivered(parent.id)
    child = await store.insert_generation(
        values(
            parent_id=parent.id,
            created_at=time.time() + 1,
            locale="ar",
            prompt="منارة",
            prompt_english="a lighthouse",
        )
    )
    await store.cache_translation("منارة", "gpt-4o-mini", "a lighthouse", time.time())
    await store.mark_failed(child.id, "censored", "the provider said no")
    await store.record_refusal("telegram", "-100", "42", "limit_reached", "too many")
    await store.record_refusal("telegram", "-100", "43", "banned_term", "a banned word")
    await store.set_scope_settings("telegram", "-100", "anime", ["anime"])
    await store.set_scope_limits("telegram", "-100", 3, 30)
    await store.set_scope_nsfw("telegram", "-100", True)
    await store.set_user_style("telegram", "42", "photo")
    await store.set_user_language("telegram", "42", "de")
    await store.set_scope_language("telegram", "-100", "ru", members_win=False)
    await store.set_state("discord:sync", '{"digest": "x"}')
    await store.execute(
        "INSERT INTO editor_link_uses (nonce, platform, user_id, generation_id, used_at, "
        "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        ("ab" * 16, "telegram", "42", parent.id, time.time(), time.time() + 600),
    )
    # A grid of two made from a picture: each image, the grid and the input are files.
    grid = await store.insert_generation(
        values(count=2, created_at=time.time() + 2, input_path=str(images / "g-input.png"))
    )
    (images / "g-input.png").write_bytes(b"\x89PNG input")
    shown = images / f"{grid.id}.jpg"
    shown.write_bytes(b"\xff\xd8\xff grid")
    await done(store, grid.id, str(shown))
    tiles = []
    for k in (1, 2):
        tile = images / f"{grid.id}-{k}.png"
        tile.write_bytes(b"\x89PNG tile " + str(k).encode())
        tiles.append(StoredImage(index=k, path=str(tile), width=8, height=8, seed=k))
    await store.record_images(grid.id, tiles)
    # A community style with a reference picture on disk.
    reference = images / "0123456789abcdef-input.png"
    reference.write_bytes(b"\x89PNG reference")
    await store.save_community_style(style_values(refs=(str(reference),)))
    return {
        "parent": parent.id,
        "child": child.id,
        "image": image,
        "grid": grid.id,
        "reference": reference,
    }


def style_values(**overrides: Any) -> dict[str, Any]:
    """A community style's row (a Telegram group's "Neon Noir")."""
    now = time.time()
    row: dict[str, Any] = {
        "platform": "telegram",
        "scope_id": "-100",
        "style_id": "neon-noir",
        "name": "Neon Noir",
        "description": "Rain, neon, night.",
        "template": "{prompt}, neon noir, rain-soaked streets",
        "negative": "daylight",
        "aspect": "16:9",
        "count": 2,
        "provider": None,
        "refs": (),
        "hidden": False,
        "private": False,
        "code": "#k3f9",
        "digest": "d" * 64,
        "preview_path": None,
        "created_by": "42",
        "created_by_name": "ann",
        "created_at": now,
        "updated_at": now,
    }
    return row | overrides


_ids = itertools.count(1)
