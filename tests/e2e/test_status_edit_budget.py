"""The status-edit budget end to end: a bot process makes at most `STATUS_EDITS_PER_SECOND`
(10) intermediate status edits a second over all chats (docs/telegram.md, docs/discord.md),
through the real bot and worker processes against the fake Bot API and the fake Discord.

Sixty people (on Telegram in their private chats) ask at once, and the provider takes a few seconds, so
every request wants its "Generating…" edit at about the same moment, one grace period after
its acknowledgement. Without the budget those edits come as fast as Telegram's 30 messages
a second allow (with `STATUS_EDITS_PER_SECOND` raised to 1000: 23 within one second and 43
within two; on Discord all 60 within one second, which this test refuses); with it, the budget's token bucket (one second deep)
allows at most 10 + 10 x W in any W seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.fakes.discord_gateway import DiscordDriver
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.telegram_api import TelegramDriver
from tests.support import RedisServer, process, wait_for
from tests.support.discord_stack import Stack as DiscordStack
from tests.support.telegram_stack import Stack

pytestmark = pytest.mark.e2e

PEOPLE = 60
PER_SECOND = 10  # what docs/telegram.md promises
FIRST_USER = 7_000


def assert_within_budget(times: list[float]) -> None:
    assert times, "no request showed that it was generating"
    # One bucket's worth saved up plus the refill; one more for the fake receiving an edit a
    # little later than the bot sent it.
    for seconds in (1.0, 2.0):
        most = most_within(times, seconds)
        assert most <= PER_SECOND * (1 + seconds) + 1, (seconds, most)


@contextmanager
def all_at_once_and_slow(env: dict[str, str], openai: FakeOpenAI) -> Iterator[None]:
    """Every request runs at once, so every one wants its "Generating…" edit at once."""
    env.update(OPENAI_MAX_CONCURRENCY=str(PEOPLE), WORKER_MAX_JOBS=str(PEOPLE))
    openai.delay = 4.0
    try:
        yield
    finally:
        openai.delay = 0.0


def most_within(times: list[float], seconds: float) -> int:
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] > seconds:
            start += 1
        most = max(most, end - start + 1)
    return most


@pytest.mark.timeout(120)
def test_telegram_status_edits_stay_within_the_budget_over_all_chats(
    tmp_path: Path,
    telegram: TelegramDriver,
    fake_openai: FakeOpenAI,
    redis_server: RedisServer,
) -> None:
    users = [FIRST_USER + n for n in range(PEOPLE)]
    for user in users:
        telegram.add_user(user, f"user{user}")
    stack = Stack(tmp_path, telegram, fake_openai, redis_server.url)
    with (
        all_at_once_and_slow(stack.env, fake_openai),
        process(["run"], stack.env, tmp_path, tmp_path / "bot.log"),
    ):
        wait_for(telegram.polling, 30, message=lambda: f"long polling\n{stack.log()}")
        commands = [telegram.send(u, u, f"/imagine a kite number {u}") for u in users]
        rows = [stack.settled_row(c) for c in commands]
    assert [r["status"] for r in rows] == ["delivered"] * PEOPLE
    generating = [
        c.at
        for c in list(telegram.fake.calls)
        if c.method == "editMessageText" and c.ok and "Generating" in str(c.params.get("text"))
    ]
    assert_within_budget(generating)


@pytest.mark.timeout(120)
def test_discord_status_edits_stay_within_the_budget_over_all_interactions(
    tmp_path: Path,
    discord: DiscordDriver,
    fake_openai: FakeOpenAI,
    redis_server: RedisServer,
) -> None:
    stack = DiscordStack(tmp_path, discord, fake_openai, redis_server.url)
    with (
        all_at_once_and_slow(stack.env, fake_openai),
        process(["run"], stack.env, tmp_path, tmp_path / "bot.log"),
    ):
        wait_for(discord.connected, 30, message=lambda: f"gateway\n{stack.log()}")
        asked = [
            discord.slash("imagine", user=f"person{n}", prompt=f"a kite number {n}")
            for n in range(PEOPLE)
        ]
        rows = [stack.delivered_row(i) for i in asked]
    assert [r["status"] for r in rows] == ["delivered"] * PEOPLE
    generating = [
        w.at
        for i in asked
        for w in discord.writes(i)
        if w.kind == "edit_original" and not w.files and "Generating" in str(w.body.get("content"))
    ]
    assert_within_budget(generating)
