"""The store's one interface: history, settings, refusals and state, in SQL both databases speak.

Every query is written once, with `?` placeholders, in the SQL that SQLite and PostgreSQL share
(`ON CONFLICT ... DO UPDATE`, `RETURNING`, `CAST`); a backend supplies four primitives (fetch,
execute, a transaction, the handle merge) and its migrations. Status changes are guarded in SQL
(`WHERE status IN`), so a duplicate completion event or a replayed job never moves a row back.
"""

from __future__ import annotations

import json
import time
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from bot.core.models import Generation, HandlePart, HandleValue, Status
from bot.core.store.executor import Executor, Row
from bot.core.store.images import ImageQueries
from bot.core.store.rows import NewGeneration, Refusal
from bot.core.store.scopes import ScopeQueries
from bot.core.store.settings import SettingsQueries
from bot.core.store.styles import StyleQueries
from bot.core.store.translations import TranslationQueries, forget_translations

T = TypeVar("T")

COLUMNS = (
    "id, platform, scope_id, chat_id, thread_id, reply_to_message_id, user_id, user_name, prompt, "
    "negative_prompt, style, aspect, seed, parent_id, provider, model, status, failure_code, "
    "failure_reason, revised_prompt, image_path, image_width, image_height, handle, "
    "delivery_attempts, delivery_error, provider_calls, created_at, started_at, finished_at, "
    "delivered_at, kind, count, parent_index, input_path, strength, crop_note, suggestions, "
    "edit_note, locale, prompt_english, negative_english"
)
FINISHED = "('failed', 'delivered')"

# A user's rows and, through `parent_id`, every row made from them that carries their prompt
# (reroll, restyle, upscale, vary, "Imagine this" of their /describe) or their picture (any
# request with an input picture, which is a copy of theirs): erased together by /forget_me.
# A remix without an input picture has its maker's own prompt and none of their pixels; it
# stays, and so do rows made from it. One statement, on SQLite and PostgreSQL alike.
DERIVED_FROM_THEM = (
    "WITH RECURSIVE doomed(id) AS ("
    " SELECT id FROM generations WHERE platform = ? AND user_id = ?"
    " UNION"
    " SELECT g.id FROM generations g JOIN doomed d ON g.parent_id = d.id"
    " WHERE g.kind <> 'remix' OR g.input_path IS NOT NULL"
    ") DELETE FROM generations WHERE id IN (SELECT id FROM doomed) "
    "RETURNING image_path, input_path, prompt, negative_prompt"
)


def migrations_dir() -> Path:
    """`migrations/` beside the package in a checkout, or `bot/migrations` in an installed wheel."""
    packaged = Path(str(resources.files("bot"))) / "migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "migrations"


def migration_files(directory: Path) -> list[tuple[int, Path]]:
    """`NNN_name.sql` files in version order (sub-folders, such as `postgres/`, are not read)."""
    files = [(int(f.name.split("_", 1)[0]), f) for f in directory.glob("*.sql")]
    return sorted(files)


def row_to_generation(row: Row) -> Generation:
    data = dict(row)
    data["handle"] = json.loads(data["handle"] or "{}")
    data["status"] = Status(data["status"])
    data["suggestions"] = tuple(json.loads(data["suggestions"] or "[]"))
    return Generation(**data)


