"""Tokens and keys never reach the logs, even at DEBUG, through a full Telegram request."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.server import ServerThread
from tests.fakes.telegram_api import TelegramDriver
from tests.support import RedisServer, base_env, process, run_cli, wait_for
from tests.support.telegram_stack import ALICE, GROUP, Stack, setup_people

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
            wait_for(telegram.polling, 30, message=lambda: f"polling\n{stack.log()}")
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


def test_discord_debug_logs_of_a_full_run_hold_no_token(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    from tests.fakes.discord_gateway import DiscordDriver
    from tests.support.discord_stack import Stack as DiscordStack

    openai = FakeOpenAI(api_key=OPENAI_KEY)
    openai_server = ServerThread(openai.app()).start()
    openai.base_url = openai_server.url
    discord = DiscordDriver().start()
    stack = DiscordStack(tmp_path, discord, openai, redis_server.url)
    stack.env["LOG_LEVEL"] = "DEBUG"
    try:
        with (
            process(["worker"], stack.env, tmp_path, tmp_path / "worker.log"),
            process(["run", "--no-worker"], stack.env, tmp_path, tmp_path / "bot.log"),
        ):
            wait_for(discord.connected, 30, message=lambda: f"gateway connection\n{stack.log()}")
            command = discord.slash("imagine", prompt="a secret garden")
            assert stack.delivered_row(command)["status"] == "delivered"
            interaction_tokens = [i.token for i in discord.fake.interactions.values()]
    finally:
        discord.stop()
        openai_server.stop()
    logs = {p.name: p.read_text(errors="replace") for p in tmp_path.glob("*.log")}
    # discord.py logged the interaction webhook calls at DEBUG, with the token masked.
    assert "discord.webhook" in logs["bot.log"] and "/webhooks/" in logs["bot.log"]
    assert "[redacted]" in logs["bot.log"]
    assert interaction_tokens
    for name, text in logs.items():
        assert len(text) > 200, name
        for secret in (OPENAI_KEY, discord.fake.token, *interaction_tokens):
            assert secret not in text, f"{secret[:12]}… found in {name}"


def test_a_rejected_telegram_token_is_named_but_not_printed(tmp_path: Path) -> None:
    telegram = TelegramDriver().start()  # knows only its own token: answers 401 to ours
    rejected = "7712345678:" + "AA" + "Hx" * 16 + "-rejected"  # made up, token-shaped
    env = base_env(
        tmp_path / "data",
        **{**telegram.env(), "TELEGRAM_TOKEN": rejected},
        OPENAI_API_KEY=OPENAI_KEY,
    )
    try:
        result = run_cli(["run"], env, tmp_path, timeout=60)
    finally:
        telegram.stop()
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert [c.method for c in telegram.fake.calls] == [] or all(
        c.method == "getMe" for c in telegram.fake.calls
    )
    assert "TELEGRAM_TOKEN" in output and "rejected" in output, output
    for secret in (rejected, rejected.split(":")[1], OPENAI_KEY):
        assert secret not in output, output
