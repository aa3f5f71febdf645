"""Worker operations across processes: health, metrics, --check, and SIGTERM hand-back."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.fakes.openai_images import FakeOpenAI
from tests.support import (
    IMAGINEBOT,
    RedisServer,
    base_env,
    free_port,
    process,
    rows,
    run_cli,
    thread_niceness,
    wait_for,
)

pytestmark = pytest.mark.e2e


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def env_for(
    tmp_path: Path, fake: FakeOpenAI, redis_server: RedisServer, **extra: str
) -> dict[str, str]:
    return base_env(
        tmp_path / "data",
        OPENAI_API_KEY=fake.api_key,
        OPENAI_BASE_URL=f"{fake.base_url}/v1",
        REDIS_URL=redis_server.url,
        **extra,
    )


def test_health_metrics_and_check(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    port = free_port()
    env = env_for(tmp_path, fake_openai, redis_server, HEALTH_PORT=str(port))
    assert run_cli(["worker", "--check"], env, tmp_path).returncode == 1  # no worker yet
    with process(["worker"], env, tmp_path, tmp_path / "worker.log") as worker:
        status, body = wait_for(
            lambda: (r := http_get(f"http://127.0.0.1:{port}/healthz"))[0] == 200 and r,
            timeout=20,
            message="worker /healthz",
        )
        assert json.loads(body) == {
            "ok": True,
            "checks": {"redis": True, "worker_heartbeat": True},
            "failing": [],
        }
        check = run_cli(["worker", "--check"], env, tmp_path)
        assert check.returncode == 0 and "fresh" in check.stdout
        result = run_cli(["imagine", "a kite", "-o", str(tmp_path / "k.png")], env, tmp_path)
        assert result.returncode == 0, result.stderr
        status, text = http_get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        assert 'imaginebot_provider_calls_total{provider="openai"} 1.0' in text
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    # A stopped worker removes its heartbeat: the check now fails.
    assert run_cli(["worker", "--check"], env, tmp_path).returncode == 1


def test_sigterm_lets_the_running_job_finish(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    env = env_for(tmp_path, fake_openai, redis_server, WORKER_SHUTDOWN_GRACE_SECONDS="20")
    fake_openai.script = ["slow:2"]
    out = tmp_path / "out.png"
    cli = subprocess.Popen(
        [*IMAGINEBOT, "imagine", "a mill", "-o", str(out)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with process(["worker"], env, tmp_path, tmp_path / "worker.log") as worker:
        wait_for(lambda: len(fake_openai.calls) == 1, timeout=30, message="the provider call")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    _stdout, stderr = cli.communicate(timeout=30)
    assert cli.returncode == 0, stderr
    assert len(fake_openai.calls) == 1 and out.read_bytes() == fake_openai.images[0]


def test_sigterm_hands_a_long_job_back(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    env = env_for(tmp_path, fake_openai, redis_server, WORKER_SHUTDOWN_GRACE_SECONDS="1")
    fake_openai.script = ["slow:60"]
    out = tmp_path / "out.png"
    cli = subprocess.Popen(
        [*IMAGINEBOT, "imagine", "a tower", "-o", str(out)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = tmp_path / "worker.log"
    with process(["worker"], env, tmp_path, log) as worker:
        wait_for(lambda: len(fake_openai.calls) == 1, timeout=30, message="the provider call")
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    # The job went back to the queue at once (no lock to wait out): a new worker takes it.
    with process(["worker"], env, tmp_path, log):
        _stdout, stderr = cli.communicate(timeout=40)
    assert cli.returncode == 0, stderr + log.read_text()
    assert len(fake_openai.calls) == 2 and len(fake_openai.images) == 1
    assert out.read_bytes() == fake_openai.images[0]
    found = rows(
        tmp_path / "data" / "imaginebot.sqlite3", "SELECT status, provider_calls FROM generations"
    )
    assert found == [{"status": "delivered", "provider_calls": 2}]


@pytest.mark.parametrize(("setting", "expected"), [(None, 10), ("0", 0), ("19", 19)])
def test_a_worker_lowers_its_cpu_priority(
    tmp_path: Path,
    fake_openai: FakeOpenAI,
    redis_server: RedisServer,
    setting: str | None,
    expected: int,
) -> None:
    """WORKER_NICENESS (10 by default) on every thread of `imaginebot worker`, those it
    started for a job (the picture threads among them: +10 more, at most 19) included."""
    extra = {"WORKER_NICENESS": setting} if setting is not None else {}
    env = env_for(tmp_path, fake_openai, redis_server, **extra)
    with process(["worker"], env, tmp_path, tmp_path / "worker.log") as worker:
        wait_for(
            lambda: "CPU niceness" in (tmp_path / "worker.log").read_text(),
            timeout=20,
            message="the worker's start",
        )
        result = run_cli(
            ["imagine", "a kite", "--count", "2", "-o", str(tmp_path / "k.png")], env, tmp_path
        )
        assert result.returncode == 0, result.stderr
        niceness = thread_niceness(worker.pid)
        assert len(niceness) > 1  # the job started threads of its own
        assert niceness[worker.pid] == expected
        assert all(expected <= n <= 19 for n in niceness.values()), niceness
        assert min(19, expected + 10) in niceness.values()  # a picture thread composed the grid
