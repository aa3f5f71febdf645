"""The days of the limits: UTC days, and when they reset (the refusals that say which limit
was reached are in bot/core/errors.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.language import Number, Text


def day_of(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")


def day_start(timestamp: float) -> float:
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def reset_phrase(now: float) -> Text:
    """'at 00:00 UTC (in 3 h 20 min)': when daily counters start again."""
    midnight = datetime.fromtimestamp(now, tz=UTC).replace(
        hour=0, minute=0, second=0, microsecond=0
    ) + timedelta(days=1)
    minutes = max(1, int((midnight.timestamp() - now) // 60))
    hours, minutes = divmod(minutes, 60)
    if hours:
        return Text(
            "at 00:00 UTC (in {hours} h {minutes} min)",
            hours=Number(hours),
            minutes=Number(minutes),
        )
    return Text("at 00:00 UTC (in {minutes} min)", minutes=Number(minutes))
