"""What an edit's pixel work costs: CPU time per request for the bot to build a 2048 px
canvas's plan and the mask of its new area (Zoom out, Pan, Make square: `plan_*`) and to
check a drawn 2048x2048 mask (Vary Region: `check_*`); for the worker to pad the picture to
the planned canvas (`pad_*`); and how late the bot's event loop runs while plans are built
off it, on the picture threads (`picture_threads.in_background`, as `edits.py` builds them).

Target (issue 31): building the padded canvas and mask costs the bot <= 50 ms of CPU per
request at 2048 px (p95 of `plan_*`), never on the event loop. A drawn mask's check is shown
beside it: decoding a 2048x2048 RGBA PNG (16 MB of pixels) alone costs about 40 ms.
The pictures are textured (gradient plus noise), so they decode like generated images, not
like flat colours. Prints one JSON object.

    python benchmarks/edit_canvas.py [--runs 20] [--parallel 4]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageFilter

from bot.core.generation.canvases import check_mask, outpaint_canvas, padded
from bot.core.generation.picture_threads import in_background
from bot.core.models import EditRequest

TARGET_MS = 50.0


def picture(width: int, height: int) -> bytes:
    gradient = Image.radial_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.effect_noise((width, height), 60).filter(ImageFilter.GaussianBlur(1))
    tint = Image.new("RGB", (width, height), (180, 120, 60))
    mixed = Image.blend(Image.blend(gradient, noise.convert("RGB"), 0.35), tint, 0.3)
    out = io.BytesIO()
    mixed.save(out, format="PNG")
    return out.getvalue()


def drawn_mask(side: int) -> bytes:
    """A brush editor's mask: opaque, the area to change erased (a blob in the middle)."""
    mask = Image.new("RGBA", (side, side), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (side // 3, side // 4, side * 2 // 3, side // 2))
    out = io.BytesIO()
    mask.save(out, format="PNG")
    return out.getvalue()


def grey_mask(side: int) -> bytes:
    mask = Image.new("L", (side, side), 0)
    mask.paste(255, (side // 3, side // 4, side * 2 // 3, side // 2))
    out = io.BytesIO()
    mask.save(out, format="PNG")
    return out.getvalue()


def cases() -> tuple[dict[str, Callable[[], object]], dict[str, Callable[[], object]]]:
    """(the bot's work per request, the worker's), by case."""
    square_1024, square_1365 = picture(1024, 1024), picture(1365, 1365)
    wide_2048, square_2048 = picture(2048, 1152), picture(2048, 2048)
    zoom2, zoom15 = EditRequest(action="zoom", factor=2), EditRequest(action="zoom", factor=1.5)
    pan, square = EditRequest(action="pan", direction="left"), EditRequest(action="square")
    rgba, grey = drawn_mask(2048), grey_mask(2048)
    plans = {
        "zoom_2x_1024_to_2048x2048": (square_1024, zoom2),
        "zoom_1.5x_1365_to_2048x2048": (square_1365, zoom15),
        "pan_left_1365_to_2048x1365": (square_1365, pan),
        "square_2048x1152_to_2048x2048": (wide_2048, square),
        "zoom_2x_2048_to_2048x2048": (square_2048, zoom2),
    }
    bot: dict[str, Callable[[], object]] = {
        f"plan_{name}": partial(outpaint_canvas, *args) for name, args in plans.items()
    }
    bot["check_region_mask_2048x2048_rgba"] = partial(check_mask, rgba, (2048, 2048))
    bot["check_region_mask_2048x2048_grey"] = partial(check_mask, grey, (2048, 2048))
    worker: dict[str, Callable[[], object]] = {}
    for name, args in plans.items():
        planned = outpaint_canvas(*args)
        worker[f"pad_{name}"] = partial(padded, planned.image, planned.mask)
    return bot, worker


def cpu_ms(build: Callable[[], object], runs: int) -> list[float]:
    build()  # warm up (imports, codecs)
    times = []
    for _ in range(runs):
        start = time.process_time()
        build()
        times.append((time.process_time() - start) * 1000)
    return sorted(times)


async def loop_lag(build: Callable[[], object], runs: int, parallel: int) -> dict[str, float]:
    """Build `runs` canvases, `parallel` at a time, on the picture threads; meanwhile a 5 ms
    ticker records how late each tick ran."""
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
            await in_background(build)

    await asyncio.gather(*(one() for _ in range(runs)))
    done.set()
    await tick
    ordered = sorted(lags)
    return {
        "loop_lag_ms_p50": round(statistics.median(ordered), 2),
        "loop_lag_ms_max": round(ordered[-1], 2),
    }


def timed(builds: dict[str, Callable[[], object]], runs: int) -> dict[str, dict[str, float]]:
    measured = {}
    for name, build in builds.items():
        times = cpu_ms(build, runs)
        measured[name] = {
            "cpu_ms_p50": round(statistics.median(times), 1),
            "cpu_ms_p95": round(times[min(len(times) - 1, int(len(times) * 0.95))], 1),
        }
    return measured


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()
    bot, worker = cases()
    on_bot = timed(bot, args.runs)
    planning = [v["cpu_ms_p95"] for k, v in on_bot.items() if k.startswith("plan_")]
    checking = [v["cpu_ms_p95"] for k, v in on_bot.items() if k.startswith("check_")]
    lag = asyncio.run(loop_lag(bot["plan_zoom_2x_2048_to_2048x2048"], args.runs, args.parallel))
    result = {
        "scenario": "edit_canvas",
        "bot": on_bot,
        "worker": timed(worker, args.runs),
        "cpu_target_ms": TARGET_MS,
        "bot_canvas_and_mask_cpu_ms_p95_worst": max(planning),
        "bot_region_mask_check_cpu_ms_p95_worst": max(checking),
        **lag,
        "targets_met": max(planning) <= TARGET_MS and lag["loop_lag_ms_max"] < 50,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
