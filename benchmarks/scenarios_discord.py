"""Scenarios driven through the fake Discord: burst, paced, added latency, capacity, provider
limit and memory. Each returns one flat dict (the JSON line) with its figures and targets."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from benchmarks.discord_load import DiscordLoad
from benchmarks.stack import QUEUE_NAME, Stack, StackConfig
from benchmarks.stats import cpu_per_generation, ms, percentile, summarize

# --quick: the Discord scenarios run on one of these two stacks (run.py shares a stack between
# consecutive scenarios with equal configs); full runs keep each scenario's own config.
QUICK_TWO_WORKERS: dict[str, Any] = {"workers": 2, "worker_max_jobs": 256, "provider_delay": 0.2}
QUICK_ONE_WORKER: dict[str, Any] = {"workers": 1, "worker_max_jobs": 128}


def _quick_config(profile: Path | None, shape: dict[str, Any]) -> StackConfig:
    return StackConfig(**shape, profile_dir=profile)


def evenly(count: int, span: float) -> list[float]:
    return [span * i / count for i in range(count)]


def _discord(stack: Stack) -> DiscordLoad:
    assert stack.discord is not None
    return DiscordLoad(stack.discord)


def _rejected(stack: Stack) -> int:
    assert stack.discord is not None
    return len(stack.discord.fake.errors)


def burst(root: Path, quick: bool, profile: Path | None = None) -> dict[str, Any]:
    count, users, span = (20, 10, 0.2) if quick else (500, 100, 1.0)
    config = (
        _quick_config(profile, QUICK_TWO_WORKERS)
        if quick
        else StackConfig(workers=2, profile_dir=profile)
    )
    with Stack(root, config) as stack:
        load = _discord(stack)
        load.warm_up()
        payloads = load.payloads(count, users, "burst")
        cpu0 = stack.cpu()
        ids = load.send(payloads, evenly(count, span))
        load.wait_acks(ids, 10)
        acks = load.ack_stats(ids)
        delivered = load.wait_images(ids, 30 if quick else 120)
        cpu1 = stack.cpu()
        result: dict[str, Any] = {
            "scenario": "burst_discord",
            "commands": count,
            "users": users,
            "within_s": span,
            **acks,
            "delivered": delivered,
            "all_delivered_s": round(load.delivered_span(ids), 2),
            "rejected_requests_at_fake": _rejected(stack),
            **cpu_per_generation(cpu0, cpu1, delivered),
        }
    result["target"] = "0 late acks (> 3 s); ack p99 <= 1000 ms"
    result["met"] = result["late_acks"] == 0 and (result["ack_p99_ms"] or 1e9) <= 1000
    return result


def paced(root: Path, quick: bool, profile: Path | None = None) -> dict[str, Any]:
    rate, seconds = (20, 1.0) if quick else (100, 30.0)
    count = int(rate * seconds)
    config = (
        _quick_config(profile, QUICK_TWO_WORKERS)
        if quick
        else StackConfig(workers=2, profile_dir=profile)
    )
    with Stack(root, config) as stack:
        load = _discord(stack)
        load.warm_up()
        payloads = load.payloads(count, 100, "paced")
        cpu0 = stack.cpu()
        ids = load.send(payloads, evenly(count, seconds))
        load.wait_acks(ids, 10)
        delivered = load.wait_images(ids, 30 if quick else 120)
        cpu1 = stack.cpu()
        acks = load.ack_stats(ids)
        result: dict[str, Any] = {
            "scenario": "paced_discord",
            "rate_per_s": rate,
            "seconds": seconds,
            "commands": count,
            **acks,
            "delivered": delivered,
            "rejected_requests_at_fake": _rejected(stack),
            **cpu_per_generation(cpu0, cpu1, delivered),
        }
    result["target"] = "ack p99 <= 50 ms"
    result["met"] = (result["ack_p99_ms"] or 1e9) <= 50 and result["late_acks"] == 0
    return result


def _added_latency(
    root: Path, quick: bool, rate: int, profile: Path | None, limits: tuple[float, float]
) -> dict[str, Any]:
    delay = float(QUICK_TWO_WORKERS["provider_delay"]) if quick else 2.0
    seconds = 1.0 if quick else 60.0
    count = int(min(rate, 10) * seconds) if quick else int(rate * seconds)
    config = (
        _quick_config(profile, QUICK_TWO_WORKERS)
        if quick
        else StackConfig(workers=2, worker_max_jobs=256, provider_delay=delay, profile_dir=profile)
    )
    with Stack(root, config) as stack:
        load = _discord(stack)
        load.warm_up()
        payloads = load.payloads(count, 100, f"latency{rate}")
        cpu0 = stack.cpu()
        ids = load.send(payloads, evenly(count, seconds))
        delivered = load.wait_images(ids, 30 if quick else 120)
        cpu1 = stack.cpu()
        overhead = [s - delay for s in load.image_seconds(ids)]
        result: dict[str, Any] = {
            "scenario": f"added_latency_{rate}_per_s",
            "rate_per_s": round(count / seconds),
            "seconds": seconds,
            "provider_delay_s": delay,
            "commands": count,
            "delivered": delivered,
            **summarize("overhead", overhead),
            **load.ack_stats(ids),
            "provider_peak_in_flight": stack.provider_stats()["peak_in_flight"],
            "rejected_requests_at_fake": _rejected(stack),
            **cpu_per_generation(cpu0, cpu1, delivered),
        }
    p50, p99 = limits
    result["target"] = f"overhead p50 <= {p50:.0f} ms, p99 <= {p99:.0f} ms"
    result["met"] = (
        delivered == count
        and (result["overhead_p50_ms"] or 1e9) <= p50
        and (result["overhead_p99_ms"] or 1e9) <= p99
    )
    return result


def added_latency_20(root: Path, quick: bool, profile: Path | None = None) -> dict[str, Any]:
    return _added_latency(root, quick, 20, profile, (25, 75))


def added_latency_50(root: Path, quick: bool, profile: Path | None = None) -> dict[str, Any]:
    return _added_latency(root, quick, 50, profile, (50, 150))


def _capacity(root: Path, quick: bool, workers: int, profile: Path | None) -> dict[str, Any]:
    """Step the offered rate up until overhead p99 passes 1 s or not everything arrives."""
    steps = [20] if quick else [50, 100, 150, 200, 250, 300, 400]
    seconds = 1.0 if quick else 10.0
    best: dict[str, Any] = {"offered_per_s": 0, "achieved_per_s": 0.0}
    tried = []
    if quick:
        shape = QUICK_TWO_WORKERS if workers == 2 else QUICK_ONE_WORKER
        config = _quick_config(profile, {**shape, "workers": workers})
    else:
        config = StackConfig(workers=workers, worker_max_jobs=128, profile_dir=profile)
    with Stack(root, config) as stack:
        load = _discord(stack)
        load.warm_up()
        cpu0, generations = stack.cpu(), 0
        for rate in steps:
            count = int(rate * seconds)
            payloads = load.payloads(count, 100, f"capacity{rate}")
            ids = load.send(payloads, evenly(count, seconds))
            delivered = load.wait_images(ids, seconds + 30)
            generations += delivered
            times = load.image_seconds(ids)
            p99 = percentile(times, 99)
            span = load.delivered_span(ids)
            achieved = round(delivered / span, 1) if span else 0.0
            step = {"offered": rate, "achieved": achieved, "overhead_p99_ms": ms(p99)}
            tried.append(step)
            if delivered < count or not p99 <= 1.0:
                break
            best = {"offered_per_s": rate, "achieved_per_s": achieved}
        cpu1 = stack.cpu()
        result: dict[str, Any] = {
            "scenario": f"capacity_{workers}_worker{'s' if workers > 1 else ''}",
            "workers": workers,
            "step_seconds": seconds,
            "max_sustained_per_s": best["offered_per_s"],
            "achieved_per_s": best["achieved_per_s"],
            "steps": tried,
            "rejected_requests_at_fake": _rejected(stack),
            **cpu_per_generation(cpu0, cpu1, generations),
        }
    if workers >= 2:
        result["target"] = ">= 150 generations/s; bot CPU <= 4 ms per generation"
        result["met"] = (
            result["max_sustained_per_s"] >= 150 and (result["bot_cpu_ms_per_gen"] or 1e9) <= 4
        )
    else:
        result["target"] = "bot CPU <= 4 ms per generation"
        result["met"] = (result["bot_cpu_ms_per_gen"] or 1e9) <= 4
    return result


def capacity_1_worker(root: Path, quick: bool, profile: Path | None = None) -> dict[str, Any]:
    return _capacity(root, quick, 1, profile)


def capacity_2_workers(root: Path, quick: bool, profile: Path | None = None) -> dict[str, Any]:
    return _capacity(root, quick, 2, profile)


def provider_limit(root: Path, quick: bool, profile: Path | None = None) -> dict[str, Any]:
    """A provider allowing 4 concurrent requests (429 beyond) that takes `delay` each."""
    count, users, delay = (12, 6, 0.2) if quick else (200, 50, 2.0)
    limit = 4
    config = StackConfig(
        workers=2, provider_delay=delay, provider_concurrency=limit, profile_dir=profile
    )
    with Stack(root, config) as stack:
        load = _discord(stack)
        load.warm_up()
        payloads = load.payloads(count, users, "limited")
        cpu0 = stack.cpu()
        ids = load.send(payloads, evenly(count, min(1.0, count / 100)))
        ideal = count * delay / limit
        delivered = load.wait_images(ids, ideal * 3 + 30)
        cpu1 = stack.cpu()
        total = load.delivered_span(ids)
        stats = stack.provider_stats()
        result: dict[str, Any] = {
            "scenario": "provider_limit",
            "commands": count,
            "users": users,
            "provider_delay_s": delay,
            "provider_concurrency": limit,
            "delivered": delivered,
            "total_s": round(total, 2),
            "ideal_s": round(ideal, 2),
            "vs_ideal_pct": round(100 * (total / ideal - 1), 1) if ideal else None,
            "provider_calls": stats["calls"],
            "provider_429s": stats["rejected_for_concurrency"],
            "provider_peak_in_flight": stats["peak_in_flight"],
            **cpu_per_generation(cpu0, cpu1, delivered),
        }
    result["target"] = "100% delivered; total within 15% of ideal; few provider 429s"
    result["met"] = (
        delivered == count
        and total <= ideal * 1.15
        and result["provider_429s"] <= max(5, count // 20)
    )
    return result


def _key_kinds(stack: Stack) -> dict[str, int]:
    """How many Redis keys there are per prefix (the id-like last part dropped)."""
    client = stack.redis_client()
    try:
        kinds: dict[str, int] = {}
        for key in client.scan_iter(count=1000):
            text = key.decode(errors="replace")
            kind = text.rsplit(":", 1)[0] if ":" in text else text
            kinds[kind] = kinds.get(kind, 0) + 1
        return kinds
    finally:
        client.close()


def _stream_entries(client: Any) -> int:
    return sum(int(client.xlen(k)) for k in client.scan_iter("imaginebot:events:*"))


def _wait_for_empty_streams(stack: Stack, timeout: float) -> None:
    client = stack.redis_client()
    try:
        deadline = time.monotonic() + timeout
        while _stream_entries(client) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.close()


def memory(root: Path, quick: bool, profile: Path | None = None) -> dict[str, Any]:
    """RSS of the bot and a worker idle and with a backlog; Redis memory before and after."""
    count = 50 if quick else 1000
    config = (
        _quick_config(profile, QUICK_ONE_WORKER)
        if quick
        else StackConfig(workers=1, profile_dir=profile)
    )
    with Stack(root, config) as stack:
        load = _discord(stack)
        load.warm_up()
        time.sleep(0.2 if quick else 1.0)
        idle = stack.rss_mb()
        redis_idle = stack.redis_memory()
        keys_idle = _key_kinds(stack)
        worker = stack.workers[0]
        # The worker is paused while the requests arrive, so they stay queued.
        os.kill(worker.pid, signal.SIGSTOP)
        try:
            payloads = load.payloads(count, 100, "memory")
            ids = load.send(payloads, evenly(count, min(5.0, count / 200)))
            load.wait_acks(ids, 10)
            client = stack.redis_client()
            try:
                deadline = time.monotonic() + 30
                while client.zcard(QUEUE_NAME) < count and time.monotonic() < deadline:
                    time.sleep(0.1)
                queued = int(client.zcard(QUEUE_NAME))
            finally:
                client.close()
            time.sleep(0.1 if quick else 0.5)
            bot_queued = stack.rss_mb()["bot"]
            redis_queued = stack.redis_memory()
        finally:
            os.kill(worker.pid, signal.SIGCONT)
        worker_peak = 0.0
        deadline = time.monotonic() + (30 if quick else 180)
        while time.monotonic() < deadline:
            worker_peak = max(worker_peak, stack.rss_mb()["worker0"])
            if load.wait_images(ids, 0.2) >= count:
                break
        delivered = load.wait_images(ids, 1)
        # The last events are acknowledged and deleted after the upload.
        if quick:
            _wait_for_empty_streams(stack, 1.5)
        else:
            time.sleep(1.5)
        after = stack.rss_mb()
        redis_after = stack.redis_memory()
        client = stack.redis_client()
        try:
            stream_len = _stream_entries(client)
        finally:
            client.close()
        keys_after = _key_kinds(stack)
    kib = 1024
    result: dict[str, Any] = {
        "scenario": "memory",
        "queued": queued,
        "delivered": delivered,
        "bot_rss_idle_mb": idle["bot"],
        "bot_rss_queued_mb": bot_queued,
        "bot_rss_after_mb": after["bot"],
        "worker_rss_idle_mb": idle["worker0"],
        "worker_rss_draining_peak_mb": worker_peak,
        "redis_idle_kib": round(redis_idle / kib),
        "redis_queued_kib": round(redis_queued / kib),
        "redis_drained_kib": round(redis_after / kib),
        "redis_left_per_request_bytes": round((redis_after - redis_idle) / max(1, count)),
        "event_stream_entries_left": stream_len,
        # Keys present after draining that were not there when idle, by prefix.
        "redis_new_keys": {
            kind: n - keys_idle.get(kind, 0)
            for kind, n in sorted(keys_after.items())
            if n > keys_idle.get(kind, 0)
        },
    }
    peak_bot = max(idle["bot"], bot_queued, after["bot"])
    result["target"] = (
        "bot <= 80 MB, worker <= 100 MB; Redis back to idle after draining (no image bytes left)"
    )
    result["met"] = (
        peak_bot <= 80
        and max(idle["worker0"], worker_peak) <= 100
        and delivered == count
        and stream_len == 0
        and not result["redis_new_keys"]
        and result["redis_left_per_request_bytes"] < 1024
    )
    return result
