"""Scenarios driven through the fake Telegram Bot API: burst, paced and the platform limit.

Burst and paced run with every rate limit off (the fake's and the bot's own limiter,
TELEGRAM_OVERALL_RATE=0 and TELEGRAM_GROUP_RATE=0) and send from users in groups, because
the adapter always spaces replies to one private chat a second apart (Telegram's per-chat
limit), which would measure that spacing rather than the bot. The platform-limit scenario
turns the fake's limits on (Telegram's flood control: 30 messages/s overall, 20/min per
group, a few per seconds per private chat, sends and edits alike) and keeps the bot's defaults,
as does busy_groups: a community's evening, many people in a few groups and a slow provider.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.stack import Stack, StackConfig
from benchmarks.stats import cpu_per_generation, summarize
from benchmarks.telegram_load import TelegramLoad
from tests.support import rows

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
        calls_before = len(load.fake.calls)
        keys = load.send(senders, evenly(count, span), name)
        load.wait(load.fake.ack_at, keys, 30)
        delivered = load.wait(load.fake.image_at, keys, 30 if count < 100 else 120)
        cpu1 = stack.cpu()
        acks = load.seconds(load.fake.ack_at, keys)
        # What each command cost at the Bot API: a status edit is made only when the picture
        # took longer than the grace period, so a slower machine makes more calls per request.
        made = Counter(
            c.method for c in list(load.fake.calls)[calls_before:] if c.method != "getUpdates"
        )
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
            "calls_per_command": round(sum(made.values()) / count, 2),
            "status_edits_per_command": round(made["editMessageText"] / count, 2),
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
    """2,000 requests over 200 private chats and 10 groups, the fake enforcing Telegram's rates.

    Each request costs two counted calls (the status reply and the photo edited into it), so
    Telegram's 30 per second overall allow 15 requests per second. The groups get only 10
    requests each, within what their 20 per minute allow, so that the overall limit is the
    one measured (busy_groups measures groups at their limit).
    """
    count, privates, groups_n, per_group, span = (
        (60, 20, 2, 5, 1.0) if quick else (2000, 200, 10, 10, 10.0)
    )
    allowed = 30.0 / 2  # two counted calls per request
    with Stack(root, _config(profile, workers=2, telegram_limits=True)) as stack:
        load = TelegramLoad(stack.telegram)
        user_ids, groups = stack.telegram.chats(privates, groups_n + 1)
        load.warm_up(groups[-1], user_ids[0])
        groups = groups[:groups_n]
        in_groups = [(gid, user_ids[i % privates]) for gid in groups for i in range(per_group)]
        private = [(uid, uid) for uid in user_ids]
        rest = [private[i % privates] for i in range(count - len(in_groups))]
        # Group requests spread evenly through the private ones.
        step = max(1, len(rest) // max(1, len(in_groups)))
        senders: list[tuple[int, int]] = []
        for i, chat in enumerate(rest):
            senders.append(chat)
            if i % step == 0 and in_groups:
                senders.append(in_groups.pop())
        senders.extend(in_groups)
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
    result["target"] = ">= 90% of the allowed rate (sends and edits counted), 0 429s, 0 lost"
    result["met"] = (
        result["of_allowed_pct"] >= 90 and result["platform_429s"] == 0 and result["lost"] == 0
    )
    return result


def busy_groups(root: Path, quick: bool, profile: Path | None = None) -> dict[str, Any]:
    """200 requests from 50 users within 5 s: 25 private chats and 5 groups of 5 people, a
    provider taking 2 s with 4 in flight, the fake enforcing the flood limits on sends and
    edits. Every picture must arrive, without one 429."""
    if quick:
        # The platform-limit scenario's quick stack, so a quick run starts no other.
        privates, groups_n, per_group, each, span = 4, 2, 2, 2, 1.0
        config = _config(profile, workers=2, telegram_limits=True)
    else:
        privates, groups_n, per_group, each, span = 25, 5, 5, 4, 5.0
        config = _config(
            profile, workers=2, telegram_limits=True, provider_delay=2.0, provider_concurrency=4
        )
    with Stack(root, config) as stack:
        load = TelegramLoad(stack.telegram)
        members = groups_n * per_group
        user_ids, groups = stack.telegram.chats(privates + members, groups_n + 1)
        load.warm_up(groups[-1], user_ids[0])
        groups = groups[:groups_n]
        chats = [(uid, uid) for uid in user_ids[:privates]] + [
            (groups[i // per_group], uid) for i, uid in enumerate(user_ids[privates:])
        ]
        senders = [chat for _ in range(each) for chat in chats]  # everyone, `each` times
        count = len(senders)
        fake = stack.telegram.fake
        limited_before, violations_before = len(fake.rate_limited), fake.flood_violations
        calls_before = len(fake.calls)
        cpu0 = stack.cpu()
        keys = load.send(senders, evenly(count, span), "busy")
        delivered = load.wait(load.fake.image_at, keys, 60 if quick else 400, quiet=60)
        cpu1 = stack.cpu()
        db = stack.root / "data" / "imaginebot.sqlite3"
        states = Counter(
            r["status"]
            for r in rows(
                db, "SELECT status FROM generations WHERE prompt LIKE ?", ("busy picture %",)
            )
        )
        calls = list(fake.calls)[calls_before:]
        limited = list(fake.rate_limited)[limited_before:]
        in_groups = [c for c in calls if c.ok and int(c.params.get("chat_id", 0) or 0) in groups]
        pushed = load.pushed_at()
        first = min(pushed[k] for k in keys)
        last = max((load.fake.image_at[k] for k in keys if k in load.fake.image_at), default=first)
        result: dict[str, Any] = {
            "scenario": "busy_groups",
            "commands": count,
            "users": privates + members,
            "private_chats": privates,
            "groups": groups_n,
            "sent_within_s": span,
            "delivered": delivered,
            "lost": count - delivered,
            "rows": dict(states),
            "platform_429s": len(limited),
            "platform_429s_by_method": dict(Counter(c.method for c in limited)),
            "calls_during_retry_after": fake.flood_violations - violations_before,
            "last_picture_s": round(last - first, 1),
            "group_calls_by_method": dict(Counter(c.method for c in in_groups)),
            **cpu_per_generation(cpu0, cpu1, delivered),
        }
    result["target"] = "200/200 delivered, 0 lost, 0 x 429, last picture within 150 s"
    result["met"] = (
        result["lost"] == 0
        and result["platform_429s"] == 0
        and (quick or result["last_picture_s"] <= 150)
    )
    return result
