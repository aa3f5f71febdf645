"""What a job's events cost the store: a Progress event reads nothing (its status comes from
the row its Started event wrote), and a done event does not read back what it just wrote."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.delivery.coordinator import DeliveryCoordinator
from bot.core.generation.queue import EmbeddedRedis
from bot.core.images.files import ImageFiles
from bot.core.messages import Done, DoneImage, Event, Progress, Started
from bot.core.models import Generation, Status, StatusUpdate
from bot.core.store import Store
from tests.support.channels import RecordingChannel
from tests.support.service import service_settings
from tests.support.store_rows import values
from tests.support.web import png


class StatusRecordingChannel(RecordingChannel):
    def __init__(self) -> None:
        super().__init__("telegram", failures_allowed=False)
        self.statuses: list[StatusUpdate] = []

    async def show_status(self, generation: Generation, update: StatusUpdate) -> None:
        self.statuses.append(update)


def count_reads(store: Store, reads: list[str]) -> None:
    """Every SELECT the store runs is appended to `reads` once (writes with RETURNING are
    not; `fetchone` may run through `fetch`, so a nested call is not counted again)."""
    depth = [0]
    for name in ("fetch", "fetchone"):
        method = getattr(store, name)

        async def counted(sql: str, params: Any = (), _method: Any = method) -> Any:
            if depth[0] == 0 and sql.lstrip().upper().startswith("SELECT"):
                reads.append(sql)
            depth[0] += 1
            try:
                return await _method(sql, params)
            finally:
                depth[0] -= 1

        setattr(store, name, counted)


@pytest.fixture
def events() -> Iterator[list[Event]]:
    picture = DoneImage(data=png(size=(64, 64)), width=64, height=64, seed=5)
    now = time.time()
    yield [
        Started(generation_id="g-reads", ts=now, provider="openai"),
        *(Progress(generation_id="g-reads", ts=now, position=n, eta=9.0) for n in range(5)),
        Done(generation_id="g-reads", ts=now, provider="openai", model="m", images=(picture,)),
    ]


async def test_a_jobs_events_read_the_store_once(tmp_path: Path, events: list[Event]) -> None:
    settings = service_settings(tmp_path)
    store = await Store.open(settings.database_path)
    try:
        await store.insert_generation(values(id="g-reads", count=1))

        async def no_resume(generation: Generation) -> None:
            raise AssertionError("nothing is resumed here")

        coordinator = DeliveryCoordinator(
            redis=EmbeddedRedis().pool(settings),
            store=store,
            files=ImageFiles(settings.images_dir),
            stream="imaginebot:events:reads",
            resume_job=no_resume,
        )
        channel = StatusRecordingChannel()
        coordinator.register(channel)
        reads: list[str] = []
        count_reads(store, reads)
        for event in events[:-1]:
            await coordinator.apply(event)
        assert reads == []  # Started writes and returns the row; Progress reads nothing
        assert [update.position for update in channel.statuses] == [None, 0, 1, 2, 3, 4]
        await coordinator.apply(events[-1])
        assert len(reads) == 1, reads  # the row before storing the picture, nothing after
        delivered, _data = channel.delivered["g-reads"]
        assert [image.seed for image in delivered.images] == [5]
        row = await store.get("g-reads")
        assert row is not None and row.status is Status.DELIVERED
    finally:
        await store.close()
