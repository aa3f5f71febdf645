"""The scale-out scenario, shared by its end-to-end test and `benchmarks/failover.py`.

PostgreSQL (a fresh database), a private redis-server, the fake Bot API, the fake Discord and
the fake images API; one worker and two `imaginebot run --no-worker` bot processes serving
one Telegram bot and one Discord bot, Discord shard 0 of 2 in the first, shard 1 in the
second, with servers on both shards. The first polls Telegram (it holds the lease); a batch
of requests goes in, half on Telegram, half on Discord, and in the middle of it the first
process is SIGKILLed. The second must take over Telegram polling and the first's pending
completion events (delivering its Discord shard's results over REST); every request is then
delivered exactly once, nothing is posted twice.
"""

from __future__ import annotations

import contextlib
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fakes.discord_api import Interaction
from tests.fakes.discord_gateway import DiscordDriver
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.telegram_api import TelegramDriver
from tests.support import RedisServer, base_env, process, wait_for
from tests.support.postgres import database, pg_rows

FIRST_USER = 5000


@dataclass
class Outcome:
    requests: int
    telegram_requests: int
    discord_requests: int
    discord_shards: list[tuple[int, int]]  # as the two processes identified
    discord_images: dict[str, int]  # interaction id -> image uploads for it
    delivered_rows: int
    photo_messages: int  # distinct chat messages holding a picture
    photo_sends: int  # sendPhoto calls (a new message; edits of the reply are the norm)
    per_request: dict[int, int]  # command message id -> pictures replying to it
    failover_seconds: float  # SIGKILL of the poller -> the survivor's first getUpdates
    total_seconds: float


