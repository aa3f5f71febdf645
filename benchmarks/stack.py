"""One benchmark stack: a private Redis, the fake provider process, the fake platforms,
`imaginebot run --no-worker` and N `imaginebot worker` processes, all on 127.0.0.1.

`Stack` is a context manager: whatever it started is stopped on exit, even after an error.
It also reads what the scenarios report: CPU time and resident memory of the bot and the
workers (psutil), Redis memory (INFO), and the fake provider's counters (GET /stats).

Inside `shared_stacks()` (`run.py --quick` only) consecutive scenarios whose `StackConfig`
is equal run on one stack instead of each starting its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from benchmarks.fake_platforms import FastDiscordDriver
from tests.support import RedisServer, base_env, free_port, process, wait_for

# Per-user and per-scope limits are raised so the runs measure speed, not policy.
SPEED_LIMITS = {
    "MAX_PENDING_PER_USER": "1000000",
    "DAILY_LIMIT_PER_USER": "1000000",
    "DAILY_LIMIT_PER_SCOPE": "1000000",
    "LOG_LEVEL": "WARNING",
    "JOB_TIMEOUT_SECONDS": "60",
    "MAX_REQUEST_AGE_SECONDS": "3600",
    # The provider's concurrency is the fake's own parameter; the bot's shared limit is set to
    # match it where a scenario has one, and out of the way everywhere else.
    "OPENAI_MAX_CONCURRENCY": "100000",
}
QUEUE_NAME = "imaginebot:queue"


@dataclass
class StackConfig:
    workers: int = 1
    worker_max_jobs: int = 64
    provider_delay: float = 0.0
    provider_concurrency: int | None = None
    discord: bool = True
    telegram: bool = False
    telegram_limits: bool = False
    env: dict[str, str] = field(default_factory=dict)
    # Settings for the bot process only (HEALTH_PORT: workers would want the same port).
    bot_env: dict[str, str] = field(default_factory=dict)
    # A directory: run the bot under cProfile and write bot.prof there (benchmarks only).
    profile_dir: Path | None = None


class Stack:
    def __init__(self, root: Path, config: StackConfig) -> None:
        self.root = root
        self.config = config
        self._exit = ExitStack()
        self.discord: FastDiscordDriver | None = None
        self.telegram: Any = None
        self.bot: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.provider_port = free_port()

    # -- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> Stack:
        if _shared is not None:
            return _shared.take(self)
        self._start_or_clean_up()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if _shared is not None:
            # A shared stack outlives its scenario, unless that scenario failed on it.
            if exc_type is not None:
                _shared.close()
            return
        self._exit.close()

    def _start_or_clean_up(self) -> None:
        try:
            self._start()
        except BaseException:
            self._exit.close()
            raise

    def running(self) -> bool:
        return all(p is not None and p.poll() is None for p in [self.bot, *self.workers])

    def _start(self) -> None:
        cfg = self.config
        self.redis = RedisServer(self.root / "redis").start()
        self._exit.callback(self.redis.stop)
        # The fake provider, the bot and the workers import and start side by side.
        self._launch_provider()
        platform_env: dict[str, str] = {}
        if cfg.discord:
            self.discord = FastDiscordDriver().start()
            self._exit.callback(self.discord.stop)
            platform_env.update(self.discord.env())
        if cfg.telegram:
            from benchmarks.telegram_load import TelegramDriver

            self.telegram = TelegramDriver(limits=cfg.telegram_limits).start()
            self._exit.callback(self.telegram.stop)
            platform_env.update(self.telegram.env())
        self.env = base_env(
            self.root / "data",
            OPENAI_API_KEY="sk-test-fake-key",
            OPENAI_BASE_URL=f"http://127.0.0.1:{self.provider_port}/v1",
            REDIS_URL=self.redis.url,
            WORKER_MAX_JOBS=str(cfg.worker_max_jobs),
            **SPEED_LIMITS,
            **platform_env,
        )
        if cfg.provider_concurrency is not None:
            self.env["OPENAI_MAX_CONCURRENCY"] = str(cfg.provider_concurrency)
        self.env.update(cfg.env)
        if os.environ.get("BENCHMARK_DATABASE") == "postgresql":
            # The same scenario with the store on PostgreSQL: a fresh database per stack.
            from tests.support.postgres import database

            self.env["DATABASE_URL"] = self._exit.enter_context(database())
        self.bot = self._exit.enter_context(self._bot_process())
        # Workers start while the bot connects: each takes a second or two to import.
        for _ in range(cfg.workers):
            self.add_worker(wait=False)
        self._await_provider()
        if self.discord is not None:
            discord = self.discord
            wait_for(
                lambda: discord.connected() and discord.fake.commands,
                60,
                message=f"the bot's Discord connection\n{self.log_tail()}",
            )
        if self.telegram is not None:
            self.telegram.wait_ready(60, self.log_tail)
        for proc in self.workers:
            self._wait_worker(proc)
        # Runs first on exit: every process gets SIGTERM at once, then each is waited for.
        self._exit.callback(self._terminate_all)

    def _terminate_all(self) -> None:
        for proc in [self.bot, *self.workers]:
            if proc is not None and proc.poll() is None:
                proc.terminate()

    def _launch_provider(self) -> None:
        args = [
            sys.executable,
            "-m",
            "benchmarks.fake_provider",
            "--port",
            str(self.provider_port),
            "--delay",
            str(self.config.provider_delay),
        ]
        if self.config.provider_concurrency is not None:
            args += ["--max-concurrency", str(self.config.provider_concurrency)]
        log = (self.root / "provider.log").open("ab")
        self._exit.callback(log.close)
        proc = subprocess.Popen(
            args,
            cwd=Path(__file__).resolve().parents[1],
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._exit.callback(_stop, proc)

    def _await_provider(self) -> None:
        wait_for(self._provider_up, 30, interval=0.1, message="the fake provider")
        # The fake renders its pool of PNGs on the first request for a size: do it now.
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.provider_port}/v1/images/generations",
            data=json.dumps(
                {"model": "gpt-image-1", "prompt": "warm-up", "size": "1024x1024"}
            ).encode(),
            headers={
                "Authorization": "Bearer sk-test-fake-key",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()

    def _provider_up(self) -> bool:
        try:
            self.provider_stats()
            return True
        except OSError:
            return False

    def _bot_process(self) -> Any:
        args = ["run", "--no-worker"]
        env = {**self.env, **self.config.bot_env}
        if self.config.profile_dir is not None:
            # `python -m cProfile -o FILE -m bot run`: the profile is written when the bot exits
            # on SIGTERM (its signal handler makes it return normally).
            self.config.profile_dir.mkdir(parents=True, exist_ok=True)
            out = self.config.profile_dir / "bot.prof"
            return _profiled(args, env, self.root, out)
        return process(args, env, self.root, self.root / "bot.log")

    def add_worker(self, *, wait: bool = True) -> subprocess.Popen[bytes]:
        index = len(self.workers)
        proc = self._exit.enter_context(
            process(["worker"], self.env, self.root, self.root / f"worker{index}.log")
        )
        self.workers.append(proc)
        if wait:
            self._wait_worker(proc)
        return proc

    def _wait_worker(self, proc: subprocess.Popen[bytes]) -> None:
        """A worker is ready once it holds a connection to Redis and a heartbeat exists."""
        port = self.redis.port
        client = self.redis.client()

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"a worker exited at start\n{self.log_tail()}")
            connections = psutil.Process(proc.pid).net_connections(kind="tcp")
            connected = any(c.raddr and c.raddr.port == port for c in connections)
            return connected and bool(client.exists(f"{QUEUE_NAME}:health-check"))

        try:
            wait_for(ready, 30, message=f"a worker\n{self.log_tail()}")
        finally:
            client.close()

    def log_tail(self) -> str:
        return "\n".join(
            f"== {p.name}\n" + p.read_text(errors="replace")[-2000:]
            for p in sorted(self.root.glob("*.log"))
        )

    # -- measurements ---------------------------------------------------------------------------

    def cpu(self) -> dict[str, float]:
        """CPU seconds (user + system) so far of the bot and of each worker."""
        result = {"bot": _cpu(self.bot)}
        for i, proc in enumerate(self.workers):
            result[f"worker{i}"] = _cpu(proc)
        return result

    def rss_mb(self) -> dict[str, float]:
        result = {"bot": _rss(self.bot)}
        for i, proc in enumerate(self.workers):
            result[f"worker{i}"] = _rss(proc)
        return result

    def redis_memory(self) -> int:
        client = self.redis.client()
        try:
            return int(client.info("memory")["used_memory"])
        finally:
            client.close()

    def redis_client(self) -> Any:
        return self.redis.client()

    def provider_stats(self) -> dict[str, int]:
        url = f"http://127.0.0.1:{self.provider_port}/stats"
        with urllib.request.urlopen(url, timeout=5) as response:
            stats: dict[str, int] = json.loads(response.read())
        return stats


class _SharedStacks:
    """One running stack, handed to each scenario whose config equals the one it started with.

    A scenario with another config stops it and starts its own (which the next scenarios may
    share in turn), so at most one stack runs at a time. Its directory is the root of the
    scenario that started it: the caller keeps every root until `shared_stacks()` ends.
    """

    def __init__(self) -> None:
        self.current: Stack | None = None

    def take(self, stack: Stack) -> Stack:
        current = self.current
        if current is not None and current.config == stack.config and current.running():
            return current
        self.close()
        stack._start_or_clean_up()
        self.current = stack
        return stack

    def close(self) -> None:
        if self.current is not None:
            current, self.current = self.current, None
            current._exit.close()


_shared: _SharedStacks | None = None


@contextmanager
def shared_stacks() -> Iterator[None]:
    """While active, scenarios with equal configs share one stack (see `_SharedStacks`)."""
    global _shared
    _shared = _SharedStacks()
    try:
        yield
    finally:
        shared, _shared = _shared, None
        shared.close()


def _cpu(proc: subprocess.Popen[bytes] | None) -> float:
    if proc is None or proc.poll() is not None:
        return 0.0
    times = psutil.Process(proc.pid).cpu_times()
    return float(times.user + times.system)


def _rss(proc: subprocess.Popen[bytes] | None) -> float:
    if proc is None or proc.poll() is not None:
        return 0.0
    return round(psutil.Process(proc.pid).memory_info().rss / 2**20, 1)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class _profiled:
    """Like tests.support.process, with the bot under cProfile."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, out: Path) -> None:
        self.command = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "bot", *args]
        self.env, self.cwd = env, cwd
        self.log = cwd / "bot.log"

    def __enter__(self) -> subprocess.Popen[bytes]:
        self.handle = self.log.open("ab")
        self.proc = subprocess.Popen(
            self.command, env=self.env, cwd=self.cwd, stdout=self.handle, stderr=subprocess.STDOUT
        )
        return self.proc

    def __exit__(self, *exc: object) -> None:
        _stop(self.proc)
        self.handle.close()
