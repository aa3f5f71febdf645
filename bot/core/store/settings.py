"""Scope settings, user settings and small key/value state: the store's settings queries."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.core.store.executor import Executor


@dataclass(frozen=True)
class ScopeRow:
    """Everything a scope's admins set, read in one query."""

    default_style: str | None = None
    allowed_styles: tuple[str, ...] = ()
    nsfw: bool = False
    daily_limit_per_user: int | None = None
    daily_limit_per_scope: int | None = None
    max_pending_per_user: int | None = None
    max_count: int | None = None  # pictures per request
    language: str | None = None  # the community's default locale an admin chose
    members_language_wins: bool = True
    # The one person's own chosen locale, read with the scope's row when asked for (one query
    # per request: `scope_row(..., user_id=...)`); None when they chose none.
    user_language: str | None = None


class SettingsQueries(Executor):
    async def scope_row(self, platform: str, scope_id: str, user_id: str | None = None) -> ScopeRow:
        """Every setting of the scope in one query, and with `user_id` that person's own
        language in the same query; defaults when nobody set anything."""
        row = await self.fetchone(
            "SELECT s.default_style, s.allowed_styles, s.nsfw, s.daily_limit_per_user, "
            "s.daily_limit_per_scope, s.max_pending_per_user, s.max_count, s.language, "
            "s.members_language_wins, u.language, s.platform "
            "FROM (SELECT 1 AS one) AS base "
            "LEFT JOIN scope_settings AS s ON s.platform = ? AND s.scope_id = ? "
            "LEFT JOIN user_settings AS u ON u.platform = ? AND u.user_id = ?",
            (platform, scope_id, platform, user_id),
        )
        if row is None or row[10] is None:
            return ScopeRow(user_language=row[9] if row is not None else None)
        return ScopeRow(
            default_style=row[0],
            allowed_styles=tuple(json.loads(row[1])),
            nsfw=bool(row[2]),
            daily_limit_per_user=row[3],
            daily_limit_per_scope=row[4],
            max_pending_per_user=row[5],
            max_count=row[6],
            language=row[7],
            members_language_wins=bool(row[8]),
            user_language=row[9],
        )

    async def _upsert_scope(self, platform: str, scope_id: str, values: dict[str, Any]) -> None:
        names = ", ".join(values)
        updates = ", ".join(f"{k} = excluded.{k}" for k in (*values, "updated_at"))
        await self.execute(
            f"INSERT INTO scope_settings (platform, scope_id, {names}, updated_at) "  # noqa: S608 - ours
            f"VALUES (?, ?, {', '.join('?' for _ in values)}, ?) "
            f"ON CONFLICT (platform, scope_id) DO UPDATE SET {updates}",
            (platform, scope_id, *values.values(), time.time()),
        )

    async def scope_nsfw(self, platform: str, scope_id: str) -> bool:
        return (await self.scope_row(platform, scope_id)).nsfw

    async def set_scope_nsfw(self, platform: str, scope_id: str, allowed: bool) -> None:
        await self._upsert_scope(platform, scope_id, {"nsfw": int(allowed)})

    async def scope_limits(self, platform: str, scope_id: str) -> tuple[int | None, int | None]:
        """(daily per user, daily per scope) that the scope's admins set, if any."""
        row = await self.scope_row(platform, scope_id)
        return row.daily_limit_per_user, row.daily_limit_per_scope

    async def set_scope_limits(
        self, platform: str, scope_id: str, per_user: int | None, per_scope: int | None
    ) -> None:
        await self._upsert_scope(
            platform,
            scope_id,
            {"daily_limit_per_user": per_user, "daily_limit_per_scope": per_scope},
        )

    async def scope_pending_limit(self, platform: str, scope_id: str) -> int | None:
        """The limit on a user's waiting requests that the scope's admins set, if any."""
        return (await self.scope_row(platform, scope_id)).max_pending_per_user

    async def set_scope_pending_limit(
        self, platform: str, scope_id: str, pending: int | None
    ) -> None:
        await self._upsert_scope(platform, scope_id, {"max_pending_per_user": pending})

    async def set_scope_max_count(self, platform: str, scope_id: str, count: int | None) -> None:
        await self._upsert_scope(platform, scope_id, {"max_count": count})

    async def scope_settings(self, platform: str, scope_id: str) -> tuple[str | None, list[str]]:
        row = await self.scope_row(platform, scope_id)
        return row.default_style, list(row.allowed_styles)

    async def set_scope_settings(
        self, platform: str, scope_id: str, default_style: str | None, allowed: Iterable[str]
    ) -> None:
        await self._upsert_scope(
            platform,
            scope_id,
            {"default_style": default_style, "allowed_styles": json.dumps(list(allowed))},
        )

    async def set_scope_language(
        self, platform: str, scope_id: str, language: str | None, members_win: bool
    ) -> None:
        await self._upsert_scope(
            platform,
            scope_id,
            {"language": language, "members_language_wins": int(members_win)},
        )

    async def set_user_language(self, platform: str, user_id: str, language: str | None) -> None:
        await self.execute(
            "INSERT INTO user_settings (platform, user_id, language, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (platform, user_id) DO UPDATE SET "
            "language = excluded.language, updated_at = excluded.updated_at",
            (platform, user_id, language, time.time()),
        )

    async def user_style(self, platform: str, user_id: str) -> str | None:
        row = await self.fetchone(
            "SELECT default_style FROM user_settings WHERE platform = ? AND user_id = ?",
            (platform, user_id),
        )
        return row[0] if row else None

    async def set_user_style(self, platform: str, user_id: str, style: str | None) -> None:
        await self.execute(
            "INSERT INTO user_settings (platform, user_id, default_style, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (platform, user_id) DO UPDATE SET "
            "default_style = excluded.default_style, updated_at = excluded.updated_at",
            (platform, user_id, style, time.time()),
        )

    async def get_state(self, key: str) -> str | None:
        row = await self.fetchone("SELECT value FROM state WHERE key = ?", (key,))
        return str(row[0]) if row else None

    async def set_state(self, key: str, value: str) -> None:
        await self.execute(
            "INSERT INTO state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
