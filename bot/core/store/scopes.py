"""A scope as a whole: moving a chat's records to its new id, and its waiting requests.

A Telegram basic group that becomes a supergroup gets a new chat id; everything the bot keeps
under the old id (its rows, settings, refusals, the gallery that reads them) moves in one
transaction. Running it again (a second bot process that saw the same migration, or the
service message after a `ChatMigrated` answer) finds nothing left under the old id: a no-op.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.core.models import HandleValue
from bot.core.ports import MOVED_FROM_CHAT
from bot.core.store.executor import Executor

T = TypeVar("T")

UNFINISHED = "('queued', 'running', 'done')"


@dataclass(frozen=True)
class ChatMove:
    """What moved: rows (of which unfinished), settings rows, refusals."""

    rows: int = 0
    unfinished: int = 0
    settings: int = 0
    refusals: int = 0

    @property
    def anything(self) -> bool:
        return bool(self.rows or self.settings or self.refusals)


class ScopeQueries(Executor):
    @abstractmethod
    async def transaction(self, body: Callable[[Executor], Awaitable[T]]) -> T: ...

    @abstractmethod
    def handle_merge_sql(self, changes: dict[str, HandleValue]) -> tuple[str, list[Any]]: ...

    async def move_chat(self, platform: str, old_chat: str, new_chat: str) -> ChatMove:
        """Re-key everything kept under `old_chat` (as chat and as scope) to `new_chat`, in one
        transaction. Settings the new chat already has win over the old chat's."""
        merged, merge_params = self.handle_merge_sql(
            # Message ids of the old chat mean nothing (or another message) in the new one.
            {"status_message_id": None, MOVED_FROM_CHAT: old_chat}
        )

        async def move(tx: Executor) -> ChatMove:
            unfinished = await tx.execute(
                f"UPDATE generations SET handle = {merged} "  # noqa: S608 - ours
                f"WHERE platform = ? AND chat_id = ? AND status IN {UNFINISHED}",
                [*merge_params, platform, old_chat],
            )
            rows = await tx.execute(
                "UPDATE generations SET chat_id = ?, "
                "scope_id = CASE WHEN scope_id = ? THEN ? ELSE scope_id END "
                "WHERE platform = ? AND chat_id = ?",
                (new_chat, old_chat, new_chat, platform, old_chat),
            )
            settings = await tx.execute(
                "UPDATE scope_settings SET scope_id = ? WHERE platform = ? AND scope_id = ? "
                "AND NOT EXISTS (SELECT 1 FROM scope_settings AS s "
                "WHERE s.platform = ? AND s.scope_id = ?)",
                (new_chat, platform, old_chat, platform, new_chat),
            )
            await tx.execute(
                "DELETE FROM scope_settings WHERE platform = ? AND scope_id = ?",
                (platform, old_chat),
            )
            refusals = await tx.execute(
                "UPDATE refusals SET scope_id = ? WHERE platform = ? AND scope_id = ?",
                (new_chat, platform, old_chat),
            )
            # The group's own styles go with it (a name the new chat has already stays its).
            styles = await tx.execute(
                "UPDATE community_styles SET scope_id = ? WHERE platform = ? AND scope_id = ? "
                "AND NOT EXISTS (SELECT 1 FROM community_styles AS c WHERE c.platform = ? "
                "AND c.scope_id = ? AND c.style_id = community_styles.style_id)",
                (new_chat, platform, old_chat, platform, new_chat),
            )
            return ChatMove(rows, unfinished, settings + styles, refusals)

        return await self.transaction(move)

    async def waiting_in_scope(self, platform: str, scope_id: str) -> list[str]:
        """Ids of the scope's requests that a worker may still start (queued or running)."""
        found = await self.fetch(
            "SELECT id FROM generations WHERE platform = ? AND scope_id = ? "
            "AND status IN ('queued', 'running') ORDER BY created_at",
            (platform, scope_id),
        )
        return [str(r[0]) for r in found]
