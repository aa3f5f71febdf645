"""What the queue keeps in Redis: jobs as msgpack, bounded wake-ups; and workers that wake
up when the bot enqueues instead of finding new jobs on their next poll."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import msgpack

from bot.bootstrap import BotApp
from bot.core.generation.queue import WAKE_BACKLOG, wake_key
from bot.settings import Settings
from tests.fakes.openai_images import FakeOpenAI
from tests.support import RedisServer, redis_pipeline
from tests.support.channels import RecordingChannel


def settings_for(tmp_path: Path, openai: FakeOpenAI, redis: RedisServer) -> Settings:
    return redis_pipeline.settings_for(
        tmp_path,
        openai,
        redis,
        # A worker nobody wakes would look for work only every 10 s.
        worker_poll_delay_seconds=10,
        max_pending_per_user=1000,
        daily_limit_per_user=1000,
    )


async def imagine(app: BotApp, prompt: str) -> str:
    return await redis_pipeline.imagine(app, prompt, platform="bench")


async def test_an_idle_worker_starts_a_new_job_at_once(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    app = await BotApp.create(settings_for(tmp_path, fake_openai, redis_server))
    channel = RecordingChannel("bench", failures_allowed=False)
    app.register(channel)
    await app.start(resume=False, worker=True, serve_health=False)
    try:
        await asyncio.sleep(1.0)  # the worker has polled, found nothing, and waits
        sent = time.monotonic()
        generation_id = await imagine(app, "a prompt worker")
        await channel.settled(generation_id, 20)
    finally:
        await app.close()
    # Woken by the enqueue, not by its next poll 9 s later.
    assert channel.delivered_at[generation_id] - sent < 5.0


async def test_wake_ups_nobody_takes_are_bounded(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    settings = settings_for(tmp_path, fake_openai, redis_server)
    app = await BotApp.create(settings)
    app.register(RecordingChannel("bench", failures_allowed=False))
    await app.start(resume=False, worker=False, serve_health=False)
    try:
        for i in range(3 * WAKE_BACKLOG):
            await imagine(app, f"queued {i}")
        backlog = await app.redis.llen(wake_key(settings.queue_name))
        queued = await app.redis.zcard(settings.queue_name)
        jobs = [await app.redis.get(key) for key in await app.redis.keys("arq:job:*")]
    finally:
        await app.close()
    assert queued == 3 * WAKE_BACKLOG
    assert backlog == WAKE_BACKLOG
    # No pickle across Redis: every queued job is msgpack (pickle protocols >= 2 start 0x80).
    assert len(jobs) == 3 * WAKE_BACKLOG
    for raw in jobs:
        assert raw is not None and not raw.startswith(b"\x80")
        job = msgpack.unpackb(raw, raw=False)
        assert job["f"] == "generate" and job["a"][0]["prompt"].startswith("queued ")
