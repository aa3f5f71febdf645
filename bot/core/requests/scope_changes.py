"""A chat that changed under the bot: a new id for the same chat, or the bot removed from it.

- **Moved.** A Telegram basic group upgraded to a supergroup gets a new chat id. Its rows,
  settings, limits, refusals and gallery move to the new id in one transaction
  (`Store.move_chat`), today's count with them, and every process's settings cache is told.
  Moving twice (two bot processes, or the service message after a `ChatMigrated` answer) is a
  no-op the second time.
- **Left.** The bot was removed from a group or server, or blocked in a private chat: the
  scope's requests that no worker finished yet are failed with the reason and taken off the
  queue, so no provider is paid for a picture nobody can receive. History and settings stay
  until retention or an admin removes them; nothing is said in the chat (the bot cannot).
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from bot.core import metrics
from bot.core.generation.queue import JobQueue
from bot.core.limits.quotas import QuotaBook
from bot.core.models import Scope
from bot.core.requests.preferences import Preferences
from bot.core.store import Store
from bot.core.store.scopes import ChatMove

log = logging.getLogger(__name__)

REMOVED_CODE = "bot_removed"


class ScopeChanges:
    def __init__(
        self, store: Store, queue: JobQueue, quotas: QuotaBook, preferences: Preferences
    ) -> None:
        self._store = store
        self._queue = queue
        self._quotas = quotas
        self._preferences = preferences

    async def move_chat(self, platform: str, old_chat: str, new_chat: str) -> ChatMove:
        """Everything kept under `old_chat` now lives under `new_chat`."""
        moved = await self._store.move_chat(platform, old_chat, new_chat)
        try:
            await self._quotas.move_scope(platform, old_chat, new_chat)
        except (RedisError, OSError) as exc:  # today's count is rebuilt from the rows anyway
            log.warning("chat %s: today's count not moved (%s)", old_chat, exc)
        if moved.anything:
            await self._preferences.changed_elsewhere()
            log.info(
                "%s chat %s is now %s: moved %d request(s) (%d unfinished), %d settings row(s)",
                platform,
                old_chat,
                new_chat,
                moved.rows,
                moved.unfinished,
                moved.settings,
            )
        return moved

    async def cancel_scope(self, scope: Scope, reason: str) -> int:
        """Fail the scope's queued and running requests with `reason` and take their jobs off
        the queue; the number cancelled."""
        cancelled = 0
        for generation_id in await self._store.waiting_in_scope(scope.platform, scope.id):
            failed = await self._store.mark_failed(generation_id, REMOVED_CODE, reason)
            if failed is None:
                continue  # finished meanwhile
            cancelled += 1
            metrics.JOBS.labels(REMOVED_CODE).inc()
            try:
                await self._queue.abort(generation_id)  # not started, or cancelled if it was
                await self._quotas.settle(generation_id)
            except (RedisError, OSError) as exc:
                # The row says failed: a result that still comes is not delivered.
                log.warning("generation %s: job not taken off the queue (%s)", generation_id, exc)
        if cancelled:
            log.info(
                "%s scope %s: cancelled %d waiting request(s)", scope.platform, scope.id, cancelled
            )
        return cancelled
