"""Community styles: a scope's own styles, stored beside its settings (migration 010).

One row per style of a scope (`platform`, `scope_id`, `style_id`); `code` is derived from the
definition and `digest` is the whole of that derivation, so two scopes holding the same
definition share its code and a different definition never takes it. Reference pictures and
the preview are files the bot named; the row keeps their paths.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from bot.core.store.executor import Executor, Row

STYLE_COLUMNS = (
    "platform, scope_id, style_id, name, description, template, negative, aspect, count, "
    "provider, refs, hidden, private, code, digest, preview_path, created_by, created_by_name, "
    "created_at, updated_at"
)
T = TypeVar("T")
_NAMES = tuple(c.strip() for c in STYLE_COLUMNS.split(","))


def style_row(row: Row) -> dict[str, Any]:
    """A stored row as plain values (`refs` as a tuple of paths, flags as bools)."""
    data = dict(row)
    data["refs"] = tuple(str(p) for p in json.loads(data["refs"] or "[]"))
    data["hidden"] = bool(data["hidden"])
    data["private"] = bool(data["private"])
    return data


class StyleQueries(Executor):
    @abstractmethod
    async def transaction(self, body: Callable[[Executor], Awaitable[T]]) -> T: ...

    async def community_styles(self, platform: str, scope_id: str) -> list[dict[str, Any]]:
        """Every style of the scope, hidden ones too, oldest first."""
        rows = await self.fetch(
            f"SELECT {STYLE_COLUMNS} FROM community_styles "  # noqa: S608 - constants
            "WHERE platform = ? AND scope_id = ? ORDER BY created_at, style_id",
            (platform, scope_id),
        )
        return [style_row(r) for r in rows]

    async def community_style(
        self, platform: str, scope_id: str, style_id: str
    ) -> dict[str, Any] | None:
        row = await self.fetchone(
            f"SELECT {STYLE_COLUMNS} FROM community_styles "  # noqa: S608 - constants
            "WHERE platform = ? AND scope_id = ? AND style_id = ?",
            (platform, scope_id, style_id),
        )
        return style_row(row) if row is not None else None

    async def community_style_by_code(
        self, code: str, platform: str, scope_id: str
    ) -> dict[str, Any] | None:
        """The oldest visible style with this code that this scope may use: its own, or any
        scope's that is not private."""
        row = await self.fetchone(
            f"SELECT {STYLE_COLUMNS} FROM community_styles "  # noqa: S608 - constants
            "WHERE code = ? AND hidden = 0 "
            "AND (private = 0 OR (platform = ? AND scope_id = ?)) "
            "ORDER BY created_at, platform, scope_id LIMIT 1",
            (code, platform, scope_id),
        )
        return style_row(row) if row is not None else None

    async def code_digests(self, code: str) -> set[str]:
        """The digests stored under a code (one, unless a shorter code was taken first)."""
        rows = await self.fetch(
            "SELECT DISTINCT digest FROM community_styles WHERE code = ?", (code,)
        )
        return {str(r[0]) for r in rows}

    async def save_community_style(self, values: dict[str, Any]) -> None:
        """Insert or replace the scope's style (`style_id` may change on an edit: the old row
        is named by `old_style_id`)."""
        data = dict(values)
        old_id = data.pop("old_style_id", None)
        data["refs"] = json.dumps(list(data.get("refs", ())))
        data["hidden"] = int(bool(data.get("hidden")))
        data["private"] = int(bool(data.get("private")))
        params: Sequence[Any] = [data.get(name) for name in _NAMES]
        marks = ", ".join("?" for _ in _NAMES)

        async def save(tx: Executor) -> None:
            if old_id is not None:
                await tx.execute(
                    "DELETE FROM community_styles "
                    "WHERE platform = ? AND scope_id = ? AND style_id = ?",
                    (data["platform"], data["scope_id"], old_id),
                )
            await tx.execute(
                f"INSERT INTO community_styles ({STYLE_COLUMNS}) VALUES ({marks})",  # noqa: S608 - constants
                params,
            )

        await self.transaction(save)

    async def delete_community_style(self, platform: str, scope_id: str, style_id: str) -> bool:
        changed = await self.execute(
            "DELETE FROM community_styles WHERE platform = ? AND scope_id = ? AND style_id = ?",
            (platform, scope_id, style_id),
        )
        return changed > 0

    async def set_style_preview(
        self, platform: str, scope_id: str, style_id: str, path: str | None
    ) -> None:
        await self.execute(
            "UPDATE community_styles SET preview_path = ? "
            "WHERE platform = ? AND scope_id = ? AND style_id = ?",
            (path, platform, scope_id, style_id),
        )
