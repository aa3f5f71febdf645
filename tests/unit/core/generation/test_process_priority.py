"""Lowering a worker's CPU priority: every thread, the ones that already run included."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from bot.core.generation import process_priority

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="niceness per thread")

CHILD = """
import json, os, threading
from bot.core.generation.process_priority import lower_process_priority
started, stop = threading.Event(), threading.Event()
ids = []
def run():
    ids.append(threading.get_native_id()); started.set(); stop.wait()
thread = threading.Thread(target=run); thread.start(); started.wait()
after = lower_process_priority(5)
def nice(tid): return os.getpriority(os.PRIO_PROCESS, tid)
late = []
t2 = threading.Thread(target=lambda: late.append(nice(threading.get_native_id()))); t2.start(); t2.join()
print(json.dumps({"after": after, "main": nice(threading.get_native_id()), "running": nice(ids[0]), "started_later": late[0]}))
stop.set(); thread.join()
"""


@pytest.mark.e2e  # starts a Python process
def test_every_thread_is_lowered_and_later_threads_inherit_it() -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, timeout=30
    )
    found = json.loads(out.stdout)
    expected = min(19, base + 5)
    assert found == {
        "after": expected,
        "main": expected,
        "running": expected,
        "started_later": expected,
    }


def test_a_thread_that_ended_meanwhile_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    lowered: list[int] = []

    def lower(thread: int, increment: int) -> None:
        if thread == 1:
            raise ProcessLookupError(3, "No such process")
        lowered.append(thread)

    monkeypatch.setattr(process_priority, "lower_thread_priority", lower)
    monkeypatch.setattr(process_priority.os, "listdir", lambda path: ["1", "2", "3"])
    assert process_priority.lower_process_priority(10) == os.getpriority(os.PRIO_PROCESS, 0)
    assert lowered == [2, 3]


def test_where_it_is_forbidden_the_worker_keeps_its_priority_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def forbidden(which: int, who: int, value: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(process_priority.os, "setpriority", forbidden)
    with caplog.at_level(logging.WARNING):
        assert process_priority.lower_process_priority(10) is None
    assert "CPU priority not lowered" in caplog.text
    assert process_priority.lower_process_priority(0) == os.getpriority(os.PRIO_PROCESS, 0)
