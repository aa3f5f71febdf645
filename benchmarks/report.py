"""The Markdown table written to docs/benchmarks.md from the scenarios' JSON results."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

INTRO = """# Benchmarks

`benchmarks/run.py` starts a private Redis, `imaginebot run --no-worker`, `imaginebot worker`
processes, the in-repo fake Discord and fake Telegram and a fake image provider (its own
process; latency and concurrency limit are parameters), drives load through the fake
platforms exactly as users would (slash interactions over the gateway, Telegram updates),
and prints one JSON object per scenario. Per-user and per-scope limits are raised
(`MAX_PENDING_PER_USER`, `DAILY_LIMIT_PER_USER`, `DAILY_LIMIT_PER_SCOPE`) so the runs
measure speed, not policy; logging is at WARNING.

    .venv/bin/python benchmarks/run.py                 # every scenario, writes this page
    .venv/bin/python benchmarks/run.py --quick         # tiny numbers, seconds (the test suite runs it)
    .venv/bin/python benchmarks/run.py --scenario burst_discord --scenario memory
    .venv/bin/python benchmarks/run.py --scenario capacity_2_workers --profile /tmp/prof

How the figures are taken:

- **ack**: the fake platform's clock, from sending the command (gateway dispatch / update
  delivered) to receiving the bot's acknowledgement (Discord defer callback / Telegram status
  reply). A Discord ack later than 3 s is refused by the fake and counted as late.
- **overhead**: (image received by the fake platform) - (command sent) - (provider latency).
- **CPU per generation**: user + system CPU time of the bot process (and of all workers
  together) during the scenario, divided by the images delivered (psutil).
- Everything runs on one machine: the fakes, Redis and the harness share its cores with the
  bot, so the figures are an upper bound on what the bot itself costs. The fake provider
  serves small pre-rendered PNGs (about 16 KB); real images of 1-3 MB add upload time on
  the platform side, not bot CPU.

"""


NOTES = """
## What costs time (profiles of the bot under load)

py-spy on the bot process at 100 /imagine per second through the fake Discord (share of the
bot's samples): the `/imagine` handler about 28 % (of which enqueueing in one Redis MULTI 9 %,
the SQLite insert and quota reads about 7 %), delivering results 25 % (the multipart edit
through discord.py's webhook adapter 12 %, writing the image file 4.5 %, SQLite transitions),
throttled status edits 6 %, the defer callback 5 %, gateway parsing 3 %. Socket writes
(Redis and HTTP on loopback) are the largest single item (14 % self time), and aiosqlite's
thread takes 14 %.

- ARQ re-checked every queued job, running ones included, with three Redis round trips on
  every poll; with ~50-150 jobs in flight that was most of a worker's CPU (36 ms per
  generation at 20/s). Workers now skip their own running jobs and check the others in one
  pipelined round trip (`QuickPollWorker` in `bot/core/worker.py`): worker CPU per generation
  36 -> 9 ms at 20/s, added latency p50 77 -> 36 ms at 20/s and 415 -> 50 ms at 50/s, one
  worker's capacity 50 -> 100 generations/s.
- Acknowledgements share the bot's one event loop and aiosqlite's one thread with
  deliveries. Every validation that reads SQLite (per-scope limits, scope settings) waits
  behind queued delivery writes, which is where the Discord ack p99 of 150-350 ms at 100/s
  comes from. Keeping scope settings and limits in memory (the bot is the only writer, so a
  write-through cache is exact) would make the acknowledgement path free of SQLite.
- The Telegram adapter spends about 25 ms of bot CPU per generation (Discord: 5-8 ms):
  python-telegram-bot builds and parses every Bot API call through httpx, and each request
  costs four calls (status reply, status edit, chat action, photo edit). At 100 commands/s
  that is more than two cores, so acknowledgements queue behind each other.
- Under the platform limit the bot's own limiter (python-telegram-bot's `AIORateLimiter`,
  30/s) counts every call, edits and chat actions included, while Telegram's 30/s counts
  messages sent; the bot therefore delivers far below the allowed photo rate.
- With a provider that allows 4 requests at once, workers take up to `WORKER_MAX_JOBS`
  jobs and each job then waits inside its run for a shared provider slot, polling Redis every
  50 ms: the waiting burns the job's timeout (requests fail after `JOB_TIMEOUT_SECONDS`) and
  worker CPU (hundreds of ms per generation). Taking a slot before a job leaves the queue
  would keep waiting requests queued, where they cost nothing.