def run_scenario(
    tmp_path: Path, fake_openai: FakeOpenAI, requests: int, *, lease_seconds: float = 3.0
) -> Outcome:
    redis = RedisServer(tmp_path / "redis").start()
    telegram = TelegramDriver().start()
    discord = DiscordDriver().start()
    guilds = guilds_on_both_shards(discord)
    discord_count = requests // 2
    users = [FIRST_USER + n for n in range(requests - discord_count)]
    for user in users:
        telegram.add_user(user, f"user{user}")

    def logs() -> str:
        return "\n".join(p.read_text(errors="replace")[-2500:] for p in tmp_path.glob("*.log"))

    try:
        with database() as url, contextlib.ExitStack() as stack:
            env = base_env(
                tmp_path / "data",
                DATABASE_URL=url,
                REDIS_URL=redis.url,
                OPENAI_API_KEY=fake_openai.api_key,
                OPENAI_BASE_URL=f"{fake_openai.base_url}/v1",
                TELEGRAM_POLL_LEASE_SECONDS=str(lease_seconds),
                WORKER_MAX_JOBS="8",
                DISCORD_SHARD_COUNT="2",
                **telegram.env(),
                **discord.env(),
            )
            stack.enter_context(process(["worker"], env, tmp_path, tmp_path / "worker.log"))
            first = stack.enter_context(
                process(
                    ["run", "--no-worker"],
                    {**env, "DISCORD_SHARD_IDS": "0"},
                    tmp_path,
                    tmp_path / "bot-a.log",
                )
            )
            wait_for(telegram.polling, 40, message=lambda: f"the first bot polling\n{logs()}")
            second = stack.enter_context(
                process(
                    ["run", "--no-worker"],
                    {**env, "DISCORD_SHARD_IDS": "1"},
                    tmp_path,
                    tmp_path / "bot-b.log",
                )
            )
            wait_for(
                lambda: (
                    "connected to Telegram" in (tmp_path / "bot-b.log").read_text()
                    and len(discord.fake.gateway.sessions) == 2
                ),
                40,
                message=lambda: f"the second bot connected\n{logs()}",
            )
            shards = sorted(session.shard for session in discord.fake.gateway.sessions)
            started = time.monotonic()
            # Discord's half first: a shard's commands need its process alive to arrive.
            interactions: list[Interaction] = [
                discord.slash(
                    "imagine",
                    user=f"d{n}",
                    guild=guilds[n % 2],
                    prompt=f"a harbour number {n}",
                )
                for n in range(discord_count)
            ]
            half = len(users) // 2
            commands = [
                telegram.send(user, user, f"/imagine a lighthouse number {n}")
                for n, user in enumerate(users[:half])
            ]

            def delivered_count() -> int:
                found = pg_rows(
                    url, "SELECT count(*) AS n FROM generations WHERE status = 'delivered'"
                )
                return int(str(found[0]["n"]))

            # Kill the poller while part of the first half is still on its way.
            wait_for(lambda: delivered_count() >= max(1, requests // 8), 60, message=logs())
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            killed = time.monotonic()
            polls_before = len(telegram.fake.calls_to("getUpdates", ok=None))
            commands += [
                telegram.send(user, user, f"/imagine a lighthouse number {half + n}")
                for n, user in enumerate(users[half:])
            ]

            def survivor_polls() -> bool:
                return len(telegram.fake.calls_to("getUpdates", ok=None)) > polls_before

            wait_for(survivor_polls, 30, interval=0.05, message=lambda: f"the takeover\n{logs()}")
            failover = time.monotonic() - killed
            wait_for(
                lambda: delivered_count() >= requests,
                120,
                interval=0.5,
                message=lambda: f"every request delivered\n{logs()}",
            )
            total = time.monotonic() - started
            time.sleep(2.0)  # a second posting would show by now
            assert second.poll() is None, logs()
            rows = pg_rows(url, "SELECT reply_to_message_id, status FROM generations")
            return Outcome(
                requests=requests,
                telegram_requests=len(users),
                discord_requests=discord_count,
                discord_shards=shards,
                discord_images={
                    i.id: sum(1 for w in discord.writes(i) if w.files) for i in interactions
                },
                delivered_rows=sum(1 for r in rows if r["status"] == "delivered"),
                photo_messages=len(photo_messages(telegram, users)),
                photo_sends=sum(
                    1
                    for user in users
                    for call in telegram.server.run_sync(telegram.fake.photos_in, user)
                    if call.method == "sendPhoto"
                ),
                per_request=pictures_per_command(telegram, commands),
                failover_seconds=failover,
                total_seconds=total,
            )
    finally:
        telegram.stop()
        discord.stop()
        redis.stop()


def guilds_on_both_shards(discord: DiscordDriver) -> list[str]:
    """A server on shard 0 and one on shard 1 of 2 (Discord: (guild_id >> 22) % 2)."""
    on: dict[int, str] = {}
    for guild_id in list(discord.fake.guilds):
        on.setdefault(discord.fake.gateway.shard_of(guild_id, 2), guild_id)
    while len(on) < 2:
        guild_id, _channel = discord.fake.add_guild(f"Server {len(discord.fake.guilds)}")
        on.setdefault(discord.fake.gateway.shard_of(guild_id, 2), guild_id)
    return [on[0], on[1]]


def photo_messages(telegram: TelegramDriver, chats: list[int]) -> set[tuple[int, Any]]:
    """(chat, message) pairs that hold a picture: an edit of the same message twice is one."""
    found: set[tuple[int, Any]] = set()
    for chat in chats:
        for n, call in enumerate(telegram.server.run_sync(telegram.fake.photos_in, chat)):
            key = call.params.get("message_id") if call.method == "editMessageMedia" else f"s{n}"
            found.add((chat, key))
    return found


def pictures_per_command(
    telegram: TelegramDriver, commands: list[dict[str, Any]]
) -> dict[int, int]:
    counts: dict[int, int] = {}
    for command in commands:
        replies = telegram.replies_to(command)
        counts[int(command["message_id"])] = sum(1 for m in replies if m.get("photo"))
    return counts
