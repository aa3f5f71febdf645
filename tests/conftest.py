from __future__ import annotations

import multiprocessing.process
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.settings import ENV_FILE_VARIABLE
from tests.fakes.discord_gateway import DiscordDriver
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.server import ServerThread
from tests.fakes.telegram_api import TelegramDriver
from tests.support import RedisServer, without_settings

E2E_FOLDERS = ("e2e",)
# Fixtures that start a process of their own: any test using one is end to end.
PROCESS_FIXTURES = frozenset({"redis_server"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fast lane (`pytest -m "not e2e"`) is what runs in this one process: everything under
    tests/e2e, and every test that starts a process through a fixture, is marked `e2e` here; a
    test elsewhere that starts one itself carries the mark in its module (the guard below fails
    it otherwise)."""
    tests = Path(__file__).parent
    for item in items:
        folder = item.path.relative_to(tests).parts[0]
        if folder in E2E_FOLDERS or PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def fast_lane_starts_no_process(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test outside the e2e mark that starts a process (subprocess, asyncio's subprocesses,
    multiprocessing) fails, naming the mark it needs: the fast lane stays fast and needs no
    tools."""
    if request.node.get_closest_marker("e2e") is not None:
        yield
        return

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"{request.node.nodeid} starts a process: mark it pytest.mark.e2e")

    with pytest.MonkeyPatch.context() as patch:
        # Popen's own clean-up runs when starting the child fails: nothing half-made is left.
        patch.setattr(subprocess.Popen, "_execute_child", refuse)
        patch.setattr(multiprocessing.process.BaseProcess, "start", refuse)
        yield


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
