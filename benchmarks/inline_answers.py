"""Telegram inline queries answered while people type: p50/p99/max from the query to its
`answerInlineQuery`, at a steady rate (target: p99 within 300 ms at 50 queries a second).

Starts the fake Bot API (inline mode on) in this process, a private Redis, and `imaginebot run`
(its own worker) as a subprocess against them and the fake OpenAI images API. A few users first
make a picture inline, so that an empty query has recent pictures to offer; then inline queries
arrive evenly at `--rate` per second for `--seconds`, from `--users` people: most are a prompt
being typed (one more word each time, some with a style), some a refusal (an unknown style),
some empty (recent pictures). Each latency is the fake's clock from the moment the query was
pushed to the moment its answer arrived: the long poll that carries it to the bot included.
Prints one JSON object.

    python benchmarks/inline_answers.py [--rate 50] [--seconds 20] [--users 40]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.stats import percentile
from tests.support import wait_for
from tests.support.telegram_stack import Stack, running_telegram_stack

WORDS = "a lighthouse at dusk over a quiet harbour with gulls and rain".split()
FIRST_USER = 5000


def texts(count: int) -> list[str]:
    """What people type, in order: growing prompts, a refusal now and then, empty queries."""
    out = []
    for i in range(count):
        if i % 7 == 3:
            out.append("a cat style:anmie")  # refused: did you mean anime
        elif i % 7 == 5:
            out.append("")  # recent pictures
        else:
            words = " ".join(WORDS[: 2 + i % (len(WORDS) - 1)])
            out.append(f"{words} style:anime" if i % 3 == 0 else words)
    return out


def warm_up(stack: Stack, users: list[int]) -> None:
    """A picture each for the first users, made inline, so empty queries offer photos."""
    t, fake = stack.telegram, stack.telegram.fake
    for user in users:
        query = t.inline_query(user, "a small boat")
        wait_for(lambda q=query: fake.inline.queries[q].answered_at, 30, message="an answer")
        message = t.choose(user, query, "make")
        wait_for(
            lambda m=message: "editMessageMedia" in fake.inline.messages[m.id].edits,
            60,
            message=f"the warm-up picture\n{stack.log()}",
        )


def load(stack: Stack, users: list[int], rate: float, seconds: float) -> dict[str, Any]:
    t, fake = stack.telegram, stack.telegram.fake
    typed = texts(int(rate * seconds))
    start = time.monotonic()
    ids = []
    for n, text in enumerate(typed):
        pause = start + n / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        ids.append(t.inline_query(users[n % len(users)], text))
    late = time.monotonic() - start - (len(typed) - 1) / rate
    wait_for(
        lambda: all(fake.inline.queries[i].answered_at for i in ids[-20:]),
        30,
        message=f"the last answers\n{stack.log()}",
    )
    time.sleep(1.0)
    queries = [fake.inline.queries[i] for i in ids]
    answered = [q for q in queries if q.answered_at is not None]
    latency = [(q.answered_at or 0) - q.asked_at for q in answered]
    return {
        "queries": len(queries),
        "answered": len(answered),
        "refused_by_the_fake": len(fake.calls_to("answerInlineQuery", ok=False)),
        "p50_ms": round(percentile(latency, 50) * 1000, 1),
        "p99_ms": round(percentile(latency, 99) * 1000, 1),
        "max_ms": round(max(latency) * 1000, 1),
        "sender_behind_s": round(max(0.0, late), 3),
        "kinds": {
            "make": sum(1 for q in answered if q.answers and q.answers[0]["id"] == "make"),
            "refused": sum(1 for q in answered if q.answers and q.answers[0]["id"] == "refused"),
            "photos": sum(1 for q in answered if q.answers and q.answers[0]["type"] == "photo"),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--users", type=int, default=40)
    args = parser.parse_args()
    users = list(range(FIRST_USER, FIRST_USER + args.users))
    with tempfile.TemporaryDirectory(prefix="imaginebot-inline-") as tmp:
        with running_telegram_stack(Path(tmp), telegram_options={"inline_enabled": True}) as stack:
            for user in users:
                stack.telegram.add_user(user, "typist")
            warm_up(stack, users[:3])
            load_before = os.getloadavg()[0]
            result = load(stack, users, args.rate, args.seconds)
            load_after = os.getloadavg()[0]
    print(
        json.dumps(
            {
                "scenario": "inline_answers",
                "rate_per_s": args.rate,
                "seconds": args.seconds,
                "target": "p99 <= 300 ms at 50 queries/s",
                **result,
                "load_avg_1min": [round(load_before, 1), round(load_after, 1)],
                "cores": os.cpu_count(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
