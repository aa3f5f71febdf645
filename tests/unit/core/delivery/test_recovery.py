"""Housekeeping enqueues again only what is still waiting: a request delivered between its
snapshot of unfinished rows and the enqueue (its finished marker then gone from Redis) is not
run, and paid for, a second time. The window is hit on purpose: the store delivers the row
right after handing out the snapshot."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.core.delivery.recovery import Recovery
from bot.core.models import Generation, Status
from bot.core.store import NewGeneration
from bot.core.store.sqlite import SQLiteStore


class Deliveries:
    def serves(self, platform: str) -> bool:
        return True

    @asynccontextmanager
    async def lock(self, generation_id: str) -> AsyncIterator[None]:
        yield

    async def deliver(
        self, gen_id: str, current: Generation | None = None, *, may_be_posted: bool = True
    ) -> None:
        raise AssertionError("nothing is delivered here")


def row(gid: str, status: Status) -> NewGeneration:
    return NewGeneration(
        id=gid,
        platform="telegram",
        scope_id="1",
        chat_id="1",
        user_id="7",
        user_name="ada",
        prompt="a kite",
        style="photo",
        aspect="1:1",
        seed=1,
        status=status,
        created_at=time.time() - 120,
    )


async def test_a_request_delivered_after_the_snapshot_is_not_enqueued_again(
    tmp_path: Path,
) -> None:
    store = await SQLiteStore.open_path(tmp_path / "db.sqlite3")
    try:
        await store.insert_generation(row("waiting", Status.QUEUED))
        await store.insert_generation(row("finishing", Status.RUNNING))
        snapshot = store.unfinished

        async def snapshot_then_delivered() -> list[Generation]:
            rows = await snapshot()
            await store.execute(
                "UPDATE generations SET status = 'delivered' WHERE id = 'finishing'"
            )
            return rows

        store.unfinished = snapshot_then_delivered  # type: ignore[method-assign]
        resumed: list[str] = []

        async def resume(generation: Generation) -> None:
            resumed.append(generation.id)

        await Recovery(store, Deliveries(), resume).requeue_lost(older_than_seconds=30)
        assert resumed == ["waiting"]
    finally:
        await store.close()
