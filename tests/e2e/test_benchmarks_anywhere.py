"""The inline-answer and user-install benchmarks keep working: each runs with tiny numbers and
prints one JSON object with its figures. Speed is not asserted; what every request must get
(an answer, the picture or words, no channel message) is."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.e2e


def run(script: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_inline_answers_prints_its_percentiles() -> None:
    result = run("inline_answers.py", "--rate", "10", "--seconds", "2", "--users", "4")
    assert result["scenario"] == "inline_answers"
    assert result["queries"] == result["answered"] == 20
    assert result["refused_by_the_fake"] == 0
    assert {"p50_ms", "p99_ms", "max_ms", "load_avg_1min"} <= result.keys()
    assert result["kinds"]["make"] and result["kinds"]["refused"] and result["kinds"]["photos"]


def test_discord_user_install_delivers_or_tells_and_never_posts_in_the_channel() -> None:
    result = run("discord_user_install.py", "--count", "2")
    assert result["quick_delivered_in_the_interaction"] == result["quick_commands"] == 2
    assert result["slow_told_in_words"] == result["slow_commands"] == 2
    assert result["channel_message_calls"] == 0
