"""Choosing the store from DATABASE_URL: one place, called by bootstrap and the CLI."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bot.core.errors import StoreUnavailable
from bot.core.store.base import Store
from bot.settings import ConfigError, Settings


class BadDatabaseUrl(ValueError):
    """DATABASE_URL is neither sqlite:///... nor postgresql://...; the message says which."""


def sqlite_path(url: str) -> Path:
    """`sqlite:///relative/file` or `sqlite:////absolute/file` (SQLAlchemy's spelling)."""
    parts = urlsplit(url)
    if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
        raise BadDatabaseUrl(
            "DATABASE_URL: write sqlite:///data/bot.sqlite3 (a relative path) or "
            "sqlite:////var/lib/bot.sqlite3 (an absolute one)"
        )
    return Path(unquote(parts.path[1:]))


def kind_of(url: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    if scheme == "sqlite":
        return "sqlite"
    if scheme in ("postgresql", "postgres"):
        return "postgresql"
    raise BadDatabaseUrl(
        f"DATABASE_URL starts with {scheme or 'no scheme'}; use sqlite:///path or "
        "postgresql://user@host/dbname"
    )


async def open_url(target: Path | str, *, migrate: bool = True) -> Store:
    """A path or sqlite:/// URL opens the SQLite store; postgresql:// the PostgreSQL one."""
    if isinstance(target, Path):
        from bot.core.store.sqlite import SQLiteStore

        return await SQLiteStore.open_path(target, migrate=migrate)
    if kind_of(target) == "sqlite":
        from bot.core.store.sqlite import SQLiteStore

        return await SQLiteStore.open_path(sqlite_path(target), migrate=migrate)
    from bot.core.store.postgres import PostgresStore

    return await PostgresStore.open_url(target, migrate=migrate)


Store.opener = open_url


def database_target(database_url: str | None, default_path: Path) -> Path | str:
    """DATABASE_URL when set, else today's file under DATA_DIR."""
    return database_url if database_url else default_path


async def open_store(
    database_url: str | None, default_path: Path, *, migrate: bool = True
) -> Store:
    """The store the settings ask for: DATABASE_URL, or the SQLite file under DATA_DIR."""
    return await open_url(database_target(database_url, default_path), migrate=migrate)


async def open_configured_store(settings: Settings, *, migrate: bool = True) -> Store:
    """The store DATABASE_URL names (or the SQLite file under DATA_DIR), with start-up
    failures as one sentence naming the setting (never the URL: it may hold a password)."""
    from bot.startup import StartupError, host_of

    url = settings.database_url.get_secret_value() if settings.database_url else None
    try:
        return await open_store(url, settings.database_path, migrate=migrate)
    except BadDatabaseUrl as exc:
        raise ConfigError(str(exc)) from None
    except StoreUnavailable:
        raise StartupError(
            f"PostgreSQL did not answer at {host_of(url, 'DATABASE_URL')}; start it or fix "
            "DATABASE_URL"
        ) from None
    except (OSError, sqlite3.Error) as exc:
        setting = "DATABASE_URL" if url else "DATA_DIR"
        where = f" ({settings.data_dir})" if not url else ""
        raise ConfigError(
            f"cannot open the database under {setting}{where}: "
            f"{getattr(exc, 'strerror', None) or exc}; set {setting} to a folder this user "
            "may write"
        ) from None
    except Exception as exc:
        if url is None or kind_of(url) != "postgresql":
            raise
        # asyncpg's PostgresError: the server's words (no database, wrong password), never the URL.
        raise StartupError(f"PostgreSQL refused DATABASE_URL: {exc}; fix DATABASE_URL") from None
