"""A scope's limits: the operator's, or lower ones its admins set (never higher)."""

from __future__ import annotations

from bot.core.errors import InvalidRequest
from bot.core.language import Number, Plural, Text
from bot.core.limits.quotas import Limits
from bot.core.models import MAX_COUNT, Scope
from bot.core.store import Store
from bot.core.store.settings import ScopeRow
from bot.settings import Settings


def operator_limits(settings: Settings) -> Limits:
    return Limits(
        max_pending_per_user=settings.max_pending_per_user,
        daily_per_user=settings.daily_limit_per_user,
        daily_per_scope=settings.daily_limit_per_scope,
        provider_daily_budget=settings.provider_daily_budget,
    )


AdmissionLimits = tuple[int, int | None, int | None, int]


class ScopeLimits:
    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._settings = settings

    async def admission_limits(self, scope: Scope) -> AdmissionLimits:
        """`effective_limits`, `pending_override` and `max_count` together, from one store
        query (all are read for every request)."""
        return self.limits_of(await self._store.scope_row(scope.platform, scope.id))

    def limits_of(self, row: ScopeRow) -> AdmissionLimits:
        """A request's limits from the scope's row: daily per user and per scope, the waiting
        requests one user may have, the most pictures one request may ask for."""
        per_user, per_scope = self._effective(row.daily_limit_per_user, row.daily_limit_per_scope)
        return per_user, per_scope, row.max_pending_per_user, self._count_cap(row.max_count)

    async def effective_limits(self, scope: Scope) -> tuple[int, int | None]:
        """Daily limits per user and per scope: the operator's, or lower if the scope's admins said so."""
        per_user, per_scope = await self._store.scope_limits(scope.platform, scope.id)
        return self._effective(per_user, per_scope)

    def _effective(self, per_user: int | None, per_scope: int | None) -> tuple[int, int | None]:
        operator_user = self._settings.daily_limit_per_user
        operator_scope = self._settings.daily_limit_per_scope
        user_limit = min(per_user, operator_user) if per_user else operator_user
        if per_scope and operator_scope:
            scope_limit: int | None = min(per_scope, operator_scope)
        else:
            scope_limit = per_scope or operator_scope
        return user_limit, scope_limit

    async def pending_override(self, scope: Scope) -> int | None:
        """The scope's own cap on one user's waiting requests (None: the operator's)."""
        return await self._store.scope_pending_limit(scope.platform, scope.id)

    async def effective_pending_limit(self, scope: Scope) -> int:
        """Requests one user may have waiting at once here: the operator's, or the scope's lower one."""
        pending = await self.pending_override(scope)
        operator = self._settings.max_pending_per_user
        return min(pending, operator) if pending else operator

    async def scope_limit_overrides(
        self, scope: Scope
    ) -> tuple[int | None, int | None, int | None]:
        """What the scope's admins set (daily per user, daily for the scope, pending per user);
        None where they kept the operator's limit."""
        per_user, per_scope = await self._store.scope_limits(scope.platform, scope.id)
        return per_user, per_scope, await self.pending_override(scope)

    def check_scope_limits(
        self,
        *,
        per_user: int | None = None,
        per_scope: int | None = None,
        pending: int | None = None,
    ) -> None:
        """Raise unless every given limit is at least 1 and not above the operator's."""
        user, chat = self._settings.daily_limit_per_user, self._settings.daily_limit_per_scope
        waiting = self._settings.max_pending_per_user
        for value, ceiling, words in (
            (per_user, user, _at_most_per_user(user or 0)),
            (per_scope, chat, _at_most_per_chat(chat or 0)),
            (pending, waiting, _at_most_waiting(waiting or 0)),
        ):
            if value is not None and value < 1:
                raise InvalidRequest(Text("A limit must be at least 1."))
            if value is not None and ceiling is not None and value > ceiling:
                raise InvalidRequest(words)

    async def set_scope_limits(
        self, scope: Scope, *, per_user: int | None, per_scope: int | None
    ) -> tuple[int, int | None]:
        """Admins may lower their scope's daily limits, never raise them past the operator's."""
        self.check_scope_limits(per_user=per_user, per_scope=per_scope)
        await self._store.set_scope_limits(scope.platform, scope.id, per_user, per_scope)
        return await self.effective_limits(scope)

    async def set_scope_pending_limit(self, scope: Scope, pending: int | None) -> int:
        """Admins may lower how many requests a user may have waiting here (None: the operator's)."""
        self.check_scope_limits(pending=pending)
        await self._store.set_scope_pending_limit(scope.platform, scope.id, pending)
        return await self.effective_pending_limit(scope)

    async def max_count(self, scope: Scope) -> int:
        """The most pictures one request may ask for here: 4, or less if the admins said so."""
        return self._count_cap((await self._store.scope_row(scope.platform, scope.id)).max_count)

    @staticmethod
    def _count_cap(cap: int | None) -> int:
        return MAX_COUNT if cap is None else max(1, min(MAX_COUNT, cap))

    async def set_max_count(self, scope: Scope, count: int | None) -> int:
        """Admins cap the pictures per request (1-4); None returns to the default of 4."""
        if count is not None and not 1 <= count <= MAX_COUNT:
            raise InvalidRequest(
                Text("The number of pictures per request is 1 to {most}.", most=Number(MAX_COUNT))
            )
        await self._store.set_scope_max_count(scope.platform, scope.id, count)
        return MAX_COUNT if count is None else count


def _at_most_per_user(most: int) -> Text:
    return Plural(
        "The bot's operator allows at most {count} picture a day per user; "
        "you can only lower that.",
        "The bot's operator allows at most {count} pictures a day per user; "
        "you can only lower that.",
        most,
    )


def _at_most_per_chat(most: int) -> Text:
    return Plural(
        "The bot's operator allows at most {count} picture a day for this chat; "
        "you can only lower that.",
        "The bot's operator allows at most {count} pictures a day for this chat; "
        "you can only lower that.",
        most,
    )


def _at_most_waiting(most: int) -> Text:
    return Plural(
        "The bot's operator allows at most {count} waiting request per user; "
        "you can only lower that.",
        "The bot's operator allows at most {count} waiting requests per user; "
        "you can only lower that.",
        most,
    )
