"""Two bot processes' settings caches over one store and one Redis: a change an admin makes
through one is what the other answers with at once (on SQLite and on PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from arq.connections import ArqRedis

from bot.core.generation.providers.base import Capabilities
from bot.core.models import Requester, Scope
from bot.core.requests.service import GenerationService
from bot.core.store import Store
from tests.support import RedisServer
from tests.support.service import build_service

CAPS = Capabilities(aspects=("1:1",), negative_prompt=False, seed=False, max_prompt_chars=4000)
GROUP = Scope(platform="telegram", id="-100")
ALICE = Requester(platform="telegram", user_id="11", display_name="alice")


async def process_like(tmp_path: Path, store_url: str, redis_url: str) -> GenerationService:
    return await build_service(
        tmp_path,
        capabilities={"openai": CAPS},
        store=await Store.open(store_url),
        redis=ArqRedis.from_url(redis_url),
        redis_url=redis_url,
    )


@pytest.fixture
async def two(
    tmp_path: Path, store_url: str, redis_server: RedisServer
) -> AsyncIterator[tuple[GenerationService, GenerationService]]:
    first = await process_like(tmp_path, store_url, redis_server.url)
    second = await process_like(tmp_path, store_url, redis_server.url)
    try:
        yield first, second
    finally:
        for service in (first, second):
            await service.store.close()
            await service.queue.redis.aclose()


async def test_a_scope_change_in_one_process_is_seen_by_the_other(
    two: tuple[GenerationService, GenerationService],
) -> None:
    first, second = two
    assert (await second.scope_settings(GROUP)).default_style is None  # cached now
    await first.set_scope_default(GROUP, "sketch")
    assert (await second.scope_settings(GROUP)).default_style == "sketch"
    await first.set_allowed_styles(GROUP, ["photo"])
    assert [s.id for s in await second.allowed_styles(GROUP)] == ["photo"]
    await second.set_scope_nsfw(GROUP, True)
    assert (await first.scope_settings(GROUP)).nsfw is True


async def test_a_users_style_and_forget_me_reach_the_other_process(
    two: tuple[GenerationService, GenerationService],
) -> None:
    first, second = two
    assert await second.user_style(ALICE) is None  # cached now
    await first.set_user_style(ALICE, "anime")
    assert await second.user_style(ALICE) == "anime"
    await first.forget_user(ALICE)
    assert await second.user_style(ALICE) is None
