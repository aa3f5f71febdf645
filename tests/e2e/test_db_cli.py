"""`imaginebot migrate`, `history` and `db copy` as an operator runs them, on PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.core.store import Store
from bot.core.store.base import migration_files, migrations_dir
from tests.support import base_env, run_cli
from tests.support.postgres import database, pg_rows
from tests.support.store_rows import fill

pytestmark = pytest.mark.e2e


def test_migrate_then_history_follow_database_url(tmp_path: Path) -> None:
    with database() as url:
        env = base_env(tmp_path / "data", DATABASE_URL=url)
        first = run_cli(["migrate"], env, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        versions = [v for v, _ in migration_files(migrations_dir() / "postgres")]
        applied = ", ".join(map(str, versions))
        assert first.stdout.strip() == f"schema version {versions[-1]} (applied {applied})"
        again = run_cli(["migrate"], env, cwd=tmp_path)
        assert again.stdout.strip() == f"schema version {versions[-1]} (up to date)"
        empty = run_cli(["history", "--platform", "telegram", "--user", "42"], env, cwd=tmp_path)
        assert empty.returncode == 0 and empty.stdout.strip() == "no requests yet"
    assert not (tmp_path / "data" / "imaginebot.sqlite3").exists()


def test_db_copy_moves_a_sqlite_bot_to_postgresql(tmp_path: Path) -> None:
    sqlite_file = tmp_path / "data" / "imaginebot.sqlite3"

    async def make() -> dict[str, object]:
        store = await Store.open(sqlite_file)
        try:
            return await fill(store, tmp_path / "data" / "images")
        finally:
            await store.close()

    made = asyncio.run(make())
    with database() as url:
        env = base_env(tmp_path / "data")
        shared = tmp_path / "shared"
        result = run_cli(
            [
                "db",
                "copy",
                "--from",
                f"sqlite:///{sqlite_file}",
                "--to",
                url,
                "--images-to",
                str(shared),
            ],
            env,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == [
            "copied 3 generations, 2 generation_images, 2 refusals, 1 scope_settings, "
            "1 user_settings, 1 state, 1 community_styles, 1 prompt_translations, "
            "1 editor_link_uses",
            # the first picture, the grid's shown file, input and two tiles, and the
            # community style's reference picture
            f"images: 6 copied to {shared}, 0 missing",
        ]
        copied = pg_rows(url, "SELECT id, image_path FROM generations ORDER BY created_at")
        assert [r["id"] for r in copied] == [made["parent"], made["child"], made["grid"]]
        assert copied[0]["image_path"] == str((shared / f"{made['parent']}.png").resolve())
        # The bot on PostgreSQL shows the copied history.
        shown = run_cli(
            ["history", "--platform", "telegram", "--user", "42"],
            base_env(tmp_path / "data", DATABASE_URL=url),
            cwd=tmp_path,
        )
        assert shown.returncode == 0, shown.stderr
        assert str(made["parent"]) in shown.stdout and str(made["child"]) in shown.stdout

        twice = run_cli(
            ["db", "copy", "--from", f"sqlite:///{sqlite_file}", "--to", url], env, cwd=tmp_path
        )
        assert twice.returncode == 2
        assert "already holds history or settings" in twice.stderr
        assert "Traceback" not in twice.stderr


def test_db_copy_names_a_wrong_url_plainly(tmp_path: Path) -> None:
    result = run_cli(
        ["db", "copy", "--from", "mysql://x/y", "--to", "sqlite:///b.sqlite3"],
        base_env(tmp_path / "data"),
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "use sqlite:///path or postgresql://user@host/dbname" in result.stderr
    assert "Traceback" not in result.stderr
