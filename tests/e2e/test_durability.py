"""Chaos across processes: nothing lost, nothing posted twice.

Real Redis (append-only), `imaginebot run --no-worker` and `imaginebot worker` processes,
the fake OpenAI images API and the fake Discord. Counts are taken at the fakes: images that
reached Discord per request, calls that reached the provider.
"""

from __future__ import annotations

import random
import signal
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.discord_api import Interaction
from tests.fakes.discord_gateway import DiscordDriver
from tests.fakes.openai_images import FakeOpenAI
from tests.support import RedisServer, base_env, process, rows, wait_for

pytestmark = pytest.mark.e2e


def env_for(
    root: Path, discord: DiscordDriver, openai: FakeOpenAI, redis: RedisServer, **extra: str
) -> dict[str, str]:
    settings = {
        "OPENAI_API_KEY": openai.api_key,
        "OPENAI_BASE_URL": f"{openai.base_url}/v1",
        "REDIS_URL": redis.url,
        "MAX_PENDING_PER_USER": "100",
        "DAILY_LIMIT_PER_USER": "1000",
        "JOB_TIMEOUT_SECONDS": "3",
        "JOB_MAX_TRIES": "20",
        "RETRY_BACKOFF_SECONDS": "0.2",
        # One job per worker: a kill interrupts at most one paid provider call.
        "WORKER_MAX_JOBS": "1",
        **discord.env(),
        **extra,
    }
    return base_env(root / "data", **settings)


def logs(root: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-2000:] for p in sorted(root.glob("*.log")))


def rows_by_interaction(db: Path) -> dict[str, dict[str, Any]]:
    found = rows(
        db, "SELECT *, json_extract(handle, '$.interaction_id') AS interaction FROM generations"
    )
    return {str(r["interaction"]): r for r in found}


def image_writes(discord: DiscordDriver, interaction: Interaction) -> int:
    return sum(1 for w in discord.writes(interaction) if w.files)


def test_twenty_worker_kills_and_a_bot_restart_lose_nothing(
    tmp_path: Path, discord: DiscordDriver, fake_openai: FakeOpenAI
) -> None:
    redis = RedisServer(tmp_path / "redis", appendonly=True).start()
    fake_openai.delay = 0.4
    env = env_for(tmp_path, discord, fake_openai, redis)
    db = tmp_path / "data" / "imaginebot.sqlite3"
    rng = random.Random(20261124)
    kills = 0
    try:
        with ExitStack() as stack:
            workers = [
                stack.enter_context(process(["worker"], env, tmp_path, tmp_path / f"worker{i}.log"))
                for i in range(2)
            ]
            bot = stack.enter_context(
                process(["run", "--no-worker"], env, tmp_path, tmp_path / "bot.log")
            )
            wait_for(discord.connected, 30, message=lambda: f"gateway\n{logs(tmp_path)}")
            commands = [
                discord.slash("imagine", user=f"user{i % 10}", prompt=f"request {i}")
                for i in range(50)
            ]
            while kills < 20:
                time.sleep(rng.uniform(0.1, 0.7))
                # Kill while the provider is working, so kills interrupt running jobs (with
                # one job per worker, either worker is likely to hold one).
                wait_for(
                    lambda: fake_openai.in_flight > 0,
                    30,
                    interval=0.01,
                    message=lambda: f"a provider call in flight\n{logs(tmp_path)}",
                )
                index = rng.randrange(len(workers))
                workers[index].send_signal(signal.SIGKILL)
                workers[index].wait(10)
                kills += 1
                workers[index] = stack.enter_context(
                    process(["worker"], env, tmp_path, tmp_path / f"worker{index}.log")
                )
                if kills == 10:
                    bot.send_signal(signal.SIGKILL)
                    bot.wait(10)
                    wait_for(
                        lambda: not discord.connected(),
                        15,
                        message="the old gateway session to close",
                    )
                    bot = stack.enter_context(
                        process(["run", "--no-worker"], env, tmp_path, tmp_path / "bot2.log")
                    )
                    wait_for(
                        discord.connected,
                        30,
                        message=lambda: f"gateway after restart\n{logs(tmp_path)}",
                    )

            def settled() -> bool:
                by_interaction = rows_by_interaction(db)
                return all(
                    by_interaction.get(c.id, {}).get("status") in ("delivered", "failed")
                    for c in commands
                )

            wait_for(
                settled,
                150,
                interval=0.5,
                message=lambda: f"every request to settle\n{logs(tmp_path)}",
            )
            by_interaction = rows_by_interaction(db)
            statuses = [by_interaction[c.id]["status"] for c in commands]
            calls_per_row = [by_interaction[c.id]["provider_calls"] for c in commands]
            images = [image_writes(discord, c) for c in commands]
    finally:
        redis.stop()
    lost = statuses.count("failed")
    duplicates = sum(n - 1 for n in images if n > 1)
    print(
        f"\nkills={kills} requests={len(commands)} lost={lost} duplicates={duplicates} provider_calls={len(fake_openai.calls)} rerun_rows={sum(n > 1 for n in calls_per_row)}"
    )
    assert statuses == ["delivered"] * 50
    assert images == [1] * 50  # every request's image reached Discord exactly once
    assert len(fake_openai.calls) <= len(commands) + kills
    # Some kills interrupted a running job, which then ran again: the test cannot pass by
    # killing idle workers. Every call that reached the provider is counted on a row.
    assert any(n > 1 for n in calls_per_row), calls_per_row
    assert sum(calls_per_row) >= len(fake_openai.calls)


