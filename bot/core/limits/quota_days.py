"""The words and days of the limits: UTC days, when they reset, and the refusals that say
which limit was reached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.errors import UserFacingError


class LimitReached(UserFacingError):
    code = "limit_reached"


class BudgetExhausted(UserFacingError):
    code = "budget_exhausted"


def day_of(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")


def day_start(timestamp: float) -> float:
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def reset_phrase(now: float) -> str:
    """'at 00:00 UTC (in 3 h 20 min)': when daily counters start again."""
    midnight = datetime.fromtimestamp(now, tz=UTC).replace(
        hour=0, minute=0, second=0, microsecond=0
    ) + timedelta(days=1)
    minutes = max(1, int((midnight.timestamp() - now) // 60))
    hours, minutes = divmod(minutes, 60)
    left = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return f"at 00:00 UTC (in {left})"


def over_limit(who: str, whose: str, used: int, limit: int, images: int) -> str:
    """'You have used your 50 pictures for today.' or, when a request of several pictures
    would go over, how many are left ('you have' / 'this chat has')."""
    if used >= limit:
        return f"{who[0].upper()}{who[1:]} used {whose} {limit} pictures for today. "
    return (
        f"This request asks for {images} pictures, but {who} only {limit - used} "
        f"of {whose} {limit} left for today. "
    )
