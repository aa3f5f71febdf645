"""Telegram polling failover and the scale-out batch, on PostgreSQL and Redis; prints JSON.

    python benchmarks/failover.py [--requests 200] [--lease-seconds 6]

Two `imaginebot run --no-worker` processes serve one Telegram bot through the fake Bot API,
one worker generates through the fake images API. The polling process is SIGKILLed in the
middle of the batch; the JSON says how long until the survivor polled (`failover_seconds`,
the target is within 10 s), and whether every request was delivered exactly once.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fakes.openai_images import FakeOpenAI  # noqa: E402
from tests.fakes.server import ServerThread  # noqa: E402
from tests.support.scale_out import run_scenario  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--lease-seconds", type=float, default=6.0, help="TELEGRAM_POLL_LEASE_SECONDS"
    )
    parser.add_argument("--provider-delay", type=float, default=0.3)
    args = parser.parse_args()
    fake = FakeOpenAI()
    fake.delay = args.provider_delay
    server = ServerThread(fake.app()).start()
    fake.base_url = server.url
    try:
        with tempfile.TemporaryDirectory(prefix="imaginebot-failover-") as tmp:
            outcome = run_scenario(Path(tmp), fake, args.requests, lease_seconds=args.lease_seconds)
    finally:
        server.stop()
    result = asdict(outcome)
    telegram = list(result.pop("per_request").values())
    discord = list(result.pop("discord_images").values())
    result["telegram_with_one_picture"] = telegram.count(1)
    result["discord_with_one_image"] = discord.count(1)
    result["lease_seconds"] = args.lease_seconds
    result["exactly_once"] = (
        outcome.delivered_rows == outcome.requests
        and outcome.photo_messages == len(telegram) == telegram.count(1)
        and outcome.photo_sends == 0
        and len(discord) == discord.count(1) == outcome.discord_requests
    )
    print(json.dumps({"scenario": "failover_telegram", **result}))


if __name__ == "__main__":
    main()
