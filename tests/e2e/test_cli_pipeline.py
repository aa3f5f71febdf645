"""`imaginebot imagine` end to end: real openai SDK -> fake images API, real SQLite, real Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.fakes.openai_images import FakeOpenAI
from tests.support import IMAGINEBOT, RedisServer, base_env, process, run_cli, wait_for
from tests.support.cli import only_row, openai_env

pytestmark = pytest.mark.e2e


def test_embedded_mode_writes_the_served_png(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    out = tmp_path / "out.png"
    result = run_cli(
        ["imagine", "a lighthouse at dusk", "--style", "anime", "-o", str(out)],
        openai_env(tmp_path, fake_openai),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "queued:" in result.stdout and "done:" in result.stdout
    assert len(fake_openai.images) == 1
    assert out.read_bytes() == fake_openai.images[0]
    body = fake_openai.calls[0].body
    assert body["model"] == "gpt-image-1" and body["size"] == "1024x1024"
    assert body["prompt"].startswith("a lighthouse at dusk, anime style")
    row = only_row(tmp_path)
    assert row["status"] == "delivered"
    assert row["style"] == "anime" and row["provider"] == "openai" and row["model"] == "gpt-image-1"
    assert row["provider_calls"] == 1
    stored = Path(str(row["image_path"]))
    assert stored.parent == tmp_path / "data" / "images"
    assert stored.name == f"{row['id']}.png" and stored.read_bytes() == fake_openai.images[0]


def test_redis_and_separate_worker_process(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    env = openai_env(tmp_path, fake_openai, REDIS_URL=redis_server.url)
    out = tmp_path / "out.png"
    with process(["worker"], env, tmp_path, tmp_path / "worker.log"):
        result = run_cli(
            ["imagine", "a red fox", "--aspect", "3:2", "-o", str(out)], env, cwd=tmp_path
        )
    assert result.returncode == 0, result.stderr + (tmp_path / "worker.log").read_text()
    assert out.read_bytes() == fake_openai.images[0]
    assert fake_openai.calls[0].body["size"] == "1536x1024"
    assert only_row(tmp_path)["status"] == "delivered"
    # The image bytes travelled through Redis but must not stay there.
    client = redis_server.client()
    leftovers = [k for k in client.keys("imaginebot:events:*")]
    assert leftovers == []
    for key in client.keys("*"):
        if client.type(key) == b"string":
            assert fake_openai.images[0][:64] not in client.get(key)
    # Once delivered, nothing of the request stays in Redis: no job, result, marker or
    # counter (so Redis goes back to its idle size when the queue drains).
    row_id = only_row(tmp_path)["id"]
    assert [k for k in client.keys("*") if str(row_id).encode() in k] == []


def test_refusal_is_final_and_reported(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    result = run_cli(
        ["imagine", "REFUSE_ME please", "-o", str(tmp_path / "x.png")],
        openai_env(tmp_path, fake_openai),
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "refused this prompt under its content policy" in result.stderr
    assert len(fake_openai.calls) == 1
    row = only_row(tmp_path)
    assert row["status"] == "failed" and row["failure_code"] == "refused"
    assert "content policy" in str(row["failure_reason"])
    assert not (tmp_path / "x.png").exists()


def test_two_server_errors_then_success(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.script = ["500", "500", "ok"]
    out = tmp_path / "out.png"
    result = run_cli(
        ["imagine", "a boat", "-o", str(out)], openai_env(tmp_path, fake_openai), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert [c.outcome for c in fake_openai.calls] == ["500", "500", "ok"]
    assert len(fake_openai.images) == 1 and out.read_bytes() == fake_openai.images[0]
    row = only_row(tmp_path)
    assert row["status"] == "delivered" and row["provider_calls"] == 3


def test_outage_after_all_tries_fails_with_plain_reason(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script = ["500", "500", "500"]
    result = run_cli(
        ["imagine", "a boat"], openai_env(tmp_path, fake_openai, JOB_MAX_TRIES="3"), cwd=tmp_path
    )
    assert result.returncode == 1
    # The operator at the terminal is told which provider and what to check.
    assert "failed: OpenAI answered only with errors (busy or down); try again later" in (
        result.stderr
    )
    assert len(fake_openai.calls) == 3
    row = only_row(tmp_path)
    assert row["failure_code"] == "busy"
    assert row["failure_reason"] == (
        "The image service is busy or having trouble right now. Please try again later."
    )


def test_bad_input_is_refused_before_any_provider_call(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    env = openai_env(tmp_path, fake_openai, MAX_PROMPT_CHARS="20")
    too_long = run_cli(["imagine", "x" * 21], env, cwd=tmp_path)
    assert too_long.returncode == 2 and "the limit is 20" in too_long.stderr
    unknown = run_cli(["imagine", "a cat", "--style", "anmie"], env, cwd=tmp_path)
    assert unknown.returncode == 2 and "Did you mean anime" in unknown.stderr
    assert fake_openai.calls == []


def test_an_aspect_the_provider_cannot_make_is_made_near_and_cropped(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    # gpt-image-1 makes 1024x1024, 1536x1024 and 1024x1536 only: 16:9 is made at 1536x1024
    # and centre-cropped to 1536x864.
    out = tmp_path / "wide.png"
    env = openai_env(tmp_path, fake_openai)
    result = run_cli(["imagine", "a cat", "--aspect", "16:9", "-o", str(out)], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [c.body.get("size") for c in fake_openai.calls] == ["1536x1024"]
    with Image.open(out) as picture:
        assert picture.size == (1536, 864)
    assert only_row(tmp_path)["crop_note"] == "made at 1536x1024 (3:2), cropped to 16:9"


def test_missing_key_and_bad_values_fail_at_start_naming_the_variable(tmp_path: Path) -> None:
    env = base_env(tmp_path / "data", IMAGE_PROVIDERS="openai")
    result = run_cli(["imagine", "a cat"], env, cwd=tmp_path)
    assert result.returncode == 2 and "OPENAI_API_KEY" in result.stderr
    env = base_env(tmp_path / "data", OPENAI_API_KEY="sk-x", MAX_PROMPT_CHARS="lots")
    result = run_cli(["imagine", "a cat"], env, cwd=tmp_path)
    assert result.returncode == 2 and "MAX_PROMPT_CHARS" in result.stderr
    env = base_env(tmp_path / "data", OPENAI_API_KEY="sk-x", IMAGE_PROVIDERS="openai,midjourney")
    result = run_cli(["imagine", "a cat"], env, cwd=tmp_path)
    assert (
        result.returncode == 2
        and "IMAGE_PROVIDERS" in result.stderr
        and "midjourney" in result.stderr
    )


def test_worker_killed_mid_job_delivers_exactly_once(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    # A short job timeout makes ARQ hand the dead worker's job on quickly (timeout + lock grace).
    env = openai_env(tmp_path, fake_openai, REDIS_URL=redis_server.url, JOB_TIMEOUT_SECONDS="3")
    fake_openai.script = ["slow:30"]  # the first call hangs until the worker is killed
    out = tmp_path / "out.png"
    cli = subprocess.Popen(
        [*IMAGINEBOT, "imagine", "a castle", "-o", str(out)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = tmp_path / "worker.log"
    with process(["worker"], env, tmp_path, log) as first:
        wait_for(lambda: len(fake_openai.calls) == 1, timeout=30, message="the first provider call")
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    started = time.monotonic()
    with process(["worker"], env, tmp_path, log):
        stdout, stderr = cli.communicate(timeout=90)
    assert cli.returncode == 0, stderr + log.read_text()
    assert time.monotonic() - started < 60
    assert len(fake_openai.images) == 1
    assert out.read_bytes() == fake_openai.images[0]
    row = only_row(tmp_path)
    assert row["status"] == "delivered"
    assert row["provider_calls"] == 2  # the killed call is counted, not hidden
    assert stdout.count("done:") == 1
