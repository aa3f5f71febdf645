"""Telegram's flood control end to end: a busy group's board, and pictures that are never
given up for a "slow down" or a network error, through the real bot and worker processes
against the fake Bot API (its flood limits on, as in every test).

The group limit is shortened (6 messages per 4 s in the fake and in the bot, through
TELEGRAM_GROUP_RATE / TELEGRAM_GROUP_PERIOD_SECONDS) so that a group runs out of budget within
seconds instead of a minute.
"""

from __future__ import annotations

import itertools
import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.telegram_api import Call, TelegramDriver
from tests.support import RedisServer, process, rows, wait_for
from tests.support.telegram_stack import (
    ALICE,
    BOB,
    GROUP,
    Stack,
    running_telegram_stack,
    setup_people,
)

pytestmark = pytest.mark.e2e

GROUP_LIMIT, GROUP_WINDOW = 6, 4.0


def flood_stack(root: Path, openai: FakeOpenAI, redis: str, **env: str) -> Stack:
    telegram = TelegramDriver(group_limit=GROUP_LIMIT, group_window=GROUP_WINDOW).start()
    setup_people(telegram)
    stack = Stack(root, telegram, openai, redis)
    stack.env.update(
        TELEGRAM_GROUP_RATE=str(GROUP_LIMIT),
        TELEGRAM_GROUP_PERIOD_SECONDS=str(GROUP_WINDOW),
        **env,
    )
    return stack


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, openai: FakeOpenAI) -> Iterator[Stack]:
    with running_telegram_stack(
        tmp_path_factory.mktemp("telegram-flood"),
        openai=openai,
        separate_worker=True,
        telegram_options={"group_limit": GROUP_LIMIT, "group_window": GROUP_WINDOW},
        TELEGRAM_GROUP_RATE=str(GROUP_LIMIT),
        TELEGRAM_GROUP_PERIOD_SECONDS=str(GROUP_WINDOW),
    ) as stack:
        yield stack


def in_chat(t: TelegramDriver, chat_id: int, method: str) -> list[Call]:
    return [
        c for c in list(t.fake.calls) if c.method == method and int(c.params["chat_id"]) == chat_id
    ]


def test_a_busy_group_gets_one_board_and_every_picture_without_a_429(shared: Stack) -> None:
    t = shared.telegram
    shared.openai.delay = 0.5
    try:
        commands = [t.send(GROUP, (ALICE, BOB)[i % 2], f"/imagine busy fox {i}") for i in range(8)]
        settled = [shared.settled_row(c) for c in commands]
    finally:
        shared.openai.delay = 0.0
    assert [r["status"] for r in settled] == ["delivered"] * 8
    assert t.fake.rate_limited == [] and t.fake.flood_violations == 0
    # Every command has exactly one picture, in its own reply (edited in, or sent as a reply).
    for command in commands:
        pictures = [m for m in t.replies_to(command) if "photo" in m]
        assert len(pictures) == 1, command["text"]
    # The first requests were acknowledged one by one; the rest were listed on one board,
    # which is not a reply to anyone, named the waiting requests, and ends saying so.
    personal = [r for r in settled if status_message(r) is not None]
    assert 0 < len(personal) < len(settled)
    boards = [
        c
        for c in in_chat(t, GROUP, "sendMessage")
        if c.ok and str(c.params["text"]).startswith("⏳ Busy here")
    ]
    assert len(boards) == 1 and "reply_parameters" not in boards[0].params
    assert "busy fox" in str(boards[0].params["text"])
    (board,) = [
        m
        for (chat, _), m in list(t.fake.messages.items())
        if chat == GROUP and m["from"]["id"] == t.fake.bot_id and "reply_to_message" not in m
    ]
    wait_for(
        lambda: board["text"].startswith("✅"),
        20,
        message=lambda: f"the board's last word\n{shared.log()}",
    )
    assert t.fake.rate_limited == []


def status_message(row: dict[str, Any]) -> int | None:
    value = json.loads(row["handle"]).get("status_message_id")
    return int(value) if value is not None else None


def test_repeated_429s_on_the_picture_are_waited_out_as_long_as_asked(shared: Stack) -> None:
    """More 429s than the old five tries, each obeyed for its whole retry_after."""
    t = shared.telegram
    t.fake.failures["editMessageMedia"] = [(429, 1)] * 6
    command = t.send(ALICE, ALICE, "/imagine a patient heron")
    row = wait_for(
        lambda: (r := shared.row_replying_to(command)) and r["status"] == "delivered" and r,
        40,
        message=lambda: f"delivery\n{shared.log()}",
    )
    assert row["delivery_attempts"] == 6
    attempts = in_chat(t, ALICE, "editMessageMedia")
    assert [c.ok for c in attempts] == [False] * 6 + [True]
    gaps = [b.at - a.at for a, b in itertools.pairwise(attempts)]
    assert all(gap >= 1.0 for gap in gaps), gaps
    assert len([m for m in t.replies_to(command) if "photo" in m]) == 1


