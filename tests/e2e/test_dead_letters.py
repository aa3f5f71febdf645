"""Messages nobody can read, on a real Redis: a broken job and broken completion events are
set aside on their dead-letter streams and acknowledged, the worker and the bot keep running,
and the next good request is made and delivered as usual."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgpack

from bot.bootstrap import BotApp
from bot.core.generation.deadletters import dead_letter_key
from bot.core.generation.events import EVENT_FIELD, EVENT_GROUP, events_stream
from bot.core.generation.queue import pack
from tests.fakes.openai_images import FakeOpenAI
from tests.support import RedisServer, base_env, process, rows, wait_for
from tests.support.channels import RecordingChannel
from tests.support.redis_pipeline import imagine, settings_for


def job_envelope(argument: object) -> bytes:
    """ARQ's job format around any argument, as a broken or foreign producer might write."""
    return pack({"t": 1, "f": "generate", "a": [argument], "k": {}, "et": 1})


async def test_unreadable_job_and_events_are_dead_lettered_and_the_next_request_delivered(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    settings = settings_for(tmp_path, fake_openai, redis_server)
    client = redis_server.client()
    stream = events_stream(settings.bot_instance)
    app = await BotApp.create(settings)
    channel = RecordingChannel("dlq", failures_allowed=False)
    app.register(channel)
    await app.start(resume=False, worker=True, serve_health=False)
    try:
        # Jobs: bytes that are not msgpack, and a job of a schema this worker does not know.
        foreign = {"v": 7, "generation_id": "broken-schema"}
        broken = {
            "broken-bytes": b"\xc1\xc1 not msgpack",
            "broken-schema": job_envelope(foreign),
        }
        for job_id, data in broken.items():
            client.set(f"arq:job:{job_id}", data)
            client.zadd(settings.queue_name, {job_id: 1})
        # Events: not msgpack, an unknown kind, and a known kind missing its fields.
        bad_events = [
            b"\xc1",
            msgpack.packb({"type": "exploded", "generation_id": "x1", "ts": 1.0}),
            msgpack.packb({"type": "done", "generation_id": "x2", "ts": 1.0}),
        ]
        for data in bad_events:
            client.xadd(stream, {EVENT_FIELD: data})

        generation_id = await imagine(app, "a lighthouse after the storm")
        await channel.settled(generation_id, 30)
        job_letters = await asyncio.to_thread(
            wait_for, lambda: client.xrange(dead_letter_key(settings.queue_name)), 10
        )
        event_letters = client.xrange(dead_letter_key(stream))
        worker_alive = app.worker is not None and app.worker.running
    finally:
        await app.close()

    assert worker_alive
    assert channel.images[generation_id] == fake_openai.images[0]
    (row,) = rows(settings.database_path, "SELECT status FROM generations")
    assert row["status"] == "delivered"

    reasons = {f[b"raw"]: f[b"reason"].decode() for _, f in job_letters}
    # Kept as they arrived: the bytes, or the job's one argument when ARQ could read the rest.
    assert set(reasons) == {broken["broken-bytes"], pack(foreign)}
    assert "not msgpack" in reasons[broken["broken-bytes"]]
    assert "schema version 7" in reasons[pack(foreign)]
    # The broken jobs are off the queue for good: not retried, not left for ARQ.
    assert client.zcard(settings.queue_name) == 0
    assert client.keys("arq:job:broken-*") == [] and client.keys("arq:retry:broken-*") == []

    assert [f[b"raw"] for _, f in event_letters] == bad_events
    assert [f[b"generation_id"] for _, f in event_letters] == [b"", b"x1", b"x2"]
    # Acknowledged: nothing blocks the stream or waits there for a rescan.
    assert client.xpending(stream, EVENT_GROUP)["pending"] == 0
    assert client.xlen(stream) == 0
    client.close()


async def test_a_request_whose_job_turned_unreadable_is_made_from_its_row_again(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    settings = settings_for(tmp_path, fake_openai, redis_server)
    client = redis_server.client()
    app = await BotApp.create(settings)
    channel = RecordingChannel("dlq", failures_allowed=False)
    app.register(channel)
    await app.start(resume=False, worker=False, serve_health=False)
    env = base_env(
        tmp_path,
        REDIS_URL=redis_server.url,
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=f"{fake_openai.base_url}/v1",
    )
    try:
        generation_id = await imagine(app, "a lighthouse in fog")
        # The queued job's bytes get corrupted in Redis before any worker reads them.
        client.set(f"arq:job:{generation_id}", b"\xc1 corrupted")
        with process(["worker"], env, tmp_path, tmp_path / "worker.log"):
            await asyncio.to_thread(
                wait_for,
                lambda: (
                    client.xlen(dead_letter_key(settings.queue_name))
                    and not client.exists(f"arq:job:{generation_id}")
                ),
                30,
            )
            # What housekeeping does each round: SQLite says the request still waits.
            await app.coordinator.recovery.requeue_lost(older_than_seconds=0)
            await channel.settled(generation_id, 30)
    finally:
        await app.close()
    assert channel.images == {generation_id: fake_openai.images[0]}
    (row,) = rows(settings.database_path, "SELECT status, provider_calls FROM generations")
    assert row == {"status": "delivered", "provider_calls": 1}
    (letter,) = client.xrange(dead_letter_key(settings.queue_name))
    assert letter[1][b"raw"] == b"\xc1 corrupted"
    client.close()
