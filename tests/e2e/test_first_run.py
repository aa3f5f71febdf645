"""A first run as the README tells it: `.env.example` copied, one token filled, `imaginebot run`.

And every way the start can fail ends in one plain sentence and a non-zero exit within
seconds: no traceback, no "Unclosed client session", no hang.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.fakes.discord_gateway import DiscordDriver
from tests.fakes.telegram_api import TelegramDriver
from tests.support import IMAGINEBOT, ROOT, base_env, free_port, process, wait_for

pytestmark = pytest.mark.e2e

# Nothing answers here: the default provider (AI Horde) must not be reached on the internet.
CLOSED = f"http://127.0.0.1:{free_port()}"
START_SECONDS = 20  # "within seconds", with room for a busy 2-core machine


def env_file_from_example(directory: Path, **filled: str) -> Path:
    """The literal .env.example as `.env`, with only the given lines filled in."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name, value in filled.items():
        text, count = re.subn(rf"^{name}=$", f"{name}={value}", text, flags=re.MULTILINE)
        assert count == 1, f"{name}= is not a blank line of .env.example"
    path = directory / ".env"
    path.write_text(text, encoding="utf-8")
    return path


def first_run_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = base_env(tmp_path / "data", HORDE_API_URL=f"{CLOSED}/api/v2", **extra)
    env.pop("DATA_DIR")  # as a new user has it: .env.example leaves DATA_DIR to its default
    # The `.env` these tests write in their own folder is read, as a user's is (the suite
    # otherwise reads none: base_env sets IMAGINEBOT_ENV_FILE empty).
    env.pop("IMAGINEBOT_ENV_FILE")
    return env


def test_env_example_with_only_a_discord_token_starts(
    tmp_path: Path, discord: DiscordDriver
) -> None:
    endpoints = discord.env()
    env_file_from_example(tmp_path, DISCORD_TOKEN=endpoints.pop("DISCORD_TOKEN"))
    # Only where to find the fake Discord comes from the environment.
    env = first_run_env(tmp_path, **endpoints)
    log = tmp_path / "bot.log"
    with process(["run"], env, tmp_path, log) as bot:
        wait_for(
            lambda: "running (discord;" in log.read_text() or bot.poll() is not None,
            timeout=60,
            message="the bot to start",
        )
        text = log.read_text()
        assert bot.poll() is None, text
        assert discord.connected(), "the bot has no gateway session"
        # docs/discord.md: no privileged intent needed; the guilds intent only.
        assert discord.fake.gateway.intents == [1]
        # It generates in this process, so it checks its provider at start (in the background).
        wait_for(lambda: "provider horde: FAILING" in log.read_text(), 30, message="the check")
    assert "running (discord; providers horde; embedded queue" in text
    # DISCORD_GUILD_ID= is unset: the commands were synced globally, to no single server.
    assert [c["name"] for c in discord.fake.commands["global"]].count("imagine") == 1
    assert discord.fake.command_syncs == ["global"]
    # TELEGRAM_TOKEN= is unset: no Telegram adapter.
    assert "telegram" not in text.lower()
    assert "Traceback" not in text
    # The default DATA_DIR of .env.example: ./data in the working directory.
    assert (tmp_path / "data" / "imaginebot.sqlite3").exists()


def test_env_example_with_only_a_telegram_token_starts(
    tmp_path: Path, telegram: TelegramDriver
) -> None:
    endpoints = telegram.env()
    env_file_from_example(tmp_path, TELEGRAM_TOKEN=endpoints.pop("TELEGRAM_TOKEN"))
    env = first_run_env(tmp_path, **endpoints)
    log = tmp_path / "bot.log"
    with process(["run"], env, tmp_path, log) as bot:
        wait_for(lambda: telegram.polling() or bot.poll() is not None, 60, message="polling")
        wait_for(lambda: "running (telegram;" in log.read_text(), 30, message="running")
        assert bot.poll() is None, log.read_text()
    text = log.read_text()
    # DISCORD_TOKEN= is unset: Discord is never tried.
    assert "discord" not in text.lower()
    assert "Traceback" not in text


