"""User-install `/imagine` in a DM between two users (the bot not a member), end to end:
how many pictures arrive through the interaction within its token's life when the provider is
quick, how many requests are told in plain words when it is not, and how many channel-message
calls (which Discord refuses there with 50001) the bot made.

Starts a private Redis, the fake OpenAI images API, the fake Discord (a private channel between
two users), `imaginebot run --no-worker` and `imaginebot worker`. Quick: `--count` commands,
the provider answering at once. Slow: `--count` commands made almost 15 minutes ago (their
token has about a minute left, so the bot's margin leaves no time at all), the provider taking
`--slow` seconds. Prints one JSON object.

    python benchmarks/discord_user_install.py [--count 20] [--slow 4]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.discord_api import Interaction
from tests.fakes.discord_gateway import DiscordDriver
from tests.support import wait_for
from tests.support.discord_stack import Stack, running_discord_stack

NOT_READY = "Not ready in time"
CHANNEL_POST = re.compile(r"^POST /api/v10/channels/\d+/messages:")
UP_FRONT = "not a member here"


def between(driver: DiscordDriver) -> None:
    alice, bob = driver.user("alice")["id"], driver.user("bob")["id"]
    driver.between = driver.fake.add_private_channel([alice, bob])  # type: ignore[attr-defined]


def texts(stack: Stack, command: Interaction) -> list[str]:
    return [
        str(w.body.get("content") or "")
        for w in stack.discord.writes(command)
        if w.kind in ("edit_original", "followup")
    ]


def settle(stack: Stack, commands: list[Interaction]) -> list[dict[str, Any]]:
    return [stack.delivered_row(c) for c in commands]


def run(stack: Stack, count: int, *, age: float) -> list[Interaction]:
    d = stack.discord
    place = d.between  # type: ignore[attr-defined]
    return [
        d.slash(
            "imagine", user="alice", install="user", private=place, prompt=f"a kite {n}", age=age
        )
        for n in range(count)
    ]


def quick(stack: Stack, count: int) -> dict[str, Any]:
    d = stack.discord
    started = time.monotonic()
    commands = run(stack, count, age=0.0)
    rows = settle(stack, commands)
    pictured = 0
    for command, row in zip(commands, rows, strict=True):
        original = d.server.run_sync(d.fake.original, command.id)
        if row["status"] == "delivered" and original is not None and original.attachments:
            pictured += 1
    return {
        "quick_commands": count,
        "quick_delivered_in_the_interaction": pictured,
        "quick_all_delivered_s": round(time.monotonic() - started, 2),
    }


def slow(stack: Stack, count: int, seconds: float) -> dict[str, Any]:
    stack.openai.delay = seconds
    try:
        commands = run(stack, count, age=15 * 60 - 63)
        for command in commands:
            wait_for(lambda c=command: any(NOT_READY in t for t in texts(stack, c)), 30)
        rows = settle(stack, commands)
    finally:
        stack.openai.delay = 0.0
    told = sum(
        1
        for command in commands
        if any(UP_FRONT in t for t in texts(stack, command))
        and any(NOT_READY in t for t in texts(stack, command))
    )
    kept = sum(1 for row in rows if '"kept_after_token_at"' in row["handle"])
    return {"slow_commands": count, "slow_told_in_words": told, "slow_kept_in_history": kept}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--slow", type=float, default=4.0)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="imaginebot-user-install-") as tmp:
        with running_discord_stack(Path(tmp), prepare=between) as stack:
            result = {**quick(stack, args.count), **slow(stack, args.count, args.slow)}
            fake = stack.discord.fake
            posts = [w for w in fake.writes if w.kind == "channel_message"]
            posts += [e for e in fake.errors if CHANNEL_POST.match(e)]  # refused: 50001
    print(
        json.dumps(
            {
                "scenario": "discord_user_install",
                **result,
                "channel_message_calls": len(posts),
                "load_avg_1min": [round(load_before, 1), round(os.getloadavg()[0], 1)],
                "cores": os.cpu_count(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
