"""The in-process pipeline on the CLI platform with the fake AUTOMATIC1111 API and a private
Redis: people, scopes, the settings and the app fixture shared by the follow-up and edit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.bootstrap import BotApp
from bot.core.models import (
    ReplyTarget,
    Requester,
    Scope,
)
from bot.settings import Settings
from tests.fakes.sdwebui_api import FakeSDWebUI
from tests.fakes.server import ServerThread
from tests.support import RedisServer
from tests.support.channels import Results

ALICE = Requester(platform="cli", user_id="alice", display_name="alice")


HERE = Scope(platform="cli", id="chat-1")


ELSEWHERE = Scope(platform="cli", id="chat-2")


TARGET = ReplyTarget(platform="cli", chat_id="chat-1")


@pytest.fixture
def sdwebui() -> Iterator[tuple[FakeSDWebUI, str]]:
    fake = FakeSDWebUI()
    server = ServerThread(fake.app()).start()
    yield fake, server.url
    server.stop()


def settings_for(tmp_path: Path, redis: RedisServer, **providers: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        redis_url=redis.url,
        max_pending_per_user=10,
        daily_limit_per_user=100,
        **providers,
    )


@pytest.fixture
async def sd_app(
    tmp_path: Path, redis_server: RedisServer, sdwebui: tuple[FakeSDWebUI, str]
) -> AsyncIterator[tuple[BotApp, Results]]:
    _fake, url = sdwebui
    settings = settings_for(tmp_path, redis_server, image_providers="sdwebui", sdwebui_url=url)
    app = await BotApp.create(settings)
    channel = Results()
    app.register(channel)
    await app.start(resume=False, worker=True, serve_health=False)
    try:
        yield app, channel
    finally:
        await app.close()
