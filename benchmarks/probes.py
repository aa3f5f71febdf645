"""Watching the bot from outside while a scenario runs: how late its event loop answers, and
how much memory it holds.

`LoopProbe` starts a small process of its own (so the harness's threads, which run the fake
platforms, do not compete with it for one GIL) that asks the bot's HEALTH_PORT for a path it
does not serve, every 20 ms over one kept-alive connection, and notes each round trip. The
bot's aiohttp answers that 404 on its event loop without any I/O of its own, so a round trip
is the loop's lag plus a fraction of a millisecond of HTTP on loopback: an upper bound on the
lag, taken on the same two cores as everything else. `RssSampler` reads the bot's resident
memory (psutil) every 50 ms in a harness thread and keeps the peak.

    python -m benchmarks.probes --port PORT --out FILE    # the probe process itself
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import psutil

from benchmarks.stats import summarize

INTERVAL = 0.02
PROBE_PATH = "/loop-probe"


class LoopProbe:
    def __init__(self, port: int, out: Path) -> None:
        self.port, self.out = port, out
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LoopProbe:
        args = ["-m", "benchmarks.probes", "--port", str(self.port), "--out", str(self.out)]
        self.proc = subprocess.Popen(
            [sys.executable, *args],
            cwd=Path(__file__).resolve().parents[1],
        )
        deadline = time.monotonic() + 20
        while not self.out.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def samples(self) -> list[tuple[float, float]]:
        """(time.time() when asked, round trip in seconds), as far as written so far."""
        out = []
        text = self.out.read_text()
        # The probe may be writing a line right now: only whole lines (ended by \n) count.
        for line in text[: text.rfind("\n") + 1].splitlines():
            if line.strip():
                at, rtt = json.loads(line)
                out.append((float(at), float(rtt)))
        return out

    def between(self, start: float, end: float, name: str = "loop_rtt") -> dict[str, Any]:
        rtts = [rtt for at, rtt in self.samples() if start <= at <= end]
        return {**summarize(name, rtts, (50, 99)), f"{name}_samples": len(rtts)}


class RssSampler:
    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = self.process.memory_info().rss / 2**20
            except psutil.Error:
                return
            self.peak_mb = max(self.peak_mb, rss)
            self._stop.wait(self.interval)


def _probe(port: int, out: Path) -> None:
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    connection: http.client.HTTPConnection | None = None
    with out.open("a", buffering=1) as sink:
        while not stopping:
            at = time.time()
            started = time.perf_counter()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("GET", PROBE_PATH)
                connection.getresponse().read()
            except (OSError, http.client.HTTPException):
                if connection is not None:
                    connection.close()
                connection = None
                time.sleep(INTERVAL)
                continue
            rtt = time.perf_counter() - started
            sink.write(json.dumps([round(at, 4), round(rtt, 6)]) + "\n")
            time.sleep(max(0.0, INTERVAL - rtt))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.touch()
    _probe(args.port, args.out)


if __name__ == "__main__":
    main()
