"""What a 2x2 grid costs: CPU time to compose one from four 1024x1024 PNGs, and how late the
event loop runs while grids are composed off it, the way a worker composes them
(`picture_threads.in_background`: two threads at niceness +10).

Targets (issue 15): <= 150 ms of CPU per grid; event-loop lag under 50 ms while composing.
The pictures are textured (gradient plus noise), so they decode like generated images, not
like flat colours. Prints one JSON object.

    python benchmarks/grid_compose.py [--grids 30] [--parallel 4]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image

from bot.core.generation.picture_threads import in_background
from bot.core.images.pixels import compose_grid


def picture(seed: int, side: int = 1024) -> bytes:
    gradient = Image.linear_gradient("L").resize((side, side)).convert("RGB")
    noise = Image.effect_noise((side, side), 40 + seed * 5).convert("RGB")
    tint = Image.new("RGB", (side, side), ((seed * 70) % 256, 120, (255 - seed * 50) % 256))
    mixed = Image.blend(Image.blend(gradient, noise, 0.35), tint, 0.3)
    out = io.BytesIO()
    mixed.save(out, format="PNG")
    return out.getvalue()


def cpu_ms(pictures: list[bytes], grids: int) -> list[float]:
    times = []
    for _ in range(grids):
        start = time.process_time()
        compose_grid(pictures)
        times.append((time.process_time() - start) * 1000)
    return times


async def loop_lag(pictures: list[bytes], grids: int, parallel: int) -> dict[str, float]:
    """Compose `grids` grids, `parallel` at a time, on the picture threads; meanwhile a 5 ms ticker
    records how late each tick ran."""
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            start = time.perf_counter()
            await asyncio.sleep(0.005)
            lags.append((time.perf_counter() - start - 0.005) * 1000)

    tick = asyncio.create_task(ticker())
    gate = asyncio.Semaphore(parallel)

    async def one() -> None:
        async with gate:
            await in_background(compose_grid, pictures)

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(grids)))
    wall = time.perf_counter() - start
    done.set()
    await tick
    ordered = sorted(lags)
    return {
        "loop_lag_ms_p50": round(statistics.median(ordered), 2),
        "loop_lag_ms_p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        "loop_lag_ms_max": round(ordered[-1], 2),
        "grids_per_second": round(grids / wall, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grids", type=int, default=30)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()
    pictures = [picture(i) for i in range(4)]
    compose_grid(pictures)  # warm up (imports, font)
    times = sorted(cpu_ms(pictures, args.grids))
    result = {
        "scenario": "grid_compose",
        "input": "4 x 1024x1024 PNG",
        "input_bytes": sum(len(p) for p in pictures),
        "grid_bytes": len(compose_grid(pictures).data),
        "cpu_ms_p50": round(statistics.median(times), 1),
        "cpu_ms_p95": round(times[min(len(times) - 1, int(len(times) * 0.95))], 1),
        "cpu_ms_max": round(times[-1], 1),
        "cpu_target_ms": 150,
        **asyncio.run(loop_lag(pictures, args.grids, args.parallel)),
        "lag_target_ms": 50,
    }
    result["targets_met"] = (
        result["cpu_ms_p95"] <= 150 and result["loop_lag_ms_max"] < 50  # type: ignore[operator]
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
