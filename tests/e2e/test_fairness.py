"""One user holding the maximum pending cannot starve others (real Redis, worker, provider)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.bootstrap import BotApp
from bot.core.errors import UserFacingError
from bot.core.models import ImagineCommand, ReplyTarget, Requester, Scope
from bot.settings import Settings
from tests.fakes.openai_images import FakeOpenAI
from tests.support import RedisServer
from tests.support.channels import RecordingChannel

SCOPE = Scope(platform="bench", id="group")
TARGET = ReplyTarget(platform="bench", chat_id="group", nsfw_ok=False)


async def test_a_flooding_user_does_not_starve_the_others(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    fake_openai.delay = 0.4
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        redis_url=redis_server.url,
        openai_api_key=fake_openai.api_key,
        openai_base_url=f"{fake_openai.base_url}/v1",
        worker_max_jobs=1,
        max_pending_per_user=2,
    )
    app = await BotApp.create(settings)
    channel = RecordingChannel("bench")
    app.register(channel)
    await app.start(resume=False, worker=True, serve_health=False)
    flooder = Requester(platform="bench", user_id="flood", display_name="flood")
    accepted: list[tuple[str, float]] = []
    refusals = 0

    async def flood() -> None:
        nonlocal refusals
        while len(accepted) < 6:
            try:
                ticket = await app.service.imagine(
                    flooder, SCOPE, TARGET, ImagineCommand(prompt=f"flood {len(accepted)}")
                )
                accepted.append((ticket.generation_id, time.monotonic()))
            except UserFacingError as exc:
                assert "2 requests waiting" in exc.message
                refusals += 1
                await asyncio.sleep(0.02)

    try:
        flooding = asyncio.create_task(flood())
        await asyncio.sleep(0.1)  # the flooder holds both of its pending slots by now
        others = []
        for name in ("bea", "cem"):
            who = Requester(platform="bench", user_id=name, display_name=name)
            others.append(
                (
                    await app.service.imagine(
                        who, SCOPE, TARGET, ImagineCommand(prompt=f"{name}'s picture")
                    )
                ).generation_id
            )
        await flooding
        await channel.settled_count(8, 30)
        rows = {g: await app.store.get(g) for g in [a for a, _ in accepted] + others}
    finally:
        await app.close()
    assert refusals > 0
    started = {g: row.started_at for g, row in rows.items() if row is not None}
    flood_starts = sorted(started[g] for g, _ in accepted if started[g] is not None)  # type: ignore[type-var]
    # The others started before every flood request beyond the first two.
    assert max(started[g] for g in others) < flood_starts[2]  # type: ignore[operator]
    assert all(rows[g].status.value == "delivered" for g in others)  # type: ignore[union-attr]