def start_and_wait(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, float]:
    started = time.monotonic()
    result = subprocess.run(
        [*IMAGINEBOT, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,  # a hang fails the test here
    )
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


def assert_one_sentence(output: str, sentence: str, *secrets: str) -> None:
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert errors == [f"error: {sentence}"], output
    assert "Traceback" not in output
    assert "Unclosed" not in output
    for secret in secrets:
        assert secret not in output


def test_bad_discord_token(tmp_path: Path, discord: DiscordDriver) -> None:
    token = "not-the-bot-token-4242"
    env = first_run_env(tmp_path, **{**discord.env(), "DISCORD_TOKEN": token})
    status, output, took = start_and_wait(["run"], env, tmp_path)
    assert status == 2
    assert_one_sentence(
        output,
        "Discord refused DISCORD_TOKEN; set it to the bot token from the Developer Portal "
        "(Bot, Reset Token)",
        token,
    )
    assert took < START_SECONDS
    assert not discord.fake.gateway.sessions


def test_bad_telegram_token(tmp_path: Path, telegram: TelegramDriver) -> None:
    token = "123456:not-the-bot-token-4242"
    env = first_run_env(tmp_path, **{**telegram.env(), "TELEGRAM_TOKEN": token})
    status, output, took = start_and_wait(["run"], env, tmp_path)
    assert status == 2
    assert_one_sentence(
        output,
        "TELEGRAM_TOKEN: Telegram rejected the token (401 Unauthorized); copy it again from "
        "@BotFather",
        token,
    )
    assert took < START_SECONDS


@pytest.mark.parametrize("platform", ["discord", "telegram"])
def test_unreachable_platform(tmp_path: Path, platform: str) -> None:
    port = free_port()  # nothing listens there
    if platform == "discord":
        endpoints = {
            "DISCORD_TOKEN": "a-token",
            "DISCORD_API_BASE": f"http://127.0.0.1:{port}/api/v10",
            "DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{port}",
        }
        sentence = (
            f"Discord did not answer at 127.0.0.1:{port}; check the network, or "
            "DISCORD_API_BASE and DISCORD_GATEWAY_URL if you set them"
        )
    else:
        endpoints = {
            "TELEGRAM_TOKEN": "123456:a-token",
            "TELEGRAM_API_BASE": f"http://127.0.0.1:{port}/bot",
        }
        sentence = (
            f"Telegram did not answer at 127.0.0.1:{port}; check the network, or "
            "TELEGRAM_API_BASE if you set it"
        )
    status, output, took = start_and_wait(["run"], first_run_env(tmp_path, **endpoints), tmp_path)
    assert status == 1
    assert_one_sentence(output, sentence, "a-token")
    assert took < START_SECONDS


def test_bad_setting(tmp_path: Path, telegram: TelegramDriver) -> None:
    env = first_run_env(tmp_path, **telegram.env(), JOB_MAX_TRIES="abc")
    status, output, took = start_and_wait(["run"], env, tmp_path)
    assert status == 2
    assert_one_sentence(
        output,
        "JOB_MAX_TRIES is not valid (Input should be a valid integer, unable to parse string "
        "as an integer); fix it in the environment or in .env",
    )
    assert took < START_SECONDS
    assert telegram.fake.calls == []  # stopped before reaching any platform


def test_both_tokens_run_both_adapters_in_one_process(
    tmp_path: Path, discord: DiscordDriver, telegram: TelegramDriver
) -> None:
    d_env, t_env = discord.env(), telegram.env()
    env_file_from_example(
        tmp_path,
        DISCORD_TOKEN=d_env.pop("DISCORD_TOKEN"),
        TELEGRAM_TOKEN=t_env.pop("TELEGRAM_TOKEN"),
    )
    env = first_run_env(tmp_path, **d_env, **t_env)
    log = tmp_path / "bot.log"
    with process(["run"], env, tmp_path, log) as bot:
        wait_for(
            lambda: "running (" in log.read_text() or bot.poll() is not None, 60, message="start"
        )
        assert bot.poll() is None, log.read_text()
        assert discord.connected()
        wait_for(telegram.polling, 30, message="polling")
    assert "running (discord, telegram;" in log.read_text()


def test_no_chat_token_says_what_to_set(tmp_path: Path) -> None:
    env_file_from_example(tmp_path)
    status, output, took = start_and_wait(["run"], first_run_env(tmp_path), tmp_path)
    assert status == 2
    assert_one_sentence(
        output,
        "no chat platform configured. Set DISCORD_TOKEN and/or TELEGRAM_TOKEN (in the "
        "environment or in .env).",
    )
    assert took < START_SECONDS


def test_migrate_applies_the_migrations_once(tmp_path: Path) -> None:
    env = base_env(tmp_path / "data")
    first = subprocess.run(
        [*IMAGINEBOT, "migrate"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    migrations = sorted(p.name for p in (ROOT / "migrations").glob("*.sql"))
    numbers = ", ".join(str(int(name.split("_")[0])) for name in migrations)
    assert first.returncode == 0 and first.stdout.strip() == (
        f"schema version {len(migrations)} (applied {numbers})"
    )
    again = subprocess.run(
        [*IMAGINEBOT, "migrate"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert again.stdout.strip() == f"schema version {len(migrations)} (up to date)"
