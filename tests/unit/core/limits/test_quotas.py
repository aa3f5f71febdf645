"""Limits: atomic reservation, refusals that say which limit and when it resets, restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.errors import InvalidRequest, UserFacingError, english
from bot.core.generation.providers.base import Capabilities
from bot.core.generation.queue import EmbeddedRedis
from bot.core.limits.quotas import Limits, QuotaBook, reset_phrase
from bot.core.models import ImagineCommand, ReplyTarget, Requester, Scope
from bot.core.requests.service import GenerationService
from bot.settings import Settings
from tests.support.service import build_service

CAPS = Capabilities(aspects=("1:1",), negative_prompt=False, seed=False, max_prompt_chars=4000)
TARGET = ReplyTarget(platform="telegram", chat_id="-100", nsfw_ok=False)
GROUP = Scope(platform="telegram", id="-100")


def user(n: int) -> Requester:
    return Requester(platform="telegram", user_id=str(n), display_name=f"user{n}")


async def make_service(tmp_path: Path, **overrides: object) -> GenerationService:
    service = await build_service(tmp_path, capabilities={"openai": CAPS}, **overrides)
    await service.load_quotas()
    return service


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[GenerationService]:
    service = await make_service(
        tmp_path, max_pending_per_user=2, daily_limit_per_user=5, daily_limit_per_scope=8
    )
    yield service
    await service.store.close()


async def submit(service: GenerationService, who: Requester) -> str:
    prepared = await service.prepare(who, GROUP, ImagineCommand(prompt="a cat"))
    return (await service.submit(prepared, TARGET)).generation_id


async def test_a_thousand_concurrent_requests_from_one_user_queue_only_the_allowed_number(
    service: GenerationService,
) -> None:
    results = await asyncio.gather(
        *(submit(service, user(1)) for _ in range(1000)), return_exceptions=True
    )
    accepted = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, UserFacingError)]
    assert len(accepted) == 2 and len(refused) == 998
    assert await service.queue.depth() == 2
    assert "You already have 2 requests waiting" in refused[0].message
    rows = await service.history(user(1), limit=2000)
    assert len(rows) == 2
    refusals = await service.recent_refusals(GROUP, limit=5)
    assert refusals[0].code == "limit_reached"


async def test_pending_slot_frees_when_a_request_settles(service: GenerationService) -> None:
    first = await submit(service, user(1))
    await submit(service, user(1))
    with pytest.raises(UserFacingError, match="waiting"):
        await submit(service, user(1))
    await service.settled(first)
    await submit(service, user(1))


async def test_daily_limits_per_user_and_scope_say_when_they_reset(
    service: GenerationService,
) -> None:
    for _ in range(5):
        await service.settled(await submit(service, user(1)))
    with pytest.raises(UserFacingError) as caught:
        await submit(service, user(1))
    assert "used your 5 pictures for today" in caught.value.message
    assert "resets at 00:00 UTC (in" in caught.value.message
    for _ in range(3):
        await service.settled(await submit(service, user(2)))
    with pytest.raises(UserFacingError, match="This chat has used its 8 pictures"):
        await submit(service, user(3))


async def test_admins_may_lower_but_never_raise(service: GenerationService) -> None:
    with pytest.raises(InvalidRequest, match="allows at most 5 pictures a day per user"):
        await service.set_scope_limits(GROUP, per_user=6, per_scope=None)
    assert await service.set_scope_limits(GROUP, per_user=1, per_scope=None) == (1, 8)
    await service.settled(await submit(service, user(1)))
    with pytest.raises(UserFacingError, match="used your 1 picture for today"):
        await submit(service, user(1))
    # Another chat keeps the operator's limits.
    other = Scope(platform="telegram", id="-200")
    prepared = await service.prepare(user(1), other, ImagineCommand(prompt="a dog"))
    await service.submit(prepared, ReplyTarget(platform="telegram", chat_id="-200", nsfw_ok=False))


async def test_counts_survive_a_restart(tmp_path: Path) -> None:
    first = await make_service(tmp_path, max_pending_per_user=2, daily_limit_per_user=3)
    await submit(first, user(1))
    await submit(first, user(1))
    await first.store.close()
    second = await make_service(tmp_path, max_pending_per_user=2, daily_limit_per_user=3)
    try:
        with pytest.raises(UserFacingError, match="2 requests waiting"):
            await submit(second, user(1))
    finally:
        await second.store.close()


async def test_provider_daily_budget(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    service = await make_service(tmp_path, provider_daily_budget=2, max_pending_per_user=10)
    try:
        await submit(service, user(1))
        await submit(service, user(2))
        with pytest.raises(UserFacingError, match="daily image budget"):
            await submit(service, user(3))
        assert "PROVIDER_DAILY_BUDGET of 2 images reached" in caplog.text
    finally:
        await service.store.close()


async def test_day_rollover_resets_daily_counts(tmp_path: Path) -> None:
    now = [datetime(2026, 1, 1, 23, 59, tzinfo=UTC).timestamp()]
    settings = Settings(_env_file=None, data_dir=tmp_path, openai_api_key="sk-x")  # type: ignore[call-arg]
    redis = EmbeddedRedis().pool(settings)
    book = QuotaBook(Limits(5, 1, None, None), redis, clock=lambda: now[0])
    reservation = await book.reserve("t", "1", "s", daily_per_user=1, daily_per_scope=None)
    await book.bind(reservation, "g1")
    await book.settle("g1")
    assert await book.pending_count("t", "1") == 0
    with pytest.raises(UserFacingError):
        await book.reserve("t", "1", "s", daily_per_user=1, daily_per_scope=None)
    now[0] += 120
    await book.reserve("t", "1", "s", daily_per_user=1, daily_per_scope=None)
    assert await book.used_today("t", "1") == 1


async def test_counts_lost_by_redis_are_rebuilt_from_the_store(tmp_path: Path) -> None:
    service = await make_service(tmp_path, max_pending_per_user=5, daily_limit_per_user=3)
    try:
        await submit(service, user(1))
        await submit(service, user(1))
        await service.queue.redis.flushall()  # Redis restarted without persistence
        await submit(service, user(1))
        with pytest.raises(UserFacingError, match="used your 3 pictures"):
            await submit(service, user(1))
        assert await service.quotas.pending_count("telegram", "1") == 3
    finally:
        await service.store.close()


def test_reset_phrase() -> None:
    at = datetime(2026, 1, 1, 20, 40, tzinfo=UTC).timestamp()
    assert english(reset_phrase(at)) == "at 00:00 UTC (in 3 h 20 min)"
