"""`benchmarks/store.py --quick` keeps running and reports every operation for each backend."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.e2e

OPERATIONS = {"insert", "get", "lifecycle", "scope_settings", "history"}


def test_quick_store_benchmark_prints_rates_for_both_backends() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "store.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["scenario"] == "store_ops" and report["count"] == 50
    expected = {f"{op}_per_s_{mode}" for op in OPERATIONS for mode in ("serial", "x16")}
    for backend in ("sqlite", "postgresql", "postgresql_synchronous_commit_off"):
        assert set(report[backend]) == expected
        assert all(rate > 0 for rate in report[backend].values())
