"""SQLite history and settings through aiosqlite, with a numbered-migration runner.

The bot process is the only writer. Status changes are guarded in SQL (`WHERE status IN`),
so a duplicate completion event or a replayed job can never move a row backwards.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from bot.core import retention
from bot.core.models import Generation, HandleValue, Status

log = logging.getLogger(__name__)

_COLUMNS = (
    "id, platform, scope_id, chat_id, thread_id, reply_to_message_id, user_id, user_name, prompt, "
    "negative_prompt, style, aspect, seed, parent_id, provider, model, status, failure_code, "
    "failure_reason, revised_prompt, image_path, image_width, image_height, handle, "
    "delivery_attempts, delivery_error, provider_calls, created_at, started_at, finished_at, "
    "delivered_at"
)


def migrations_dir() -> Path:
    """`migrations/` beside the package in a checkout, or `bot/migrations` in an installed wheel."""
    packaged = Path(str(resources.files("bot"))) / "migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "migrations"


def _row_to_generation(row: sqlite3.Row) -> Generation:
    data = dict(row)
    data["handle"] = json.loads(data["handle"] or "{}")
    data["status"] = Status(data["status"])
    return Generation(**data)


class Store:
    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    async def open(cls, path: Path, *, migrate: bool = True) -> Store:
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: autocommit, so a write is one trip to aiosqlite's thread.
        db = await aiosqlite.connect(path, isolation_level=None)
        db.row_factory = sqlite3.Row
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA busy_timeout=5000")
        store = cls(db, path)
        if migrate:
            await store.migrate()
        return store

    async def close(self) -> None:
        await self._db.close()

    # -- migrations ---------------------------------------------------------------------------

    async def schema_version(self) -> int:
        await self._db.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at REAL)"
        )
        row = await self._fetchone("SELECT MAX(version) FROM schema_version")
        return int(row[0]) if row and row[0] is not None else 0

    async def migrate(self, directory: Path | None = None) -> list[int]:
        """Apply every `NNN_name.sql` newer than the recorded version, each in one transaction."""
        directory = directory or migrations_dir()
        current = await self.schema_version()
        applied: list[int] = []
        for file in sorted(directory.glob("*.sql")):
            version = int(file.name.split("_", 1)[0])
            if version <= current:
                continue
            script = file.read_text(encoding="utf-8")
            await self._db.executescript(
                f"BEGIN;\n{script}\nINSERT INTO schema_version VALUES ({version}, {time.time()});\nCOMMIT;"
            )
            applied.append(version)
            log.info("applied migration %s", file.name)
        return applied

    # -- generations ----------------------------------------------------------------------------

    async def insert_generation(self, values: dict[str, Any]) -> Generation:
        values = {**values, "handle": json.dumps(values.get("handle") or {})}
        names = ", ".join(values)
        marks = ", ".join(f":{k}" for k in values)
        row = await self._fetchone(
            f"INSERT INTO generations ({names}) VALUES ({marks}) RETURNING {_COLUMNS}",  # noqa: S608 - names are ours
            values,
        )
        assert row is not None
        return _row_to_generation(row)

    async def get(self, generation_id: str) -> Generation | None:
        row = await self._fetchone(
            f"SELECT {_COLUMNS} FROM generations WHERE id = ?",  # noqa: S608
            (generation_id,),
        )
        return _row_to_generation(row) if row else None

    async def _update(self, sql: str, params: Sequence[Any]) -> bool:
        # Autocommit: one statement, one trip to the database thread.
        cursor = await self._db.execute(sql, params)
        return cursor.rowcount > 0

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return list(await self._db.execute_fetchall(sql, params))

    async def _fetchone(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> sqlite3.Row | None:
        rows = await self._db.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def _transition(self, sql: str, params: Sequence[Any]) -> Generation | None:
        """A guarded status change; returns the changed row, or None when the guard held."""
        row = await self._fetchone(f"{sql} RETURNING {_COLUMNS}", params)
        return _row_to_generation(row) if row else None

    async def mark_running(self, generation_id: str, provider: str | None) -> Generation | None:
        return await self._transition(
            "UPDATE generations SET status = 'running', started_at = COALESCE(started_at, ?), "
            "provider = COALESCE(?, provider) WHERE id = ? AND status IN ('queued', 'running')",
            (time.time(), provider, generation_id),
        )

    async def mark_done(
        self,
        generation_id: str,
        *,
        provider: str,
        model: str,
        image_path: str,
        width: int,
        height: int,
        revised_prompt: str | None,
        provider_calls: int,
        seed: int | None,
    ) -> Generation | None:
        return await self._transition(
            "UPDATE generations SET status = 'done', provider = ?, model = ?, image_path = ?, "
            "image_width = ?, image_height = ?, revised_prompt = ?, provider_calls = ?, "
            "seed = COALESCE(?, seed), finished_at = ?, started_at = COALESCE(started_at, ?) "
            "WHERE id = ? AND status IN ('queued', 'running')",
            (
                provider,
                model,
                image_path,
                width,
                height,
                revised_prompt,
                provider_calls,
                seed,
                time.time(),
                time.time(),
                generation_id,
            ),
        )

    async def mark_failed(
        self, generation_id: str, code: str, reason: str, *, provider_calls: int | None = None
    ) -> Generation | None:
        return await self._transition(
            "UPDATE generations SET status = 'failed', failure_code = ?, failure_reason = ?, "
            "provider_calls = COALESCE(?, provider_calls), finished_at = ? "
            "WHERE id = ? AND status IN ('queued', 'running', 'done')",
            (code, reason, provider_calls, time.time(), generation_id),
        )

    async def mark_delivered(self, generation_id: str) -> Generation | None:
        return await self._transition(
            "UPDATE generations SET status = 'delivered', delivered_at = ?, delivery_error = NULL "
            "WHERE id = ? AND status = 'done'",
            (time.time(), generation_id),
        )

    async def record_delivery_attempt(self, generation_id: str, error: str | None) -> int:
        await self._db.execute(
            "UPDATE generations SET delivery_attempts = delivery_attempts + 1, delivery_error = ? "
            "WHERE id = ?",
            (error, generation_id),
        )
        row = await self._fetchone(
            "SELECT delivery_attempts FROM generations WHERE id = ?", (generation_id,)
        )
        return int(row[0]) if row else 0

    async def update_handle(self, generation_id: str, changes: dict[str, HandleValue]) -> None:
        """Merge keys into the delivery handle (e.g. "a new message was sent" markers)."""
        gen = await self.get(generation_id)
        if gen is None:
            return
        await self._update(
            "UPDATE generations SET handle = ? WHERE id = ?",
            (json.dumps({**gen.handle, **changes}), generation_id),
        )

    async def unfinished(self) -> list[Generation]:
        rows = await self._fetchall(
            f"SELECT {_COLUMNS} FROM generations WHERE status IN ('queued', 'running', 'done') "  # noqa: S608
            "ORDER BY created_at"
        )
        return [_row_to_generation(r) for r in rows]

    async def history(
        self, platform: str, user_id: str, limit: int = 10, *, scope_id: str | None = None
    ) -> list[Generation]:
        """Newest first; with `scope_id`, only the rows made in that scope."""
        rows = await self._fetchall(
            f"SELECT {_COLUMNS} FROM generations WHERE platform = ? AND user_id = ? "  # noqa: S608
            "AND (? IS NULL OR scope_id = ?) ORDER BY created_at DESC LIMIT ?",
            (platform, user_id, scope_id, scope_id, limit),
        )
        return [_row_to_generation(r) for r in rows]

    async def delete(self, generation_id: str) -> bool:
        return await self._update("DELETE FROM generations WHERE id = ?", (generation_id,))

    async def count_by_status(self) -> dict[str, int]:
        rows = await self._fetchall("SELECT status, COUNT(*) FROM generations GROUP BY status")
        return {str(r[0]): int(r[1]) for r in rows}

    async def accepted_since(self, since: float) -> list[tuple[str, str, str]]:
        """(platform, user_id, scope_id) of every request accepted since `since` (for quotas)."""
        rows = await self._fetchall(
            "SELECT platform, user_id, scope_id FROM generations WHERE created_at >= ? "
            "AND COALESCE(failure_code, '') != 'queue_unavailable'",
            (since,),
        )
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    async def pending(self) -> list[tuple[str, str, str]]:
        """(id, platform, user_id) of every queued or running request."""
        rows = await self._fetchall(
            "SELECT id, platform, user_id FROM generations WHERE status IN ('queued', 'running')"
        )
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    async def stale(self, created_before: float) -> list[Generation]:
        rows = await self._fetchall(
            f"SELECT {_COLUMNS} FROM generations WHERE status IN ('queued', 'running') "  # noqa: S608
            "AND created_at < ?",
            (created_before,),
        )
        return [_row_to_generation(r) for r in rows]

    async def purge_before(self, created_before: float) -> list[str]:
        """Delete finished rows older than the cut-off, in one transaction; return image paths."""
        return await retention.purge_before(self.path, created_before)

    async def forget_user(self, platform: str, user_id: str) -> list[str]:
        """Delete a user's history, refusals and settings in one transaction; return image paths."""
        return await retention.forget_user(self.path, platform, user_id)

    async def record_refusal(
        self, platform: str, scope_id: str, user_id: str, code: str, reason: str
    ) -> None:
        await self._update(
            "INSERT INTO refusals (platform, scope_id, user_id, code, reason, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (platform, scope_id, user_id, code, reason, time.time()),
        )

    async def recent_refusals(
        self, platform: str, scope_id: str, limit: int = 10
    ) -> list[dict[str, Any]]:
        """Refusals before queueing and provider refusals, newest first."""
        rows = await self._fetchall(
            "SELECT user_id, code, reason, created_at FROM refusals "
            "WHERE platform = ? AND scope_id = ? "
            "UNION ALL SELECT user_id, failure_code, failure_reason, created_at FROM generations "
            "WHERE platform = ? AND scope_id = ? AND failure_code IN ('refused', 'censored') "
            "ORDER BY created_at DESC LIMIT ?",
            (platform, scope_id, platform, scope_id, limit),
        )
        return [dict(r) for r in rows]

    async def scope_nsfw(self, platform: str, scope_id: str) -> bool:
        row = await self._fetchone(
            "SELECT nsfw FROM scope_settings WHERE platform = ? AND scope_id = ?",
            (platform, scope_id),
        )
        return bool(row[0]) if row else False

    async def set_scope_nsfw(self, platform: str, scope_id: str, allowed: bool) -> None:
        await self._update(
            "INSERT INTO scope_settings (platform, scope_id, nsfw, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (platform, scope_id) DO UPDATE SET nsfw = excluded.nsfw, "
            "updated_at = excluded.updated_at",
            (platform, scope_id, int(allowed), time.time()),
        )

    async def scope_limits(self, platform: str, scope_id: str) -> tuple[int | None, int | None]:
        """(daily per user, daily per scope) that the scope's admins set, if any."""
        row = await self._fetchone(
            "SELECT daily_limit_per_user, daily_limit_per_scope FROM scope_settings "
            "WHERE platform = ? AND scope_id = ?",
            (platform, scope_id),
        )
        return (row[0], row[1]) if row else (None, None)

    async def set_scope_limits(
        self, platform: str, scope_id: str, per_user: int | None, per_scope: int | None
    ) -> None:
        await self._update(
            "INSERT INTO scope_settings (platform, scope_id, daily_limit_per_user, "
            "daily_limit_per_scope, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, scope_id) DO UPDATE SET "
            "daily_limit_per_user = excluded.daily_limit_per_user, "
            "daily_limit_per_scope = excluded.daily_limit_per_scope, updated_at = excluded.updated_at",
            (platform, scope_id, per_user, per_scope, time.time()),
        )

    async def scope_pending_limit(self, platform: str, scope_id: str) -> int | None:
        """The limit on a user's waiting requests that the scope's admins set, if any."""
        row = await self._fetchone(
            "SELECT max_pending_per_user FROM scope_settings WHERE platform = ? AND scope_id = ?",
            (platform, scope_id),
        )
        return int(row[0]) if row and row[0] is not None else None

    async def set_scope_pending_limit(
        self, platform: str, scope_id: str, pending: int | None
    ) -> None:
        await self._update(
            "INSERT INTO scope_settings (platform, scope_id, max_pending_per_user, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (platform, scope_id) DO UPDATE SET "
            "max_pending_per_user = excluded.max_pending_per_user, updated_at = excluded.updated_at",
            (platform, scope_id, pending, time.time()),
        )

    # -- settings -------------------------------------------------------------------------------

    async def scope_settings(self, platform: str, scope_id: str) -> tuple[str | None, list[str]]:
        row = await self._fetchone(
            "SELECT default_style, allowed_styles FROM scope_settings "
            "WHERE platform = ? AND scope_id = ?",
            (platform, scope_id),
        )
        if row is None:
            return None, []
        return row[0], list(json.loads(row[1]))

    async def set_scope_settings(
        self, platform: str, scope_id: str, default_style: str | None, allowed: Iterable[str]
    ) -> None:
        await self._update(
            "INSERT INTO scope_settings (platform, scope_id, default_style, allowed_styles, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, scope_id) DO UPDATE SET "
            "default_style = excluded.default_style, allowed_styles = excluded.allowed_styles, "
            "updated_at = excluded.updated_at",
            (platform, scope_id, default_style, json.dumps(list(allowed)), time.time()),
        )

    async def user_style(self, platform: str, user_id: str) -> str | None:
        row = await self._fetchone(
            "SELECT default_style FROM user_settings WHERE platform = ? AND user_id = ?",
            (platform, user_id),
        )
        return row[0] if row else None

    async def set_user_style(self, platform: str, user_id: str, style: str | None) -> None:
        await self._update(
            "INSERT INTO user_settings (platform, user_id, default_style, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (platform, user_id) DO UPDATE SET "
            "default_style = excluded.default_style, updated_at = excluded.updated_at",
            (platform, user_id, style, time.time()),
        )

    async def get_state(self, key: str) -> str | None:
        row = await self._fetchone("SELECT value FROM state WHERE key = ?", (key,))
        return str(row[0]) if row else None

    async def set_state(self, key: str, value: str) -> None:
        await self._update(
            "INSERT INTO state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
