"""Fixtures of the end-to-end tests in this folder: one fake OpenAI per module (its stack's
provider), and the in-process pipeline on the fake AUTOMATIC1111 API (the follow-up and edit
tests share it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.bootstrap import BotApp
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.sdwebui_api import FakeSDWebUI
from tests.fakes.server import ServerThread
from tests.support import RedisServer, served_openai
from tests.support.channels import RecordingChannel
from tests.support.cli_pipeline import settings_for


@pytest.fixture(scope="module")
def openai() -> Iterator[FakeOpenAI]:
    """The fake OpenAI images API a module's stack shares (each module has its own)."""
    with served_openai() as fake:
        yield fake


@pytest.fixture
def sdwebui() -> Iterator[tuple[FakeSDWebUI, str]]:
    fake = FakeSDWebUI()
    server = ServerThread(fake.app()).start()
    yield fake, server.url
    server.stop()


@pytest.fixture
async def sd_app(
    tmp_path: Path, redis_server: RedisServer, sdwebui: tuple[FakeSDWebUI, str]
) -> AsyncIterator[tuple[BotApp, RecordingChannel]]:
    _fake, url = sdwebui
    settings = settings_for(tmp_path, redis_server, image_providers="sdwebui", sdwebui_url=url)
    app = await BotApp.create(settings)
    channel = RecordingChannel("cli")
    app.register(channel)
    await app.start(resume=False, worker=True, serve_health=False)
    try:
        yield app, channel
    finally:
        await app.close()
