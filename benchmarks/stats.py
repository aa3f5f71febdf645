"""Percentiles and CPU accounting shared by the scenarios."""

from __future__ import annotations

import math
import os
from typing import Any


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (the value below which q% of the samples lie)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[index]


def ms(seconds: float) -> float | None:
    return None if math.isnan(seconds) else round(seconds * 1000, 1)


def summarize(
    name: str, seconds: list[float], qs: tuple[int, ...] = (50, 95, 99)
) -> dict[str, Any]:
    out: dict[str, Any] = {f"{name}_p{q}_ms": ms(percentile(seconds, q)) for q in qs}
    out[f"{name}_max_ms"] = ms(max(seconds)) if seconds else None
    return out


def cpu_per_generation(
    before: dict[str, float], after: dict[str, float], generations: int
) -> dict[str, Any]:
    """Bot CPU ms per generation, and the busiest worker's plus all workers' together."""
    if generations <= 0:
        return {"bot_cpu_ms_per_gen": None, "worker_cpu_ms_per_gen": None}
    used = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    workers = [v for k, v in used.items() if k.startswith("worker")]
    return {
        "bot_cpu_ms_per_gen": round(used.get("bot", 0.0) * 1000 / generations, 2),
        "worker_cpu_ms_per_gen": round(sum(workers) * 1000 / generations, 2) if workers else None,
        "cores": os.cpu_count(),
    }
