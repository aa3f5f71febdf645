"""The benchmark harness keeps working: `benchmarks/run.py --quick` runs every scenario with
tiny numbers and prints one valid JSON object per scenario. Speed is not asserted here, only
progress: a scenario that prints nothing for a long time is stuck."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.e2e

# Keys every scenario that ran must report, besides "scenario", "target" and "met".
EXPECTED = {
    "burst_discord": {"ack_p50_ms", "ack_p95_ms", "ack_p99_ms", "ack_max_ms", "late_acks"},
    "paced_discord": {"ack_p50_ms", "ack_p99_ms", "late_acks"},
    "added_latency_20_per_s": {"overhead_p50_ms", "overhead_p95_ms", "overhead_p99_ms"},
    "added_latency_50_per_s": {"overhead_p50_ms", "overhead_p95_ms", "overhead_p99_ms"},
    "capacity_1_worker": {"max_sustained_per_s", "bot_cpu_ms_per_gen", "steps"},
    "capacity_2_workers": {"max_sustained_per_s", "bot_cpu_ms_per_gen", "steps"},
    "provider_limit": {"delivered", "provider_429s", "total_s", "ideal_s"},
    "memory": {"bot_rss_idle_mb", "worker_rss_idle_mb", "redis_idle_kib", "redis_drained_kib"},
    "burst_telegram": {"ack_p50_ms", "ack_p99_ms", "ack_max_ms"},
    "paced_telegram": {"ack_p50_ms", "ack_p99_ms"},
    "telegram_platform_limit": {"delivered_per_s", "allowed_per_s", "platform_429s", "lost"},
    "busy_groups": {"delivered", "lost", "platform_429s", "last_picture_s", "rows"},
    "grid_discord": {"single_ack_p99_ms", "grid_ack_p99_ms", "grid_bot_cpu_ms_per_gen"},
    "grid_telegram": {"single_ack_p99_ms", "grid_ack_p99_ms", "grid_bot_cpu_ms_per_gen"},
    "img2img_telegram": {"ack_p99_ms", "bot_cpu_ms_per_gen", "bot_rss_peak_mb"},
    "variant_grids_telegram": {
        "count4_bot_cpu_ms_per_picture",
        "compare_bot_cpu_ms_per_picture",
        "permutations_bot_cpu_ms_per_picture",
    },
}
# Scenarios whose every request must have reached the fake platform, even in a quick run.
COMPLETE = {"burst_discord", "paced_discord", "added_latency_20_per_s", "provider_limit"}
# Scenarios that must have delivered every request, each with this many stored originals.
PICTURES = {
    "grid_discord": {"single": 1, "grid": 4},
    "grid_telegram": {"single": 1, "grid": 4},
    "img2img_telegram": {"": 1},
    "variant_grids_telegram": {"count4": 4, "compare": 4, "permutations": 4},
}


# Progress, not a total: each scenario prints its line when it ends, and a quick scenario takes
# a few seconds (up to ~20 s on a loaded 2-core machine). One that goes this long without a
# line is stuck; the total then grows with the work instead of a guess at the machine's speed.
SCENARIO_BUDGET_SECONDS = 90.0


def read_lines_with_progress(run: subprocess.Popen[str], budget: float) -> list[str]:
    """stdout's lines as they come; fails when none arrives for `budget` seconds."""
    assert run.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert run.stdout is not None
        for line in run.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=budget)
        except queue.Empty:
            pytest.fail(f"no scenario ended within {budget:.0f} s after {len(seen)} line(s)")
        if line is None:
            return seen
        seen.append(line)


@pytest.mark.timeout(len(EXPECTED) * SCENARIO_BUDGET_SECONDS)
def test_quick_run_prints_a_json_line_per_scenario(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    errors = (tmp_path / "stderr.log").open("w+")
    run = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
    )
    try:
        stdout = "".join(read_lines_with_progress(run, SCENARIO_BUDGET_SECONDS))
        run.wait(timeout=SCENARIO_BUDGET_SECONDS)
    finally:
        if run.poll() is None:
            # SIGTERM, not SIGKILL: run.py then stops the bots, workers, fakes and Redis
            # servers it started instead of leaving them running.
            run.terminate()
            run.wait(timeout=15)
        errors.seek(0)
        stderr = errors.read()
        errors.close()
    result = subprocess.CompletedProcess(run.args, run.returncode, stdout, stderr)
    assert result.returncode == 0, result.stderr[-4000:]
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert sorted(r["scenario"] for r in lines) == sorted(EXPECTED)
    for record in lines:
        assert record["quick"] is True
        if "skipped" in record:
            assert record["skipped"], record
            continue
        assert "error" not in record, record
        missing = EXPECTED[record["scenario"]] - set(record)
        assert not missing, (record["scenario"], missing)
        assert isinstance(record["met"], bool) and record["target"]
        if record["scenario"] in COMPLETE:
            assert record["delivered"] == record["commands"], record
            assert record.get("rejected_requests_at_fake", 0) == 0, record
        for prefix, pictures in PICTURES.get(record["scenario"], {}).items():
            key = f"{prefix}_" if prefix else ""
            assert record[f"{key}delivered"] == record["commands"], record
            assert record[f"{key}pictures_per_request"] == {str(pictures): record["commands"]}, (
                record
            )
        if record["scenario"] == "img2img_telegram":
            # Each picture was fetched, and only after its request was acknowledged.
            assert record["pictures_fetched"] == record["commands"], record
            assert record["fetched_before_ack"] == 0, record
            assert record["provider_edits"] == record["commands"], record
    ran = {r["scenario"] for r in lines if "skipped" not in r}
    assert ran >= set(EXPECTED) - {"burst_telegram", "paced_telegram", "telegram_platform_limit"}
    # A quick run never overwrites the published figures.
    assert not out.exists()
