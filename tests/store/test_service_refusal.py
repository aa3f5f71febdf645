"""A request the store cannot take is refused in plain words, and nothing of it is kept:
no row, no job, no quota slot (the next request after the outage is accepted)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.errors import StoreUnavailable
from bot.core.generation.queue import JobQueue
from bot.core.models import ImagineCommand
from bot.core.requests.service import GenerationService
from bot.core.store.postgres import PostgresStore
from tests.support.postgres import Relay, create_database, drop_database
from tests.support.service import ALICE, GUILD, TARGET, build_service


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[tuple[GenerationService, Relay, JobQueue]]:
    name = await create_database()
    relay = Relay()
    await relay.start()
    store = await PostgresStore.open_url(
        f"postgresql://postgres@127.0.0.1:{relay.port}/{name}", retry_seconds=0.5
    )
    service = await build_service(tmp_path, store=store, max_pending_per_user=1)
    queue = service.queue
    try:
        yield service, relay, queue
    finally:
        await relay.cut()
        await store.close()
        await drop_database(name)


async def test_an_outage_refuses_plainly_and_keeps_nothing(stack: Any) -> None:
    service, relay, queue = stack
    prepared = await service.prepare(ALICE, GUILD, ImagineCommand(prompt="a lighthouse"))
    await relay.cut()
    with pytest.raises(StoreUnavailable) as refused:
        await service.submit(prepared, TARGET)
    assert refused.value.message == StoreUnavailable().message
    await relay.start()
    assert await service.store.count_by_status() == {}
    assert await queue.depth() == 0
    assert await service.quotas.pending_count(ALICE.platform, ALICE.user_id) == 0
    ticket = await service.submit(prepared, TARGET)  # the one pending slot is free
    assert await queue.depth() == 1
    assert (await service.store.get(ticket.generation_id)) is not None


async def test_an_insert_that_fails_gives_the_quota_slot_back(
    stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, _relay, queue = stack
    prepared = await service.prepare(ALICE, GUILD, ImagineCommand(prompt="a lighthouse"))

    async def unavailable(values: dict[str, Any]) -> None:
        raise StoreUnavailable()

    monkeypatch.setattr(service.store, "insert_generation", unavailable)
    with pytest.raises(StoreUnavailable):
        await service.submit(prepared, TARGET)
    assert await service.quotas.pending_count(ALICE.platform, ALICE.user_id) == 0
    assert await service.quotas.used_today(ALICE.platform, ALICE.user_id) == 0
    assert await queue.depth() == 0