def test_redis_outage_is_told_to_users_and_loses_no_accepted_request(
    tmp_path: Path, discord: DiscordDriver, fake_openai: FakeOpenAI
) -> None:
    redis = RedisServer(tmp_path / "redis", appendonly=True).start()
    fake_openai.delay = 1.0
    env = env_for(tmp_path, discord, fake_openai, redis, WORKER_MAX_JOBS="4")
    db = tmp_path / "data" / "imaginebot.sqlite3"
    try:
        with (
            process(["worker"], env, tmp_path, tmp_path / "worker.log"),
            process(["run", "--no-worker"], env, tmp_path, tmp_path / "bot.log"),
        ):
            wait_for(discord.connected, 30, message=lambda: f"gateway\n{logs(tmp_path)}")
            accepted = [
                discord.slash("imagine", user=f"user{i}", prompt=f"before {i}") for i in range(8)
            ]
            # Accepted means enqueued, which the user sees as the queue position (a row alone
            # is written just before the enqueue, so it can still fail on a busy machine).
            wait_for(
                lambda: all(
                    any("Queued" in str(w.body.get("content")) for w in discord.writes(c))
                    for c in accepted
                ),
                15,
                message=lambda: f"the queue positions\n{logs(tmp_path)}",
            )
            redis.stop()
            during = discord.slash("imagine", user="late", prompt="during the outage")
            wait_for(
                lambda: any(
                    w.body.get("content") or w.body.get("embeds")
                    for w in discord.writes(during)
                    if w.kind != "callback"
                ),
                20,
                message=lambda: f"an answer during the outage\n{logs(tmp_path)}",
            )
            time.sleep(max(0.0, 10 - 2))
            redis.start()

            def delivered() -> bool:
                found = rows_by_interaction(db)
                return all(found[c.id]["status"] == "delivered" for c in accepted)

            wait_for(
                delivered,
                90,
                interval=0.5,
                message=lambda: f"accepted requests after the outage\n{logs(tmp_path)}",
            )
            told = discord.server.run_sync(discord.fake.original, during.id)
    finally:
        redis.stop()
    assert [image_writes(discord, c) for c in accepted] == [1] * 8
    row = rows_by_interaction(db)[during.id]
    assert row["status"] == "failed" and row["failure_code"] == "queue_unavailable"
    text = (told.content if told else "") + " ".join(str(w.body) for w in discord.writes(during))
    assert "queue is unavailable" in text


def test_redis_killed_and_restarted_empty_is_recovered_from_sqlite(
    tmp_path: Path, discord: DiscordDriver, fake_openai: FakeOpenAI
) -> None:
    """SIGKILL on a Redis without persistence loses every queued job, running job's lock and
    unread event; SQLite still has the rows, and every accepted request must still end."""
    redis = RedisServer(tmp_path / "redis", appendonly=False).start()
    fake_openai.delay = 1.0
    env = env_for(tmp_path, discord, fake_openai, redis, WORKER_MAX_JOBS="2")
    db = tmp_path / "data" / "imaginebot.sqlite3"
    try:
        with (
            process(["worker"], env, tmp_path, tmp_path / "worker.log"),
            process(["run", "--no-worker"], env, tmp_path, tmp_path / "bot.log"),
        ):
            wait_for(discord.connected, 30, message=lambda: f"gateway\n{logs(tmp_path)}")
            commands = [
                discord.slash("imagine", user=f"user{i}", prompt=f"request {i}") for i in range(8)
            ]

            def statuses() -> list[str]:
                found = rows_by_interaction(db)
                return [found[c.id]["status"] if c.id in found else "" for c in commands]

            # Hit the window on purpose: some requests finished, two running, the rest queued.
            wait_for(
                lambda: "delivered" in statuses() and fake_openai.in_flight == 2,
                30,
                interval=0.01,
                message=lambda: f"a delivered request and two running\n{logs(tmp_path)}",
            )
            before = statuses()
            assert before.count("queued") >= 2, before
            redis.kill()
            redis.start()  # same port, empty: every job, lock and event is gone

            # Well before housekeeping's next look (every 30 s, at rows older than 30 s): the
            # bot re-enqueues as soon as it finds its event stream gone.
            wait_for(
                lambda: all(s in ("delivered", "failed") for s in statuses()),
                20,
                interval=0.5,
                message=lambda: (
                    f"every request to settle after the loss\n{statuses()}\n{logs(tmp_path)}"
                ),
            )
            found = rows_by_interaction(db)
    finally:
        redis.stop()
    print(f"\nbefore the loss: {before}; after: {[found[c.id]['status'] for c in commands]}")
    for command in commands:
        row = found[command.id]
        if row["status"] == "failed":
            assert row["failure_reason"], row
        else:
            assert image_writes(discord, command) == 1, row
    assert all(image_writes(discord, c) <= 1 for c in commands)
