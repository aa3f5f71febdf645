"""Migration 004 through the store's own runner: the search index follows every row change."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.core.store import Store, migrations_dir


def _insert(db: sqlite3.Connection, gen_id: str, prompt: str, created: float) -> None:
    db.execute(
        "INSERT INTO generations (id, platform, scope_id, chat_id, user_id, user_name, prompt, "
        "style, aspect, seed, status, created_at) VALUES (?, 'discord', '1', '1', 'u', 'n', ?, "
        "'photo', '1:1', 1, 'delivered', ?)",
        (gen_id, prompt, created),
    )


def _search(db: sqlite3.Connection, words: str) -> list[str]:
    rows = db.execute(
        "SELECT s.generation_id FROM generations_fts f JOIN generation_search s "
        "ON s.rowid = f.rowid WHERE generations_fts MATCH ? ORDER BY f.rowid DESC",
        (words,),
    )
    return [r[0] for r in rows]


async def test_004_indexes_old_rows_and_follows_inserts_updates_and_deletes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite3"
    early = tmp_path / "early"
    early.mkdir()
    for file in sorted(migrations_dir().glob("00[123]_*.sql")):
        (early / file.name).write_text(file.read_text())
    store = await Store.open(path, migrate=False)
    assert await store.migrate(early) == [1, 2, 3]
    await store.close()
    with sqlite3.connect(path) as db:
        _insert(db, "b", "older castle", 2.0)
        _insert(db, "a", "oldest castle", 1.0)

    store = await Store.open(path)  # applies 004 (and anything after it) unchanged
    assert await store.schema_version() >= 4
    await store.close()
    with sqlite3.connect(path) as db:
        assert _search(db, "castle") == ["b", "a"]  # backfilled oldest first: newest on top
        _insert(db, "c", "new castle", 3.0)
        assert _search(db, "castle") == ["c", "b", "a"]
        db.execute("UPDATE generations SET prompt = 'a meadow' WHERE id = 'b'")
        assert _search(db, "castle") == ["c", "a"] and _search(db, "meadow") == ["b"]
        db.execute("DELETE FROM generations WHERE id = 'a'")
        assert _search(db, "castle") == ["c"]
        assert db.execute("SELECT COUNT(*) FROM generation_search").fetchone()[0] == 2
        assert db.execute("SELECT hidden FROM generations WHERE id = 'c'").fetchone()[0] == 0
        db.execute(
            "INSERT INTO scope_settings (platform, scope_id, updated_at) VALUES ('d', '1', 0)"
        )
        assert db.execute("SELECT gallery FROM scope_settings").fetchone()[0] == 1
