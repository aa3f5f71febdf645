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
    lines.append("")
    return "\n".join(lines)


def write(path: Path, results: list[dict[str, Any]], elapsed: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(results, elapsed), encoding="utf-8")