- Memory: the bot idles at about 90 MB resident (discord.py, python-telegram-bot, openai
  and PIL imported), a worker at about 80 MB. Redis keeps about 1.2 KB per finished
  request (ARQ's job result for an hour and the provider-call counter), no image bytes:
  every event, image included, is deleted once handled.
"""


def _figures(result: dict[str, Any]) -> str:
    skip = {"scenario", "target", "met", "steps"}
    parts = [f"{k}={v}" for k, v in result.items() if k not in skip and v is not None]
    if "steps" in result:
        steps = ", ".join(
            f"{s['offered']}/s->{s['achieved']}/s p99 {s['overhead_p99_ms']} ms"
            for s in result["steps"]
        )
        parts.append(f"steps: {steps}")
    return "; ".join(parts)


def markdown(results: list[dict[str, Any]], elapsed: float) -> str:
    lines = [
        INTRO,
        f"Last full run: {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{elapsed / 60:.1f} minutes.",
        "",
        "| scenario | target | met | figures |",
        "|---|---|---|---|",
    ]
    for r in results:
        if "skipped" in r:
            lines.append(f"| {r['scenario']} | - | not run | {r['skipped']} |")
            continue
        met = "yes" if r.get("met") else "**no**"
        lines.append(f"| {r['scenario']} | {r.get('target', '')} | {met} | {_figures(r)} |")
    lines.append(NOTES)
    return "\n".join(lines)


# The figures the README's summary shows for each scenario (the full set is in the doc).
HEADLINE: dict[str, tuple[str, ...]] = {
    "burst_discord": ("ack_p50_ms", "ack_p99_ms", "ack_max_ms", "late_acks"),
    "burst_telegram": ("ack_p50_ms", "ack_p99_ms", "ack_max_ms", "bot_cpu_ms_per_gen"),
    "paced_discord": ("ack_p50_ms", "ack_p99_ms", "bot_cpu_ms_per_gen"),
    "paced_telegram": ("ack_p50_ms", "ack_p99_ms", "bot_cpu_ms_per_gen"),
    "added_latency_20_per_s": ("overhead_p50_ms", "overhead_p95_ms", "overhead_p99_ms"),
    "added_latency_50_per_s": ("overhead_p50_ms", "overhead_p95_ms", "overhead_p99_ms"),
    "capacity_1_worker": ("max_sustained_per_s", "bot_cpu_ms_per_gen", "worker_cpu_ms_per_gen"),
    "capacity_2_workers": ("max_sustained_per_s", "bot_cpu_ms_per_gen", "worker_cpu_ms_per_gen"),
    "telegram_platform_limit": ("delivered_per_s", "of_allowed_pct", "platform_429s", "lost"),
    "provider_limit": ("delivered", "total_s", "ideal_s", "provider_429s"),
    "memory": (
        "bot_rss_idle_mb",
        "bot_rss_queued_mb",
        "worker_rss_idle_mb",
        "worker_rss_draining_peak_mb",
        "redis_idle_kib",
        "redis_drained_kib",
    ),
}
README_START = "<!-- benchmarks:start -->"
README_END = "<!-- benchmarks:end -->"


def summary(results: list[dict[str, Any]]) -> str:
    """The README's short table: each scenario's target, whether it was met, key figures."""
    lines = ["| scenario | target | met | figures |", "|---|---|---|---|"]
    for r in results:
        if "target" not in r:
            continue
        keys = HEADLINE.get(r["scenario"], ())
        figures = ", ".join(f"{k}={r[k]}" for k in keys if r.get(k) is not None)
        met = "yes" if r.get("met") else "**no**"
        lines.append(f"| {r['scenario']} | {r['target']} | {met} | {figures} |")
    return "\n".join(lines)


def update_readme(readme: Path, results: list[dict[str, Any]], when: str) -> None:
    """Replace what stands between the README's markers with the latest summary."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return
    block = f"{README_START}\nLast full run: {when}.\n\n{summary(results)}\n"
    readme.write_text(text[:start] + block + text[end:], encoding="utf-8")


def write(
    path: Path, results: list[dict[str, Any]], elapsed: float, readme: Path | None = None
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(results, elapsed), encoding="utf-8")
    if readme is not None and readme.exists():
        when = f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores"
        update_readme(readme, results, when)