class Store(SettingsQueries, ImageQueries, ScopeQueries, StyleQueries, TranslationQueries):
    """History and settings. `Store.open(path_or_url)` picks SQLite or PostgreSQL."""

    backend = "abstract"

    # Installed by bot.core.store.factory, which the package loads with this module: the
    # interface cannot import the backends that implement it.
    opener: ClassVar[Callable[..., Awaitable[Store]]]

    @classmethod
    async def open(cls, target: Path | str, *, migrate: bool = True) -> Store:
        return await Store.opener(target, migrate=migrate)

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def schema_version(self) -> int: ...

    @abstractmethod
    async def migrate(self, directory: Path | None = None) -> list[int]:
        """Apply every migration newer than the recorded version, under a lock held across
        processes, each in one transaction; return the versions applied."""

    @abstractmethod
    async def transaction(self, body: Callable[[Executor], Awaitable[T]]) -> T:
        """Run `body` in one transaction (retried whole where the backend retries)."""

    @abstractmethod
    def handle_merge_sql(self, changes: dict[str, HandleValue]) -> tuple[str, list[Any]]:
        """An SQL expression merging `changes` into the `handle` column, keeping null values."""

    @abstractmethod
    def handle_key_sql(self, key: str) -> tuple[str, str, list[Any]]:
        """(the handle without `key`, the text value of `key` or NULL) as SQL expressions,
        and the parameter each takes (one, the same for both)."""

    # -- generations ----------------------------------------------------------------------------

    async def insert_generation(self, row: NewGeneration) -> Generation:
        """Idempotent on the id: a retried insert whose first try was stored returns that row."""
        values = row.columns()
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        inserted = await self.fetchone(
            f"INSERT INTO generations ({names}) VALUES ({marks}) "  # noqa: S608 - the fields' names
            f"ON CONFLICT (id) DO NOTHING RETURNING {COLUMNS}",
            list(values.values()),
        )
        if inserted is None:
            existing = await self.get(row.id)
            assert existing is not None
            return existing
        return row_to_generation(inserted)

    async def get(self, generation_id: str) -> Generation | None:
        row = await self.fetchone(
            f"SELECT {COLUMNS} FROM generations WHERE id = ?",  # noqa: S608
            (generation_id,),
        )
        return row_to_generation(row) if row else None

    async def _transition(self, sql: str, params: Sequence[Any]) -> Generation | None:
        """A guarded status change; returns the changed row, or None when the guard held."""
        row = await self.fetchone(f"{sql} RETURNING {COLUMNS}", params)
        return row_to_generation(row) if row else None

    async def mark_running(self, generation_id: str, provider: str | None) -> Generation | None:
        return await self._transition(
            "UPDATE generations SET status = 'running', started_at = COALESCE(started_at, ?), "
            "provider = COALESCE(CAST(? AS TEXT), provider) "
            "WHERE id = ? AND status IN ('queued', 'running')",
            (time.time(), provider, generation_id),
        )

    async def mark_done(
        self,
        generation_id: str,
        *,
        provider: str,
        model: str,
        image_path: str | None,
        width: int | None,
        height: int | None,
        revised_prompt: str | None,
        provider_calls: int,
        seed: int | None,
    ) -> Generation | None:
        now = time.time()
        return await self._transition(
            "UPDATE generations SET status = 'done', provider = ?, model = ?, "
            "image_path = CAST(? AS TEXT), image_width = CAST(? AS INTEGER), "
            "image_height = CAST(? AS INTEGER), revised_prompt = ?, provider_calls = ?, "
            "seed = COALESCE(CAST(? AS BIGINT), seed), finished_at = ?, "
            "started_at = COALESCE(started_at, ?) "
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
                now,
                now,
                generation_id,
            ),
        )

    async def mark_failed(
        self, generation_id: str, code: str, reason: str, *, provider_calls: int | None = None
    ) -> Generation | None:
        return await self._transition(
            "UPDATE generations SET status = 'failed', failure_code = ?, failure_reason = ?, "
            "provider_calls = COALESCE(CAST(? AS INTEGER), provider_calls), finished_at = ? "
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
        row = await self.fetchone(
            "UPDATE generations SET delivery_attempts = delivery_attempts + 1, "
            "delivery_error = CAST(? AS TEXT) WHERE id = ? RETURNING delivery_attempts",
            (error, generation_id),
        )
        return int(row[0]) if row else 0

    async def update_handle(
        self, generation_id: str, changes: HandlePart | Mapping[str, HandleValue]
    ) -> None:
        """Merge keys into the delivery handle (e.g. "a new message was sent" markers), in one
        statement, so two writers never lose each other's keys."""
        changes = changes.stored() if isinstance(changes, HandlePart) else dict(changes)
        if not changes:
            return
        merged, params = self.handle_merge_sql(changes)
        await self.execute(
            f"UPDATE generations SET handle = {merged} WHERE id = ?",  # noqa: S608 - ours
            [*params, generation_id],
        )

    async def take_handle_value(self, generation_id: str, key: str, expected: str) -> bool:
        """Compare-and-clear in one statement: remove `key` if it holds `expected`. True for
        exactly one of any number of concurrent callers (a single-use handle, such as who may
        answer a Remix prompt)."""
        without, value, param = self.handle_key_sql(key)
        changed = await self.execute(
            f"UPDATE generations SET handle = {without} "  # noqa: S608 - ours
            f"WHERE id = ? AND {value} = ?",
            [*param, generation_id, *param, expected],
        )
        return changed == 1

    async def claim_handle_key(self, generation_id: str, key: str, value: HandleValue) -> bool:
        """Set `key` only if it is unset, in one statement: True for exactly one caller (a
        marker set before a send that must happen once)."""
        merged, params = self.handle_merge_sql({key: value})
        _, current, param = self.handle_key_sql(key)
        changed = await self.execute(
            f"UPDATE generations SET handle = {merged} "  # noqa: S608 - ours
            f"WHERE id = ? AND {current} IS NULL",
            [*params, generation_id, *param],
        )
        return changed == 1

    async def unfinished(self) -> list[Generation]:
        rows = await self.fetch(
            f"SELECT {COLUMNS} FROM generations WHERE status IN ('queued', 'running', 'done') "  # noqa: S608
            "ORDER BY created_at"
        )
        return [row_to_generation(r) for r in rows]

    async def history(
        self, platform: str, user_id: str, limit: int = 10, *, scope_id: str | None = None
    ) -> list[Generation]:
        """Newest first; with `scope_id`, only the rows made in that scope."""
        rows = await self.fetch(
            f"SELECT {COLUMNS} FROM generations WHERE platform = ? AND user_id = ? "  # noqa: S608
            "AND (CAST(? AS TEXT) IS NULL OR scope_id = ?) ORDER BY created_at DESC LIMIT ?",
            (platform, user_id, scope_id, scope_id, limit),
        )
        return [row_to_generation(r) for r in rows]

    async def latest(
        self, limit: int, *, platform: str | None = None, user_id: str | None = None
    ) -> list[Generation]:
        """The newest requests of every platform and user, or of the one(s) named; newest first."""
        rows = await self.fetch(
            f"SELECT {COLUMNS} FROM generations "  # noqa: S608
            "WHERE (CAST(? AS TEXT) IS NULL OR platform = ?) "
            "AND (CAST(? AS TEXT) IS NULL OR user_id = ?) ORDER BY created_at DESC LIMIT ?",
            (platform, platform, user_id, user_id, limit),
        )
        return [row_to_generation(r) for r in rows]

    async def delete(self, generation_id: str) -> bool:
        return await self.execute("DELETE FROM generations WHERE id = ?", (generation_id,)) > 0

    async def count_by_status(self) -> dict[str, int]:
        rows = await self.fetch("SELECT status, COUNT(*) FROM generations GROUP BY status")
        return {str(r[0]): int(r[1]) for r in rows}

    async def accepted_since(self, since: float) -> list[tuple[str, str, str]]:
        """(platform, user_id, scope_id) of every request accepted since `since` (for quotas)."""
        rows = await self.fetch(
            "SELECT platform, user_id, scope_id FROM generations WHERE created_at >= ? "
            "AND COALESCE(failure_code, '') != 'queue_unavailable'",
            (float(since),),
        )
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    async def pending(self) -> list[tuple[str, str, str]]:
        """(id, platform, user_id) of every queued or running request."""
        rows = await self.fetch(
            "SELECT id, platform, user_id FROM generations WHERE status IN ('queued', 'running')"
        )
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    async def stale(self, created_before: float) -> list[Generation]:
        rows = await self.fetch(
            f"SELECT {COLUMNS} FROM generations WHERE status IN ('queued', 'running') "  # noqa: S608
            "AND created_at < ?",
            (float(created_before),),
        )
        return [row_to_generation(r) for r in rows]

    async def purge_before(self, created_before: float) -> list[str]:
        """Delete finished rows and refusals older than the cut-off, in one transaction; return
        the rows' image and input paths (each names all of its request's files, see
        `imagefiles`). Rows still queued, running or done are kept whatever their age."""
        cutoff = float(created_before)

        async def purge(tx: Executor) -> list[str]:
            rows = await tx.fetch(
                f"DELETE FROM generations WHERE created_at < ? AND status IN {FINISHED} "  # noqa: S608 - a constant
                "RETURNING image_path, input_path",
                (cutoff,),
            )
            await tx.execute("DELETE FROM refusals WHERE created_at < ?", (cutoff,))
            # A brush-editor link's use matters only while the link could still open.
            await tx.execute("DELETE FROM editor_link_uses WHERE expires_at < ?", (cutoff,))
            await tx.execute("DELETE FROM prompt_translations WHERE created_at < ?", (cutoff,))
            return [str(path) for r in rows for path in (r[0], r[1]) if path is not None]

        return await self.transaction(purge)

    async def forget_user(self, platform: str, user_id: str) -> list[str]:
        """Delete a user's history, refusals and settings in one transaction, with every row
        anyone made from theirs that still holds their prompt or their picture (see
        `DERIVED_FROM_THEM`); return the image and input paths (removing one of a request's
        files removes them all)."""
        who = (platform, user_id)

        async def forget(tx: Executor) -> list[str]:
            rows = await tx.fetch(DERIVED_FROM_THEM, who)
            await tx.execute("DELETE FROM refusals WHERE platform = ? AND user_id = ?", who)
            await tx.execute("DELETE FROM user_settings WHERE platform = ? AND user_id = ?", who)
            # The styles they made stay the community's; only their name leaves them.
            await tx.execute(
                "UPDATE community_styles SET created_by = NULL, created_by_name = NULL "
                "WHERE platform = ? AND created_by = ?",
                who,
            )
            await tx.execute("DELETE FROM editor_link_uses WHERE platform = ? AND user_id = ?", who)
            # Their words' translations (cached by text, shared by anyone who wrote the same).
            await forget_translations(tx, [t for r in rows for t in (r[2], r[3])])
            return [str(path) for r in rows for path in (r[0], r[1]) if path is not None]

        return await self.transaction(forget)

    # -- refusals -------------------------------------------------------------------------------

    async def record_refusal(
        self, platform: str, scope_id: str, user_id: str, code: str, reason: str
    ) -> None:
        await self.execute(
            "INSERT INTO refusals (platform, scope_id, user_id, code, reason, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (platform, scope_id, user_id, code, reason, time.time()),
        )

    async def recent_refusals(self, platform: str, scope_id: str, limit: int = 10) -> list[Refusal]:
        """Refusals before queueing and provider refusals, newest first."""
        rows = await self.fetch(
            "SELECT user_id, code, reason, created_at FROM refusals "
            "WHERE platform = ? AND scope_id = ? "
            "UNION ALL SELECT user_id, failure_code, failure_reason, created_at FROM generations "
            "WHERE platform = ? AND scope_id = ? AND failure_code IN ('refused', 'censored') "
            "ORDER BY created_at DESC LIMIT ?",
            (platform, scope_id, platform, scope_id, limit),
        )
        return [Refusal(str(r[0]), str(r[1]), str(r[2]), float(r[3])) for r in rows]
