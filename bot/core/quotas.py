"""Per-user and per-scope limits, reserved atomically before a request is queued.

The bot process is the only one that accepts requests, and the check-and-increment below
has no `await` in it, so on one event loop it is atomic: a thousand concurrent commands
from one user can never reserve more than the limit. Counts are rebuilt from SQLite at
start, so a restart neither forgets nor double-counts.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.core.errors import UserFacingError

log = logging.getLogger(__name__)


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


def _over(who: str, whose: str, used: int, limit: int, images: int) -> str:
    """'You have used your 50 pictures for today.' or, when a request of several pictures
    would go over, how many are left ('you have' / 'this chat has')."""
    if used >= limit:
        return f"{who[0].upper()}{who[1:]} used {whose} {limit} pictures for today. "
    return (
        f"This request asks for {images} pictures, but {who} only {limit - used} "
        f"of {whose} {limit} left for today. "
    )


@dataclass(frozen=True)
class Limits:
    max_pending_per_user: int
    daily_per_user: int
    daily_per_scope: int | None
    provider_daily_budget: int | None


@dataclass
class Reservation:
    user: tuple[str, str]
    scope: tuple[str, str]
    day: str
    generation_id: str | None = None
    images: int = 1  # each image of a request counts against the daily limits


@dataclass
class QuotaBook:
    limits: Limits
    clock: Callable[[], float] = time.time
    _day: str = ""
    _per_user: Counter[tuple[str, str]] = field(default_factory=Counter)
    _per_scope: Counter[tuple[str, str]] = field(default_factory=Counter)
    _total: int = 0
    _pending: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    _owner: dict[str, tuple[str, str]] = field(default_factory=dict)
    _budget_warned: bool = False

    def load(
        self,
        today: Iterable[tuple[str, str, str] | tuple[str, str, str, int]],
        pending: Iterable[tuple[str, str, str]],
    ) -> None:
        """today: (platform, user_id, scope_id[, images]) per request accepted today;
        pending: (id, platform, user_id)."""
        self._roll()
        for row in today:
            platform, user_id, scope_id = row[0], row[1], row[2]
            images = row[3] if len(row) > 3 else 1
            self._per_user[(platform, user_id)] += images
            self._per_scope[(platform, scope_id)] += images
            self._total += images
        for gen_id, platform, user_id in pending:
            self._pending.setdefault((platform, user_id), set()).add(gen_id)
            self._owner[gen_id] = (platform, user_id)

    def _roll(self) -> None:
        today = day_of(self.clock())
        if today != self._day:
            self._day = today
            self._per_user.clear()
            self._per_scope.clear()
            self._total = 0
            self._budget_warned = False

    def pending_count(self, platform: str, user_id: str) -> int:
        return len(self._pending.get((platform, user_id), ()))

    def used_today(self, platform: str, user_id: str) -> int:
        self._roll()
        return self._per_user[(platform, user_id)]

    def check(
        self,
        platform: str,
        user_id: str,
        scope_id: str,
        *,
        daily_per_user: int,
        daily_per_scope: int | None,
        max_pending: int | None = None,
        images: int = 1,
    ) -> None:
        """Raise saying which limit and when, as `reserve` would; take nothing. Lets an
        adapter refuse before it acknowledges (a refusal costs one message, a status reply
        and its edit cost two). `max_pending`: the scope's lower limit on waiting requests."""
        self._roll()
        now = self.clock()
        user = (platform, user_id)
        scope = (platform, scope_id)
        budget = self.limits.provider_daily_budget
        if budget is not None and images and self._total + images > budget:
            if not self._budget_warned:
                log.warning(
                    "PROVIDER_DAILY_BUDGET of %d images reached; refusing new requests", budget
                )
                self._budget_warned = True
            raise BudgetExhausted(
                f"The bot has reached its daily image budget. It resets {reset_phrase(now)}."
            )
        pending = self.pending_count(platform, user_id)
        pending_limit = self.limits.max_pending_per_user
        if max_pending is not None:
            pending_limit = min(pending_limit, max_pending)
        if pending >= pending_limit:
            raise LimitReached(
                f"You already have {pending} request{'s' if pending != 1 else ''} waiting "
                f"(the limit is {pending_limit}). "
                "Please wait until one has finished."
            )
        if not images:
            return
        used = self._per_user[user]
        if used + images > daily_per_user:
            raise LimitReached(
                _over("you have", "your", used, daily_per_user, images)
                + f"The limit resets {reset_phrase(now)}."
            )
        used = self._per_scope[scope]
        if daily_per_scope is not None and used + images > daily_per_scope:
            raise LimitReached(
                _over("this chat has", "its", used, daily_per_scope, images)
                + f"The limit resets {reset_phrase(now)}."
            )

    def reserve(
        self,
        platform: str,
        user_id: str,
        scope_id: str,
        *,
        daily_per_user: int,
        daily_per_scope: int | None,
        max_pending: int | None = None,
        images: int = 1,
    ) -> Reservation:
        """Check every limit and take one unit of each, or raise saying which limit and when.

        `max_pending` is the scope's lower limit on the user's waiting requests, if any."""
        self.check(
            platform,
            user_id,
            scope_id,
            daily_per_user=daily_per_user,
            daily_per_scope=daily_per_scope,
            max_pending=max_pending,
            images=images,
        )
        now = self.clock()
        user = (platform, user_id)
        scope = (platform, scope_id)
        self._per_user[user] += images
        self._per_scope[scope] += images
        self._total += images
        # A placeholder id holds the pending slot until the row exists.
        placeholder = f"reserved:{id(object())}:{now}"
        self._pending.setdefault(user, set()).add(placeholder)
        self._owner[placeholder] = user
        return Reservation(
            user=user, scope=scope, day=self._day, generation_id=placeholder, images=images
        )

    def bind(self, reservation: Reservation, generation_id: str) -> None:
        """The request got its generation id: the pending slot now belongs to it."""
        if reservation.generation_id is not None:
            self.settle(reservation.generation_id)
        reservation.generation_id = generation_id
        self._pending.setdefault(reservation.user, set()).add(generation_id)
        self._owner[generation_id] = reservation.user

    def cancel(self, reservation: Reservation) -> None:
        """The request was never queued: give back everything it took."""
        if reservation.generation_id is not None:
            self.settle(reservation.generation_id)
        if reservation.day == self._day:
            self._per_user[reservation.user] -= reservation.images
            self._per_scope[reservation.scope] -= reservation.images
            self._total -= reservation.images

    def settle(self, generation_id: str) -> None:
        """The request left queued/running (done or failed): free its pending slot."""
        owner = self._owner.pop(generation_id, None)
        if owner is not None:
            slots = self._pending.get(owner)
            if slots is not None:
                slots.discard(generation_id)
                if not slots:
                    del self._pending[owner]
