"""What `imaginebot` prints at the terminal: progress without log lines in between, a sentence
naming the provider that did not answer, and a quiet exit when the reader of a pipe goes away."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.fakes.openai_images import FakeOpenAI
from tests.support import IMAGINEBOT, base_env, free_port, run_cli

pytestmark = pytest.mark.e2e

PROGRESS = ("queued: ", "generating", "retrying: ", "done: ", "failed: ")


def merged_output(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, list[str]]:
    """Run with stderr into the same pipe as stdout, as a terminal shows them."""
    result = subprocess.run(
        [*IMAGINEBOT, *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=90,
    )
    return result.returncode, result.stdout.splitlines()


def between_queued_and_end(lines: list[str]) -> list[str]:
    start = next(i for i, line in enumerate(lines) if line.startswith("queued: "))
    end = next(i for i, line in enumerate(lines) if line.startswith(("done: ", "failed: ")))
    return lines[start : end + 1]


def test_unreachable_default_provider_is_named_with_what_to_set(tmp_path: Path) -> None:
    # No key: the default provider is AI Horde, and nothing answers at its address.
    env = base_env(
        tmp_path / "data",
        HORDE_API_URL=f"http://127.0.0.1:{free_port()}/api/v2",
        JOB_MAX_TRIES="2",
        LOG_LEVEL="INFO",
    )
    status, lines = merged_output(["imagine", "a lighthouse"], env, tmp_path)
    assert status == 1, lines
    assert lines[-1] == (
        "failed: AI Horde cannot be reached; set OPENAI_API_KEY or IMAGE_PROVIDERS to use "
        "another provider, or check HORDE_API_URL and the network (`imaginebot providers` "
        "checks them)"
    )
    shown = between_queued_and_end(lines)
    # The first try failed, then the second: said as what it is, not as "busy".
    assert "retrying: The image service cannot be reached; trying again…" in shown
    assert all(line.startswith(PROGRESS) for line in shown), lines


def test_progress_lines_are_not_interleaved_with_log_lines(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script = ["500", "ok"]  # a retry: the jobs module logs it at INFO
    env = base_env(
        tmp_path / "data",
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=f"{fake_openai.base_url}/v1",
        LOG_LEVEL="INFO",
    )
    status, lines = merged_output(
        ["imagine", "a boat", "-o", str(tmp_path / "a.png")], env, tmp_path
    )
    assert status == 0, lines
    assert len(fake_openai.calls) == 2
    shown = between_queued_and_end(lines)
    assert shown[-1].startswith("done: ")
    assert all(line.startswith(PROGRESS) for line in shown), lines


def test_history_into_a_closed_pipe_exits_quietly(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    env = base_env(
        tmp_path / "data",
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=f"{fake_openai.base_url}/v1",
    )
    for prompt in ("a cat",):
        assert (
            run_cli(["imagine", prompt, "-o", str(tmp_path / "x.png")], env, tmp_path).returncode
            == 0
        )
    # `imaginebot history | head -0`: the reader is gone before the first line is written.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [*IMAGINEBOT, "history"],
            env=env,
            cwd=tmp_path,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 0


def test_a_rejected_key_moves_the_request_to_the_next_provider(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    from tests.fakes.horde_api import FakeHorde
    from tests.fakes.server import ServerThread

    horde = FakeHorde(checks_before_done=0)
    server = ServerThread(horde.app()).start()
    try:
        env = base_env(
            tmp_path / "data",
            IMAGE_PROVIDERS="openai,horde",
            OPENAI_API_KEY="sk-revoked-key",  # the fake answers 401 invalid_api_key
            OPENAI_BASE_URL=f"{fake_openai.base_url}/v1",
            HORDE_API_URL=f"{server.url}/api/v2",
            JOB_MAX_TRIES="1",
        )
        result = run_cli(["imagine", "a mill", "-o", str(tmp_path / "m.png")], env, tmp_path)
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    assert "horde" in result.stdout and len(horde.jobs) == 1
    assert fake_openai.images == []
