"""Community styles in the store, the same on SQLite and PostgreSQL (each test runs on both)."""

from __future__ import annotations

from bot.core.store import Store
from tests.support.store_rows import style_values


async def test_a_style_reads_back_as_written(store: Store) -> None:
    refs = ("/data/images/0123456789abcdef-input.png",)
    await store.save_community_style(style_values(refs=refs, private=True))
    row = await store.community_style("telegram", "-100", "neon-noir")
    assert row is not None
    assert row["name"] == "Neon Noir" and row["refs"] == refs and row["private"] is True
    assert row["aspect"] == "16:9" and row["count"] == 2 and row["hidden"] is False
    assert [r["style_id"] for r in await store.community_styles("telegram", "-100")] == [
        "neon-noir"
    ]
    assert await store.community_styles("telegram", "-200") == []


async def test_a_code_finds_only_visible_styles_this_scope_may_use(store: Store) -> None:
    await store.save_community_style(style_values(private=True))
    # Private: its own scope finds it by code, another does not.
    assert await store.community_style_by_code("#k3f9", "telegram", "-100") is not None
    assert await store.community_style_by_code("#k3f9", "discord", "7") is None
    await store.save_community_style(
        style_values(scope_id="-300", created_at=1.0, private=False, hidden=True)
    )
    assert await store.community_style_by_code("#k3f9", "discord", "7") is None  # hidden
    await store.save_community_style(style_values(scope_id="-400", created_at=2.0))
    found = await store.community_style_by_code("#k3f9", "discord", "7")
    assert found is not None and found["scope_id"] == "-400"
    assert await store.code_digests("#k3f9") == {"d" * 64}


async def test_an_edit_that_renames_replaces_the_row(store: Store) -> None:
    await store.save_community_style(style_values())
    await store.save_community_style(
        style_values(style_id="rain", name="Rain", old_style_id="neon-noir", code="#aaaa")
    )
    rows = await store.community_styles("telegram", "-100")
    assert [(r["style_id"], r["code"]) for r in rows] == [("rain", "#aaaa")]
    assert await store.delete_community_style("telegram", "-100", "rain")
    assert not await store.delete_community_style("telegram", "-100", "rain")


async def test_forget_me_removes_the_makers_name_not_the_style(store: Store) -> None:
    await store.save_community_style(style_values())
    await store.save_community_style(style_values(style_id="other", created_by="43"))
    await store.forget_user("telegram", "42")
    kept = await store.community_style("telegram", "-100", "neon-noir")
    assert kept is not None and kept["created_by"] is None and kept["created_by_name"] is None
    other = await store.community_style("telegram", "-100", "other")
    assert other is not None and other["created_by"] == "43"


async def test_a_group_that_moves_takes_its_styles(store: Store) -> None:
    await store.save_community_style(style_values())
    await store.save_community_style(style_values(style_id="taken"))
    await store.save_community_style(style_values(scope_id="-200", style_id="taken", name="Mine"))
    moved = await store.move_chat("telegram", "-100", "-200")
    assert moved.anything
    rows = {r["style_id"]: r["name"] for r in await store.community_styles("telegram", "-200")}
    assert rows == {"neon-noir": "Neon Noir", "taken": "Mine"}
