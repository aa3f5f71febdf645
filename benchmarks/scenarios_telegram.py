"""Scenarios driven through the fake Telegram Bot API: burst, paced and the platform limit.

Burst and paced run with every rate limit off (the fake's and the bot's own limiter,
TELEGRAM_OVERALL_RATE=0 and TELEGRAM_GROUP_RATE=0) and send from users in groups, because
the adapter always spaces replies to one private chat a second apart (Telegram's per-chat
limit), which would measure that spacing rather than the bot. The platform-limit scenario
turns the fake's limits on (30 messages/s overall, 20/min per group) and keeps the bot's
defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.stack import Stack, StackConfig
from benchmarks.stats import cpu_per_generation, summarize
from benchmarks.telegram_load import TelegramLoad

NO_LIMITS = {"TELEGRAM_OVERALL_RATE": "0", "TELEGRAM_GROUP_RATE": "0"}
LATE_ACK_SECONDS = 3.0


def evenly(count: int, span: float) -> list[float]:
    return [span * i / count for i in range(count)]


def _config(profile: Path | None, **kw: Any) -> StackConfig:
    return StackConfig(discord=False, telegram=True, profile_dir=profile, **kw)


def _ack_run(
    root: Path, profile: Path | None, name: str, count: int, users: int, span: float
) -> dict[str, Any]:
    with Stack(root, _config(profile, workers=2, env=dict(NO_LIMITS))) as stack:
        load = TelegramLoad(stack.telegram)
        user_ids, groups = stack.telegram.chats(users, 11)
        load.warm_up(groups[-1], user_ids[0])
        groups = groups[:10]
        senders = [(groups[i % len(groups)], user_ids[i % users]) for i in range(count)]
        cpu0 = stack.cpu()
        keys = load.send(senders, evenly(count, span), name)
        load.wait(load.fake.ack_at, keys, 30)
        delivered = load.wait(load.fake.image_at, keys, 30 if count < 100 else 120)
        cpu1 = stack.cpu()
        acks = load.seconds(load.fake.ack_at, keys)
        return {
            "scenario": name,
            "commands": count,
            "users": users,
            "groups": len(groups),
            **summarize("ack", acks),
            "acks_missing": count - len(acks),
            "acks_over_3s": sum(1 for a in acks if a > LATE_ACK_SECONDS),
            "delivered": delivered,
            "all_delivered_s": round(load.delivered_span(keys), 2),
            "platform_429s": load.fake.too_many,
            **cpu_per_generation(cpu0, cpu1, delivered),
        }


def burst(root: Path, quick: bool, profile: Path | None = None) -> dict[str, Any]:
    count, users, span = (20, 10, 0.2) if quick else (500, 100, 1.0)
    result = _ack_run(root, profile, "burst_telegram", count, users, span)
    result["within_s"] = span
    result["target"] = "ack p99 <= 1000 ms"
    result["met"] = result["acks_missing"] == 0 and (result["ack_p99_ms"] or 1e9) <= 1000
    return result


def paced(root: Path, quick: bool, profile: Path | None = None) -> dict[str, Any]:
    rate, seconds = (20, 1.0) if quick else (100, 30.0)
    count = int(rate * seconds)
    result = _ack_run(root, profile, "paced_telegram", count, 100, seconds)
    result["rate_per_s"], result["seconds"] = rate, seconds
    result["target"] = "ack p99 <= 50 ms"
    result["met"] = result["acks_missing"] == 0 and (result["ack_p99_ms"] or 1e9) <= 50
    return result


def platform_limit(root: Path, quick: bool, profile: Path | None = None) -> dict[str, Any]:
    """2,000 requests over 200 private chats and 10 groups, the fake enforcing Telegram's rates."""
    count, privates, groups_n, span = (60, 20, 2, 1.0) if quick else (2000, 200, 10, 10.0)
    allowed = 30.0  # one rate-limited message (the status reply) per request; edits are free
    with Stack(root, _config(profile, workers=2, telegram_limits=True)) as stack:
        load = TelegramLoad(stack.telegram)
        user_ids, groups = stack.telegram.chats(privates, groups_n + 1)
        load.warm_up(groups[-1], user_ids[0])
        groups = groups[:groups_n]
        chats = [(uid, uid) for uid in user_ids] + [
            (gid, user_ids[i % privates]) for i, gid in enumerate(groups)
        ]
        senders = [chats[i % len(chats)] for i in range(count)]
        too_many_before = load.fake.too_many
        cpu0 = stack.cpu()
        keys = load.send(senders, evenly(count, span), "limit")
        ideal = count / allowed
        delivered = load.wait(load.fake.image_at, keys, ideal * 4 + 30)
        cpu1 = stack.cpu()
        span_s = load.delivered_span(keys)
        per_s = delivered / span_s if span_s else 0.0
        result: dict[str, Any] = {
            "scenario": "telegram_platform_limit",
            "commands": count,
            "private_chats": privates,
            "groups": groups_n,
            "sent_within_s": span,
            "delivered": delivered,
            "all_delivered_s": round(span_s, 2),
            "delivered_per_s": round(per_s, 2),
            "allowed_per_s": allowed,
            "of_allowed_pct": round(100 * per_s / allowed, 1),
            "platform_429s": load.fake.too_many - too_many_before,
            "lost": count - delivered,
            **cpu_per_generation(cpu0, cpu1, delivered),
        }
    result["target"] = ">= 95% of the allowed rate, 0 429s, 0 lost"
    result["met"] = (
        result["of_allowed_pct"] >= 95 and result["platform_429s"] == 0 and result["lost"] == 0
    )
    return result
