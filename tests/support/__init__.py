"""Helpers shared by the test suites: real Redis servers, subprocess environments, SQLite reads."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

from bot.settings import ENV_FILE_VARIABLE, Settings

ROOT = Path(__file__).resolve().parents[2]
IMAGINEBOT = [sys.executable, "-m", "bot"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A private redis-server on a free port with its own directory (never the shared one)."""

    def __init__(self, directory: Path, *, appendonly: bool = False) -> None:
        self.directory = directory
        self.port = free_port()
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (the CI script installs it)")
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.directory),
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--daemonize",
            "no",
        ]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: without persistence, all data is gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)


# Every variable imaginebot reads: a test's processes see only the values the test sets.
SETTING_VARIABLES = frozenset(
    {name.upper() for name in Settings.model_fields} | {ENV_FILE_VARIABLE}
)
SETTING_PREFIXES = (
    "DISCORD_",
    "TELEGRAM_",
    "OPENAI_",
    "REDIS_",
    "IMAGE_",
    "HORDE_",
    "SDWEBUI_",
    "COMFYUI_",
    "DATABASE_",
)


def without_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` without any variable imaginebot would read as a setting."""
    return {
        k: v
        for k, v in environ.items()
        if k.upper() not in SETTING_VARIABLES and not k.upper().startswith(SETTING_PREFIXES)
    }


def base_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """A clean environment for an imaginebot subprocess: no inherited bot settings, no .env.

    IMAGINEBOT_ENV_FILE empty means no settings file is read, whatever the working directory
    holds (a developer's `.env` in the checkout)."""
    env = without_settings(os.environ)
    env[ENV_FILE_VARIABLE] = ""
    env.update(
        {
            "DATA_DIR": str(data_dir),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "JOB_TIMEOUT_SECONDS": str(round(patience(20))),  # a provider call, not a hang
            "RETRY_BACKOFF_SECONDS": "0.2",
            "LOG_LEVEL": "INFO",
        }
    )
    env.update(extra)
    return env


def run_cli(
    args: list[str], env: Mapping[str, str], cwd: Path, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*IMAGINEBOT, *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=patience(timeout),
    )


@contextmanager
def process(
    args: list[str], env: Mapping[str, str], cwd: Path, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    handle = log.open("ab")
    proc = subprocess.Popen(
        [*IMAGINEBOT, *args], env=dict(env), cwd=cwd, stdout=handle, stderr=subprocess.STDOUT
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        handle.close()


@contextmanager
def served_openai() -> Iterator[Any]:
    """The fake OpenAI images API on 127.0.0.1 (a thread of this process), for a stack's life."""
    from tests.fakes.openai_images import FakeOpenAI
    from tests.fakes.server import ServerThread

    fake = FakeOpenAI()
    server = ServerThread(fake.app()).start()
    fake.base_url = server.url
    try:
        yield fake
    finally:
        server.stop()


def rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in connection.execute(sql, params)]
    finally:
        connection.close()


def wait_for(
    predicate: Any,
    timeout: float = 30,
    interval: float = 0.05,
    message: str | Callable[[], str] = "condition",
) -> Any:
    """`predicate()`'s first true value. A callable `message` (usually a lambda reading a log)
    is only called on timeout, so the failure shows the log as it was at the end of the wait."""
    started = time.monotonic()
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() - started > patience(timeout):
            raise AssertionError(f"timed out waiting for {described(message)}")
        time.sleep(interval)


def patience(seconds: float) -> float:
    """A give-up bound stretched by how oversubscribed the machine is right now (the 1-minute
    load average per core, between 1 and 4 times). Waits end on their event; the bound only
    decides when a wait counts as hung, and a machine running other work beside the suite
    makes a start-up slow, not wrong."""
    try:
        load_per_core = os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:  # no load average on this system: the bound as written
        return seconds
    return seconds * min(4.0, max(1.0, load_per_core))


def described(message: str | Callable[[], str]) -> str:
    """A wait's message, read now: a callable one at the moment of the timeout."""
    return message() if callable(message) else message


def thread_niceness(pid: int) -> dict[int, int]:
    """Each thread's niceness, from /proc (field 19 of `stat`, after the command's parens)."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        stat = (task / "stat").read_text()
        found[int(task.name)] = int(stat.rsplit(")", 1)[1].split()[16])
    return found


def pixel_difference(first: bytes, second: bytes) -> int:
    """The largest difference of one channel of one pixel between two pictures of one size:
    0 for the same pixels, a few units when one was encoded anew as a high-quality JPEG."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(first)) as a, Image.open(io.BytesIO(second)) as b:
        assert a.size == b.size, f"sizes differ: {a.size} != {b.size}"
        left, right = a.convert("RGB").tobytes(), b.convert("RGB").tobytes()
    return max(abs(x - y) for x, y in zip(left, right, strict=True))
