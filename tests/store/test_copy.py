"""`db copy`: a SQLite history moved into PostgreSQL, row for row, images optionally moved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.core.store import Store
from bot.core.store.copy import TABLES, CopyRefused, copy_databases
from tests.support.postgres import create_database, drop_database, url_of
from tests.support.store_rows import fill, values


async def table_rows(store: Store) -> dict[str, list[dict[str, Any]]]:
    found = {}
    for table, (columns, order) in TABLES.items():
        rows = await store.fetch(f"SELECT {columns} FROM {table} ORDER BY {order}")
        found[table] = [dict(r) for r in rows]
    return found


@pytest.fixture
async def pg_url() -> Any:
    name = await create_database()
    try:
        yield url_of(name)
    finally:
        await drop_database(name)


async def test_copy_sqlite_to_postgresql_keeps_every_row(tmp_path: Path, pg_url: str) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    source = await Store.open(sqlite_url)
    try:
        made = await fill(source, tmp_path / "images")
        before = await table_rows(source)
        history = await source.history("telegram", "42")
    finally:
        await source.close()

    report = await copy_databases(sqlite_url, pg_url)
    assert report.rows == {
        "generations": 3,
        "generation_images": 2,
        "refusals": 2,
        "scope_settings": 1,
        "user_settings": 1,
        "state": 1,
        "community_styles": 1,
        "editor_link_uses": 1,
        "prompt_translations": 1,
    }
    target = await Store.open(pg_url)
    try:
        assert await table_rows(target) == before
        assert await target.history("telegram", "42") == history
        child = await target.get(made["child"])
        assert child is not None and child.parent_id == made["parent"]
        assert len(await target.recent_refusals("telegram", "-100")) == 3
        assert (await target.scope_row("telegram", "-100")).daily_limit_per_user == 3
        languages = await target.scope_row("telegram", "-100", "42")
        assert (languages.language, languages.members_language_wins) == ("ru", False)
        assert languages.user_language == "de"
        assert child.locale == "ar"
        # The target keeps numbering refusals itself after the copy.
        await target.record_refusal("telegram", "-100", "44", "limit_reached", "after copy")
    finally:
        await target.close()

    with pytest.raises(CopyRefused, match="already holds"):
        await copy_databases(sqlite_url, pg_url)


async def test_copy_with_images_to_moves_the_files(tmp_path: Path, pg_url: str) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    source = await Store.open(sqlite_url)
    try:
        made = await fill(source, tmp_path / "images")
    finally:
        await source.close()
    shared = tmp_path / "shared-volume" / "images"
    report = await copy_databases(sqlite_url, pg_url, images_to=shared)
    assert (report.images_copied, report.images_missing) == (6, 0)
    target = await Store.open(pg_url)
    try:
        row = await target.get(made["parent"])
        grid = await target.get(made["grid"])
        assert grid is not None
        grid = await target.with_images(grid)
        style = await target.community_style("telegram", "-100", "neon-noir")
    finally:
        await target.close()
    # Every file of the grid is in the new folder under its generated name.
    assert grid.image_path == str((shared / f"{grid.id}.jpg").resolve())
    assert grid.input_path == str((shared / f"{grid.id}-input.png").resolve())
    assert [Path(i.path).read_bytes() for i in grid.images] == [
        b"\x89PNG tile 1",
        b"\x89PNG tile 2",
    ]
    assert all(Path(i.path).parent == shared.resolve() for i in grid.images)
    assert row is not None and row.image_path == str((shared / f"{made['parent']}.png").resolve())
    assert Path(row.image_path).read_bytes() == made["image"].read_bytes()
    assert made["image"].exists()  # copied, not moved: the old store still works
    # A community style's reference picture too, under a new generated name.
    assert style is not None and len(style["refs"]) == 1
    reference = Path(style["refs"][0])
    assert reference.parent == shared.resolve() and reference.name != made["reference"].name
    assert reference.read_bytes() == b"\x89PNG reference"


async def test_copy_with_images_to_takes_an_edits_mask(tmp_path: Path, pg_url: str) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    images = tmp_path / "images"
    images.mkdir()
    source = await Store.open(sqlite_url)
    try:
        edit = await source.insert_generation(values(kind="zoom", edit_note="zoomed out 2x"))
        canvas = images / f"{edit.id}-input.jpg"
        canvas.write_bytes(b"\xff\xd8\xff canvas")
        (images / f"{edit.id}-mask.png").write_bytes(b"\x89PNG mask")
        await source.execute(
            "UPDATE generations SET input_path = ? WHERE id = ?", (str(canvas), edit.id)
        )
    finally:
        await source.close()
    shared = tmp_path / "shared-volume" / "images"
    report = await copy_databases(sqlite_url, pg_url, images_to=shared)
    assert (report.images_copied, report.images_missing) == (2, 0)
    assert (shared / f"{edit.id}-mask.png").read_bytes() == b"\x89PNG mask"
    target = await Store.open(pg_url)
    try:
        copied = await target.get(edit.id)
    finally:
        await target.close()
    assert copied is not None and copied.edit_note == "zoomed out 2x"
