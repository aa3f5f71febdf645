"""DATABASE_URL picks the store; wrong values are named plainly, never echoed (passwords)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.store import BadDatabaseUrl, open_configured_store
from bot.core.store.factory import kind_of, sqlite_path
from bot.core.store.postgres import PostgresStore
from bot.core.store.sqlite import SQLiteStore
from bot.settings import ConfigError, Settings, load_settings
from bot.web.commands import web_config
from tests.support.postgres import create_database, drop_database, url_of


def test_sqlite_urls_relative_and_absolute() -> None:
    assert sqlite_path("sqlite:///data/bot.sqlite3") == Path("data/bot.sqlite3")
    assert sqlite_path("sqlite:////var/lib/bot.sqlite3") == Path("/var/lib/bot.sqlite3")
    for wrong in ("sqlite://host/file", "sqlite:///", "sqlite:"):
        with pytest.raises(BadDatabaseUrl, match=re.escape("sqlite:///data/bot.sqlite3")):
            sqlite_path(wrong)


def test_kinds_and_a_wrong_scheme() -> None:
    assert kind_of("postgresql://u@h/db") == kind_of("postgres://u@h/db") == "postgresql"
    assert kind_of("SQLITE:///x") == "sqlite"
    with pytest.raises(BadDatabaseUrl, match="starts with mysql; use sqlite"):
        kind_of("mysql://root:pw@h/db")


def test_settings_refuse_an_unknown_scheme_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root:s3cret-pass@db/bot")
    with pytest.raises(ConfigError) as refused:
        load_settings(_env_file=None)
    assert "DATABASE_URL is not valid" in str(refused.value)
    assert "s3cret-pass" not in str(refused.value)
    monkeypatch.setenv("DATABASE_URL", "  ")
    assert load_settings(_env_file=None).database_url is None


async def test_unset_means_the_file_under_data_dir(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    store = await open_configured_store(settings)
    try:
        assert isinstance(store, SQLiteStore) and store.path == tmp_path / "imaginebot.sqlite3"
        assert await store.schema_version() >= 3
    finally:
        await store.close()


async def test_a_sqlite_url_wins_over_data_dir(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "bot.sqlite3"
    settings = Settings(
        _env_file=None, data_dir=tmp_path / "data", database_url=f"sqlite:///{target}"
    )  # type: ignore[call-arg]
    store = await open_configured_store(settings)
    try:
        assert isinstance(store, SQLiteStore) and store.path == target
    finally:
        await store.close()
    assert target.exists() and not (tmp_path / "data" / "imaginebot.sqlite3").exists()


async def test_a_postgresql_url_opens_a_migrated_pool(tmp_path: Path) -> None:
    name = await create_database()
    try:
        settings = Settings(_env_file=None, data_dir=tmp_path, database_url=url_of(name))  # type: ignore[call-arg]
        store = await open_configured_store(settings)
        try:
            assert isinstance(store, PostgresStore) and await store.schema_version() >= 3
        finally:
            await store.close()
    finally:
        await drop_database(name)


async def test_a_missing_postgresql_database_is_named_plainly(tmp_path: Path) -> None:
    from bot.startup import StartupError

    settings = Settings(
        _env_file=None, data_dir=tmp_path, database_url=url_of("imaginebot_no_such_db")
    )  # type: ignore[call-arg]
    with pytest.raises(StartupError, match='database "imaginebot_no_such_db" does not exist'):
        await open_configured_store(settings)


def test_the_sqlite_file_everyone_opens_follows_a_sqlite_url(tmp_path: Path) -> None:
    # The web gallery opens `database_path` itself: it must be the bot's file.
    target = tmp_path / "elsewhere" / "bot.sqlite3"
    on_url = Settings(_env_file=None, data_dir=tmp_path, database_url=f"sqlite:///{target}")  # type: ignore[call-arg]
    assert on_url.database_path == target
    default = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert default.database_path == tmp_path / "imaginebot.sqlite3"


def test_the_gallery_reads_postgresql_when_the_store_is_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:pw-secret-1@db/bot")
    monkeypatch.setenv("WEB_PORT", "8090")
    config = web_config(load_settings(_env_file=None))
    assert config.database_url == "postgresql://bot:pw-secret-1@db/bot"
    assert "pw-secret-1" not in repr(config)  # the password is never printed with it