def test_a_permanent_refusal_fails_the_delivery_at_once_with_its_reason(shared: Stack) -> None:
    t = shared.telegram
    t.fake.failures["editMessageMedia"] = [(403, None)]
    command = t.send(BOB, BOB, "/imagine a closed door")
    row = shared.settled_row(command)
    assert row["status"] == "failed" and row["failure_code"] == "delivery_failed"
    assert "may not post in this chat" in row["failure_reason"]
    assert len(in_chat(t, BOB, "editMessageMedia")) == 1  # not tried again


def test_a_restart_waits_out_the_retry_after_then_delivers_once(
    tmp_path: Path, openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    stack = flood_stack(tmp_path, openai, redis_server.url)
    t = stack.telegram
    t.fake.failures["editMessageMedia"] = [(429, 4)]
    try:
        with process(["worker"], stack.env, tmp_path, tmp_path / "worker.log"):
            with process(["run", "--no-worker"], stack.env, tmp_path, tmp_path / "bot.log") as bot:
                wait_for(t.polling, 30, message=lambda: f"polling\n{stack.log()}")
                command = t.send(ALICE, ALICE, "/imagine a lantern in fog")
                wait_for(
                    lambda: (r := stack.row_replying_to(command)) and r["delivery_attempts"] == 1,
                    20,
                    message=lambda: f"the refused delivery\n{stack.log()}",
                )
                bot.send_signal(signal.SIGKILL)
                bot.wait(10)
            (refused,) = in_chat(t, ALICE, "editMessageMedia")
            killed_row = stack.row_replying_to(command)
            with process(["run", "--no-worker"], stack.env, tmp_path, tmp_path / "bot2.log"):
                row = stack.settled_row(command)
        assert row["status"] == "delivered"
        attempts = in_chat(t, ALICE, "editMessageMedia")
        assert [c.ok for c in attempts] == [False, True], [
            killed_row and killed_row["handle"],
            [ln for ln in stack.log().splitlines() if "generation" in ln or "slow" in ln],
            [
                (c.method, c.ok, c.error, round(c.at - refused.at, 2))
                for c in list(t.fake.calls)
                if c.params.get("chat_id") is not None and int(c.params["chat_id"]) == ALICE
            ],
        ]
        assert attempts[1].at - refused.at >= 4.0  # the restarted bot waited Telegram's time
        assert t.fake.flood_violations == 0
        assert len([m for m in t.replies_to(command) if "photo" in m]) == 1
    finally:
        t.stop()


def test_past_the_deadline_the_user_is_told_and_the_row_says_so(
    tmp_path: Path, openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    # A 0.001 h (3.6 s) deadline and a 429 asking for 5 s: the next try would be too late.
    stack = flood_stack(tmp_path, openai, redis_server.url, DELIVERY_DEADLINE_HOURS="0.001")
    t = stack.telegram
    t.fake.failures["editMessageMedia"] = [(429, 5)]
    try:
        with (
            process(["worker"], stack.env, tmp_path, tmp_path / "worker.log"),
            process(["run", "--no-worker"], stack.env, tmp_path, tmp_path / "bot.log"),
        ):
            wait_for(t.polling, 30, message=lambda: f"polling\n{stack.log()}")
            command = t.send(ALICE, ALICE, "/imagine a late train")
            row = stack.settled_row(command)
            assert row["status"] == "failed" and row["failure_code"] == "delivery_expired"
            assert "could not be posted within 0.001 hours" in row["failure_reason"]
            told = wait_for(
                lambda: [
                    m for m in t.replies_to(command) if "could not be posted" in m.get("text", "")
                ],
                20,
                message=lambda: f"the user told\n{stack.log()}",
            )
            assert len(told) == 1
        (refused,) = [c for c in in_chat(t, ALICE, "editMessageMedia")]
        telling = [c for c in in_chat(t, ALICE, "editMessageText") if c.ok]
        assert telling and telling[-1].at - refused.at >= 5.0  # even that waited its turn
        assert rows(stack.db, "SELECT status FROM generations") == [{"status": "failed"}]
    finally:
        t.stop()
