"""Tokens and keys never reach the logs, even at DEBUG, through a full Telegram request."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_telegram_e2e import ALICE, GROUP, Stack, setup_people
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.server import ServerThread
from tests.fakes.telegram_api import TelegramDriver
from tests.support import RedisServer, process, wait_for

pytestmark = pytest.mark.e2e

OPENAI_KEY = "sk-test-fake-key-do-not-log-4242"
TELEGRAM_TOKEN = "987654:SECRET-telegram-token-do-not-log"


def test_debug_logs_of_a_full_run_hold_no_secret(tmp_path: Path, redis_server: RedisServer) -> None:
    openai = FakeOpenAI(api_key=OPENAI_KEY)
    openai_server = ServerThread(openai.app()).start()
    openai.base_url = openai_server.url
    telegram = TelegramDriver(token=TELEGRAM_TOKEN).start()
    setup_people(telegram)
    stack = Stack(tmp_path, telegram, openai, redis_server.url)
    stack.env["LOG_LEVEL"] = "DEBUG"
    try:
        with (
            process(["worker"], stack.env, tmp_path, tmp_path / "worker.log"),
            process(["run", "--no-worker"], stack.env, tmp_path, tmp_path / "bot.log"),
        ):
            wait_for(telegram.polling, 30, message=f"polling\n{stack.log()}")
            command = telegram.send(GROUP, ALICE, "/imagine a secret garden")
            assert stack.settled_row(command)["status"] == "delivered"
    finally:
        telegram.stop()
        openai_server.stop()
    logs = {p.name: p.read_text(errors="replace") for p in tmp_path.glob("*.log")}
    assert " DEBUG " in logs["bot.log"]
    for name, text in logs.items():
        assert len(text) > 200, name  # the processes did log
        for secret in (OPENAI_KEY, TELEGRAM_TOKEN, TELEGRAM_TOKEN.split(":")[1]):
            assert secret not in text, f"{secret[:8]}… found in {name}"
