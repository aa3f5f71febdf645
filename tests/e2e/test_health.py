"""The bot's /healthz and /metrics on HEALTH_PORT, end to end: `imaginebot run` with both chat
adapters (fake Discord, fake Telegram) and the fake OpenAI images API.

/healthz must follow each platform's real connection: a fake that goes away turns it 503
naming that platform within seconds, and it is 200 again once the fake is back.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.discord_gateway import DiscordDriver
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.telegram_api import TelegramDriver
from tests.support import base_env, free_port, process, rows, wait_for

pytestmark = pytest.mark.e2e

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
# Going away is noticed at once (the socket closes); a few seconds leave room for a busy machine.
NOTICE_SECONDS = 5.0


@dataclass
class Bot:
    root: Path
    port: int
    discord: DiscordDriver
    telegram: TelegramDriver
    openai: FakeOpenAI

    def log(self) -> str:
        return (self.root / "bot.log").read_text(errors="replace")[-4000:]

    def healthz(self) -> tuple[int, dict[str, Any]]:
        url = f"http://127.0.0.1:{self.port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        url = f"http://127.0.0.1:{self.port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def families(self) -> set[str]:
        url = f"http://127.0.0.1:{self.port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        return set(re.findall(r"^# TYPE (\S+) ", text, flags=re.M))

    def wait_health(self, status: int, timeout: float) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            code, body = self.healthz()
            return body if code == status else None

        body: dict[str, Any] = wait_for(
            reached, timeout, interval=0.1, message=lambda: f"/healthz {status}\n{self.log()}"
        )
        return body


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    root = tmp_path_factory.mktemp("health")
    openai = FakeOpenAI()
    from tests.fakes.server import ServerThread

    openai_server = ServerThread(openai.app()).start()
    openai.base_url = openai_server.url
    discord = DiscordDriver().start()
    telegram = TelegramDriver().start()
    banned = root / "banned.txt"
    banned.write_text("forbiddenword\n")
    port = free_port()
    env = base_env(
        root / "data",
        OPENAI_API_KEY=openai.api_key,
        OPENAI_BASE_URL=f"{openai.base_url}/v1",
        HEALTH_PORT=str(port),
        BANNED_TERMS_FILE=str(banned),
        JOB_MAX_TRIES="1",
        **discord.env(),
        **telegram.env(),
    )
    try:
        with process(["run"], env, root, root / "bot.log"):
            running = Bot(root, port, discord, telegram, openai)
            wait_for(discord.connected, 30, message=lambda: f"gateway\n{running.log()}")
            wait_for(telegram.polling, 30, message=lambda: f"polling\n{running.log()}")
            yield running
    finally:
        discord.stop()
        telegram.stop()
        openai_server.stop()


def test_healthz_follows_the_discord_connection(bot: Bot) -> None:
    body = bot.wait_health(200, 30)
    assert body["checks"] == {
        "redis": True,
        "sqlite": True,
        "discord": True,
        "telegram": True,
        "worker_heartbeat": True,
    }
    bot.discord.server.go_away()
    try:
        gone = time.monotonic()
        body = bot.wait_health(503, NOTICE_SECONDS)
        assert time.monotonic() - gone < NOTICE_SECONDS
        assert body["ok"] is False and body["failing"] == ["discord"]
        assert body["checks"]["telegram"] is True
    finally:
        bot.discord.server.come_back()
    # discord.py reconnects with a growing back-off; then READY makes it healthy again.
    body = bot.wait_health(200, 45)
    assert body["failing"] == [] and bot.discord.connected()


def test_healthz_follows_the_telegram_polling(bot: Bot) -> None:
    bot.wait_health(200, 30)
    bot.telegram.server.go_away()
    try:
        gone = time.monotonic()
        body = bot.wait_health(503, NOTICE_SECONDS)
        assert time.monotonic() - gone < NOTICE_SECONDS
        assert body["failing"] == ["telegram"] and body["checks"]["discord"] is True
    finally:
        bot.telegram.server.come_back()
    body = bot.wait_health(200, 45)
    assert body["failing"] == []


def readme_metrics() -> list[str]:
    """The metrics docs/operations.md names under "Health and metrics"."""
    operations = OPERATIONS.read_text().split("## Health and metrics", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"`(imaginebot_[a-z_]+)", operations)


def test_metrics_expose_every_readme_metric_and_move_with_requests(bot: Bot) -> None:
    listed = readme_metrics()
    assert len(listed) >= 7
    # prometheus_client names a counter's family without `_total`.
    families = {name.removesuffix("_total") for name in bot.families()}
    assert {name.removesuffix("_total") for name in listed} <= families

    d = bot.discord
    before = bot.metrics()
    bot.openai.script = ["slow:1.5"]  # the next image call takes 1.5 s
    slow = d.slash("imagine", user="metered", prompt="a slow metered lighthouse")
    db = bot.root / "data" / "imaginebot.sqlite3"
    wait_for(lambda: bot.openai.calls, 15, message=lambda: f"the slow call\n{bot.log()}")
    during = bot.metrics()
    assert during[("imaginebot_queue_depth", ())] >= 1
    refused_by_provider = d.slash("imagine", user="metered", prompt="REFUSE_ME please")
    banned = d.slash("imagine", user="metered", prompt="a forbiddenword picture")

    def settled() -> bool:
        states = {
            r["status"]
            for r in rows(db, "SELECT status FROM generations WHERE user_name LIKE 'Metered%'")
        }
        return states <= {"delivered", "failed"} and len(states) == 2

    wait_for(settled, 30, message=lambda: f"both requests to finish\n{bot.log()}")
    wait_for(lambda: d.writes(banned), 10, message="the refusal")
    after = bot.metrics()

    def moved(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert moved("imaginebot_jobs_total", outcome="delivered") >= 1
    assert moved("imaginebot_jobs_total", outcome="refused") == 1  # the provider's refusal
    assert moved("imaginebot_generation_seconds_count") >= 1
    assert moved("imaginebot_generation_seconds_sum") >= 1.5  # the slow one took that long
    assert moved("imaginebot_delivery_seconds_count") >= 1
    assert moved("imaginebot_provider_calls_total", provider="openai") >= 2
    assert moved("imaginebot_provider_errors_total", provider="openai", kind="refused") == 1
    assert moved("imaginebot_refusals_total", reason="content_refused") == 1
    assert after[("imaginebot_queue_depth", ())] == 0
    assert slow is not None and refused_by_provider is not None
