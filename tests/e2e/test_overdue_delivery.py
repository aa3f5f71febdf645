"""A bot process that stops while waiting to try a delivery again (the platform said "slow
down") leaves a `done` row that only it was going to post. Another bot process, already
running on the same database and Redis, finds it overdue in its housekeeping round and
delivers it: nothing is lost, and nothing is posted twice."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.bootstrap import BotApp
from bot.core.errors import DeliveryError
from bot.core.models import Generation
from tests.fakes.openai_images import FakeOpenAI
from tests.support import RedisServer, base_env, process, rows
from tests.support.channels import RecordingChannel
from tests.support.redis_pipeline import imagine, settings_for

SLOW_DOWN_SECONDS = 1.0


class SlowedDown(RecordingChannel):
    """The platform of the first process: every delivery is answered with "slow down"."""

    def __init__(self) -> None:
        super().__init__("dlq", failures_allowed=False)
        self.refused = asyncio.Event()

    async def deliver(self, generation: Generation, image_path: Path) -> None:
        self.refused.set()
        raise DeliveryError(
            "Telegram asked us to slow down", retryable=True, retry_after=SLOW_DOWN_SECONDS
        )


async def test_a_delivery_left_waiting_by_a_stopped_process_is_made_by_another(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    settings = settings_for(tmp_path, fake_openai, redis_server)
    env = base_env(
        tmp_path,
        REDIS_URL=redis_server.url,
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=f"{fake_openai.base_url}/v1",
    )
    first = await BotApp.create(settings)
    slowed = SlowedDown()
    first.register(slowed)
    await first.start(resume=False, worker=False, serve_health=False)
    with process(["worker"], env, tmp_path, tmp_path / "worker.log"):
        try:
            generation_id = await imagine(first, "a lighthouse in fog")
            await asyncio.wait_for(slowed.refused.wait(), 30)
        finally:
            await first.close()  # stops before its retry: that retry is gone with it
    (row,) = rows(settings.database_path, "SELECT status FROM generations")
    assert row == {"status": "done"}

    second = await BotApp.create(settings)
    delivered = RecordingChannel("dlq", failures_allowed=False)
    second.register(delivered)
    await second.start(resume=False, worker=False, serve_health=False)  # running all along
    try:
        # Not yet overdue: the owner might still be about to try.
        await second.coordinator.recovery.deliver_overdue(overdue_seconds=30)
        assert delivered.images == {}
        await asyncio.sleep(SLOW_DOWN_SECONDS + 0.2)
        started = time.monotonic()
        # What the housekeeping round does, with its interval as the margin.
        await second.coordinator.recovery.deliver_overdue(overdue_seconds=0)
        assert time.monotonic() - started < 10
        # A second round finds nothing left to do.
        await second.coordinator.recovery.deliver_overdue(overdue_seconds=0)
    finally:
        await second.close()
    assert delivered.images == {generation_id: fake_openai.images[0]}
    assert delivered.posts == [generation_id]  # once
    (row,) = rows(settings.database_path, "SELECT status FROM generations")
    assert row == {"status": "delivered"}
