"""Run the benchmark scenarios; print one JSON object per scenario (one line each).

    python benchmarks/run.py [--quick] [--scenario NAME ...] [--out docs/benchmarks.md]
                             [--profile DIR]

A full run (no --quick, every scenario) also writes the Markdown page to --out and its results
as JSON beside it (docs/benchmarks.json, what `report.py plots` draws from). --quick uses
tiny numbers and finishes in well under a minute; the test suite runs it to keep the harness
working. In a full run each scenario starts its own stack (Redis, fake provider, fake
platforms, bot, workers) in a temporary directory and stops everything it started before the
next one begins. --quick runs the scenarios grouped by stack configuration and lets
consecutive scenarios with the same configuration share one stack.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import (  # noqa: E402
    report,
    scenarios_discord,
    scenarios_pictures,
    scenarios_telegram,
    scenarios_variants,
)
from benchmarks.stack import shared_stacks  # noqa: E402

Scenario = Callable[[Path, bool, Path | None], dict[str, Any]]

SCENARIOS: dict[str, Scenario] = {
    "burst_discord": scenarios_discord.burst,
    "burst_telegram": scenarios_telegram.burst,
    "paced_discord": scenarios_discord.paced,
    "paced_telegram": scenarios_telegram.paced,
    "added_latency_20_per_s": scenarios_discord.added_latency_20,
    "added_latency_50_per_s": scenarios_discord.added_latency_50,
    "capacity_1_worker": scenarios_discord.capacity_1_worker,
    "capacity_2_workers": scenarios_discord.capacity_2_workers,
    "telegram_platform_limit": scenarios_telegram.platform_limit,
    "busy_groups": scenarios_telegram.busy_groups,
    "provider_limit": scenarios_discord.provider_limit,
    "memory": scenarios_discord.memory,
    "grid_discord": scenarios_pictures.grid_discord,
    "grid_telegram": scenarios_pictures.grid_telegram,
    "img2img_telegram": scenarios_pictures.img2img_telegram,
    "variant_grids_telegram": scenarios_variants.variant_grids_telegram,
}
# --quick order: scenarios that share a stack configuration in quick mode run back to back.
QUICK_ORDER = [
    # Discord, two workers, 0.2 s provider (scenarios_discord.QUICK_TWO_WORKERS)
    "burst_discord",
    "paced_discord",
    "added_latency_20_per_s",
    "added_latency_50_per_s",
    "capacity_2_workers",
    # Discord, one worker (scenarios_discord.QUICK_ONE_WORKER)
    "capacity_1_worker",
    "memory",
    # Discord, a provider that allows 4 concurrent requests
    "provider_limit",
    # Discord, two workers, the provider instant, the bot's HEALTH_PORT probed
    "grid_discord",
    # Telegram without rate limits
    "burst_telegram",
    "paced_telegram",
    # the same, the bot's HEALTH_PORT probed
    "grid_telegram",
    "img2img_telegram",
    "variant_grids_telegram",
    # Telegram with the platform's limits
    "telegram_platform_limit",
    "busy_groups",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="tiny numbers, well under a minute in total"
    )
    parser.add_argument(
        "--scenario", action="append", choices=sorted(SCENARIOS), help="run only these"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--profile", type=Path, help="run the bot under cProfile, write here")
    args = parser.parse_args(argv)
    # SIGTERM ends the run like Ctrl-C: every stack stops what it started on the way out.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    names = args.scenario or list(SCENARIOS)
    if args.quick:
        names = sorted(names, key=QUICK_ORDER.index)
    results: list[dict[str, Any]] = []
    started = time.monotonic()
    failed = False
    with ExitStack() as run_scope:
        if args.quick:
            # A shared stack lives in the directory of the scenario that started it: every
            # scenario directory stays until the run ends, and the shared stacks stop first.
            parent = Path(
                run_scope.enter_context(tempfile.TemporaryDirectory(prefix="imaginebot-bench-"))
            )
            run_scope.enter_context(shared_stacks())
        for name in names:
            profile = args.profile / name if args.profile else None
            scenario_started = time.monotonic()
            with ExitStack() as scenario_scope:
                if args.quick:
                    tmp = parent / name
                    tmp.mkdir(exist_ok=True)
                else:
                    tmp = Path(
                        scenario_scope.enter_context(
                            tempfile.TemporaryDirectory(prefix=f"imaginebot-bench-{name}-")
                        )
                    )
                try:
                    result = SCENARIOS[name](tmp, args.quick, profile)
                except Exception as exc:
                    traceback.print_exc(file=sys.stderr)
                    result = {"scenario": name, "error": f"{exc.__class__.__name__}: {exc}"[:500]}
                    failed = True
            result.setdefault("scenario", name)
            result["quick"] = args.quick
            result["elapsed_s"] = round(time.monotonic() - scenario_started, 1)
            results.append(result)
            print(json.dumps(result), flush=True)
    if not args.quick and not args.scenario:
        report.write(args.out, results, time.monotonic() - started)
        report.keep_json(args.out.with_suffix(".json"), results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
