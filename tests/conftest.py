from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import ENV_FILE_VARIABLE
from tests.fakes.discord_gateway import DiscordDriver
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.server import ServerThread
from tests.fakes.telegram_api import TelegramDriver
from tests.support import RedisServer, without_settings


@pytest.fixture(autouse=True, scope="session")
def hermetic_settings() -> Iterator[None]:
    """No test sees the developer's settings: none of their variables, and no `.env` file.

    Settings built in the tests and every subprocess that inherits this environment read only
    what the test itself sets (IMAGINEBOT_ENV_FILE empty: no settings file at all)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in set(os.environ) - set(without_settings(os.environ)):
            patch.delenv(name)
        patch.setenv(ENV_FILE_VARIABLE, "")
        yield


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    server = ServerThread(fake.app()).start()
    fake.base_url = server.url
    try:
        yield fake
    finally:
        server.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def discord() -> Iterator[DiscordDriver]:
    """The fake Discord (REST, gateway, CDN) on 127.0.0.1, for one test."""
    driver = DiscordDriver().start()
    try:
        yield driver
    finally:
        driver.stop()


@pytest.fixture
def telegram() -> Iterator[TelegramDriver]:
    """The fake Bot API on 127.0.0.1, for one test."""
    driver = TelegramDriver().start()
    try:
        yield driver
    finally:
        driver.stop()
