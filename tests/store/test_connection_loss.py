"""PostgreSQL going away: operations retry with backoff, or are refused in plain words.

The store reaches the real server through a TCP relay the test can cut, as a network
failure or a server restart would; `pg_terminate_backend` kills sessions mid-transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.core.errors import StoreUnavailable
from bot.core.store import Store
from bot.core.store.postgres import PostgresStore
from tests.support import free_port
from tests.support.postgres import Relay, create_database, drop_database, terminate_backends, url_of
from tests.support.store_rows import values


@pytest.fixture
async def database() -> AsyncIterator[str]:
    name = await create_database()
    try:
        yield name
    finally:
        await drop_database(name)


@pytest.fixture
async def relay() -> AsyncIterator[Relay]:
    relay = Relay()
    await relay.start()
    try:
        yield relay
    finally:
        await relay.cut()


async def open_via(relay: Relay, name: str, retry_seconds: float) -> PostgresStore:
    url = f"postgresql://postgres@127.0.0.1:{relay.port}/{name}"
    return await PostgresStore.open_url(url, retry_seconds=retry_seconds)


async def test_terminated_sessions_mid_transaction_are_retried_whole(database: str) -> None:
    store = await Store.open(url_of(database))
    attempts = 0

    async def body(tx: Any) -> None:
        nonlocal attempts
        attempts += 1
        await tx.execute(
            "INSERT INTO refusals (platform, scope_id, user_id, code, reason, created_at) "
            "VALUES ('telegram', 's', 'u', 'c', 'first half', 1)"
        )
        if attempts == 1:
            # The server ends this session between the two halves of the transaction.
            assert await terminate_backends(database) >= 1
        await tx.execute(
            "INSERT INTO refusals (platform, scope_id, user_id, code, reason, created_at) "
            "VALUES ('telegram', 's', 'u', 'c', 'second half', 2)"
        )

    try:
        await store.transaction(body)
        assert attempts == 2
        reasons = [r.reason for r in await store.recent_refusals("telegram", "s")]
        assert reasons == ["second half", "first half"]  # one copy of each: nothing half-stored
        # Idle pooled sessions killed too: the next statements reconnect.
        await terminate_backends(database)
        gen = await store.insert_generation(values())
        assert await store.get(gen.id) == gen
    finally:
        await store.close()


async def test_an_outage_shorter_than_the_retries_is_ridden_out(
    database: str, relay: Relay
) -> None:
    store = await open_via(relay, database, retry_seconds=5.0)
    try:
        await relay.cut()

        async def come_back() -> None:
            await asyncio.sleep(0.6)
            await relay.start()

        back = asyncio.create_task(come_back())
        gen = await store.insert_generation(values())
        await back
        assert await store.get(gen.id) == gen
        assert await store.count_by_status() == {"queued": 1}
    finally:
        await store.close()


async def test_a_request_that_cannot_be_stored_is_refused_plainly(
    database: str, relay: Relay
) -> None:
    store = await open_via(relay, database, retry_seconds=0.8)
    try:
        await relay.cut()
        request = values()
        with pytest.raises(StoreUnavailable) as refused:
            await store.insert_generation(request)
        assert str(refused.value) == StoreUnavailable().message
        assert "database" in str(refused.value) and "nothing was saved" in str(refused.value)
        await relay.start()
        assert await store.get(request.id) is None
        assert await store.count_by_status() == {}
    finally:
        await store.close()


async def test_a_server_that_never_answers_stops_the_start_plainly() -> None:
    port = free_port()  # nothing listens here
    with pytest.raises(StoreUnavailable):
        await PostgresStore.open_url(f"postgresql://postgres@127.0.0.1:{port}/x", retry_seconds=0.3)
