"""Acknowledgement latency of `/imagine` under a burst, measured at the fake Discord.

Starts a private Redis, the fake OpenAI images API, the fake Discord, `imaginebot run
--no-worker` and one `imaginebot worker`, sends N guild /imagine interactions over the
gateway back to back (N distinct users), and reports the time from each dispatch to the
bot's acknowledgement callback (p50/p99/max, ms) plus the time until all were delivered.

    python benchmarks/discord_ack.py [--count 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.discord_gateway import DiscordDriver, command_options, interaction_payload
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.server import ServerThread
from tests.support import RedisServer, base_env, process, rows, wait_for


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        redis = RedisServer(root / "redis").start()
        openai = FakeOpenAI()
        openai_server = ServerThread(openai.app()).start()
        openai.base_url = openai_server.url
        driver = DiscordDriver().start()
        env = base_env(
            root / "data",
            OPENAI_API_KEY=openai.api_key,
            OPENAI_BASE_URL=f"{openai.base_url}/v1",
            REDIS_URL=redis.url,
            LOG_LEVEL="WARNING",
            **driver.env(),
        )
        try:
            with (
                process(["worker"], env, root, root / "worker.log"),
                process(["run", "--no-worker"], env, root, root / "bot.log"),
            ):
                wait_for(driver.connected, 60, message="the bot's gateway connection")
                fake = driver.fake
                payloads: list[dict[str, Any]] = []
                for i in range(args.count):
                    data = command_options(
                        fake, "imagine", driver.guild_id, {"prompt": f"burst picture {i}"}
                    )
                    payloads.append(
                        interaction_payload(
                            fake,
                            2,
                            data,
                            user=driver.user(f"user{i}"),
                            channel_id=driver.channel_id,
                            guild_id=driver.guild_id,
                            permissions=0x7FFFFFFF,
                        )
                    )

                async def burst() -> None:
                    for payload in payloads:
                        await fake.gateway.dispatch(payload)

                started = time.monotonic()
                driver.server.call(burst())
                ids = [p["id"] for p in payloads]
                wait_for(
                    lambda: all(fake.interactions[i].responded_at for i in ids),
                    60,
                    message="every acknowledgement",
                )
                latencies = [
                    (fake.interactions[i].responded_at or 0) - fake.interactions[i].dispatched_at
                    for i in ids
                ]
                types = {fake.interactions[i].response_type for i in ids}
                db = root / "data" / "imaginebot.sqlite3"
                wait_for(
                    lambda: (
                        rows(
                            db, "SELECT COUNT(*) AS n FROM generations WHERE status = 'delivered'"
                        )[0]["n"]
                        >= args.count
                    ),
                    300,
                    interval=0.2,
                    message="every delivery",
                )
                all_delivered = time.monotonic() - started
        finally:
            driver.stop()
            openai_server.stop()
            redis.stop()
    ms = [v * 1000 for v in latencies]
    print(
        json.dumps(
            {
                "commands": args.count,
                "ack_p50_ms": round(statistics.median(ms), 1),
                "ack_p99_ms": round(percentile(ms, 99), 1),
                "ack_max_ms": round(max(ms), 1),
                "late_acks_over_3s": sum(1 for v in ms if v > 3000),
                "callback_types": sorted(t for t in types if t is not None),
                "all_delivered_seconds": round(all_delivered, 2),
                "rejected_requests_at_fake": len(fake.errors),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
