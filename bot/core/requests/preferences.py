"""Scope settings (a server's or group's default and allowed styles, NSFW) and each user's
own default style, with the caches that keep them off the acknowledgement path.

Several bot processes may share the store, so a cache is only as good as the last change
any of them made: every change bumps a version number in Redis, and a read whose cached
version is not the current one starts with an empty cache. One GET per read is far cheaper
than the store's query; when Redis cannot answer, the store is asked directly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.core.errors import StoreUnavailable, StyleNotAllowed
from bot.core.language import (
    LANGUAGES,
    Text,
    UserText,
    choose_locale,
    community_locale,
    locale_from_tag,
)
from bot.core.models import Requester, Scope, Style
from bot.core.requests.community_styles import CommunityStyles
from bot.core.requests.styles import StyleCatalogue
from bot.core.store import Store
from bot.core.store.settings import ScopeRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScopeSettings:
    default_style: str | None
    allowed_styles: tuple[str, ...]
    nsfw: bool = False

    def allows(self, style_id: str) -> bool:
        return not self.allowed_styles or style_id in self.allowed_styles

    @classmethod
    def of(cls, row: ScopeRow) -> ScopeSettings:
        return cls(row.default_style, row.allowed_styles, row.nsfw)


def reader_locale(row: ScopeRow, requester: Requester) -> str:
    """The locale `requester` reads in, from the scope's row read with their own language
    (`Store.scope_row(..., user_id)`) and the tags their app sent (`choose_locale`)."""
    return choose_locale(
        chosen=row.user_language,
        from_client=requester.language,
        community=community_locale(
            chosen=row.language, platform_default=requester.community_language
        ),
        members_win=row.members_language_wins,
    )


def _offered(locale: str | None) -> str | None:
    """A locale a person or an admin may choose (None: automatic); anything else is refused."""
    if locale is None or locale in LANGUAGES:
        return locale
    raise ValueError(f"not a language we offer: {locale!r}")


class Preferences:
    def __init__(
        self,
        store: Store,
        styles: StyleCatalogue,
        *,
        redis: Redis | None = None,
        version_key: str = "imaginebot:settings-version",
        community: CommunityStyles | None = None,
    ) -> None:
        self._store = store
        self._styles = styles
        self._community = community
        self._redis = redis
        self._version_key = version_key
        self._version: bytes | None = None  # the version the caches hold
        self._scope_cache: dict[tuple[str, str], ScopeSettings] = {}
        self._user_cache: dict[tuple[str, str], str | None] = {}

    async def _fresh(self) -> bool:
        """Empty the caches if any process changed a setting since they were filled; False
        when the version cannot be read (then nothing cached may be trusted)."""
        if self._redis is None:
            return True  # one process, no shared Redis: the write-through caches stay true
        try:
            version = await self._redis.get(self._version_key) or b"0"
        except (RedisError, OSError):
            self._clear()
            return False
        if version != self._version:
            self._clear()
            self._version = version
        return True

    def _clear(self) -> None:
        self._scope_cache.clear()
        self._user_cache.clear()
        self._version = None

    async def changed_elsewhere(self) -> None:
        """Settings changed behind the caches (a chat's records moved): forget them everywhere."""
        await self._changed()
        if self._community is not None:
            await self._community.changed_everywhere()

    async def _changed(self) -> None:
        """Tell every process (this one too) that a setting changed."""
        if self._redis is None:
            return
        self._clear()  # another process may change something between the write and the INCR
        try:
            await self._redis.incr(self._version_key)
        except (RedisError, OSError) as exc:
            log.warning("settings change not announced to other bot processes (%s)", exc)

    async def scope_settings(self, scope: Scope) -> ScopeSettings:
        key = (scope.platform, scope.id)
        cached = self._scope_cache.get(key) if await self._fresh() else None
        if cached is None:
            row = await self._store.scope_row(scope.platform, scope.id)  # one query
            cached = ScopeSettings.of(row)
            self._scope_cache[key] = cached
        return cached

    async def _save_scope(self, scope: Scope, settings: ScopeSettings) -> None:
        await self._store.set_scope_settings(
            scope.platform, scope.id, settings.default_style, settings.allowed_styles
        )
        self._scope_cache[(scope.platform, scope.id)] = settings
        await self._changed()

    async def style_in(self, scope: Scope, text: str) -> Style:
        """A built-in style, one of the scope's own, or one by code (`#k3f9`)."""
        if self._community is None:
            return self._styles.get(text)
        return await self._community.get(scope, text)

    async def style_in_or_none(self, scope: Scope, text: str) -> Style | None:
        if self._community is None:
            return self._styles.find(text)
        return await self._community.find(scope, text)

    async def catalogue(self, scope: Scope) -> StyleCatalogue:
        """The styles members of the scope can choose from by name (built-in and its own)."""
        if self._community is None:
            return self._styles
        return await self._community.catalogue(scope)

    async def set_scope_default(self, scope: Scope, style_text: str | None) -> Style | None:
        current = await self.scope_settings(scope)
        style = await self.style_in(scope, style_text) if style_text else None
        if style is not None and not current.allows(style.id):
            raise StyleNotAllowed(
                Text(
                    "{style} is not in this chat's allowed styles; allow it first.",
                    style=UserText(style.label),
                )
            )
        await self._save_scope(
            scope, ScopeSettings(style.id if style else None, current.allowed_styles, current.nsfw)
        )
        return style

    async def set_allowed_styles(
        self, scope: Scope, style_texts: Iterable[str] | None
    ) -> list[Style]:
        """Restrict the scope to these styles (None or empty: every style is allowed)."""
        styles = [await self.style_in(scope, text) for text in style_texts or []]
        unique = list(dict.fromkeys(s.id for s in styles))
        current = await self.scope_settings(scope)
        default = current.default_style
        if unique and default and default not in unique:
            default = None  # the old default is no longer allowed; fall back to the bot default
        await self._save_scope(scope, ScopeSettings(default, tuple(unique), current.nsfw))
        return [next(s for s in styles if s.id == i) for i in unique]

    async def allowed_styles(self, scope: Scope) -> list[Style]:
        settings = await self.scope_settings(scope)
        return [s for s in await self.catalogue(scope) if settings.allows(s.id)]

    async def set_scope_nsfw(self, scope: Scope, allowed: bool) -> None:
        """Admins allow or forbid NSFW output for their scope (forbidden by default)."""
        await self._store.set_scope_nsfw(scope.platform, scope.id, allowed)
        self._scope_cache.pop((scope.platform, scope.id), None)
        await self._changed()

    async def user_style(self, requester: Requester) -> str | None:
        key = (requester.platform, requester.user_id)
        if not await self._fresh() or key not in self._user_cache:
            self._user_cache[key] = await self._store.user_style(*key)
        return self._user_cache[key]

    async def set_user_style(
        self, requester: Requester, style_text: str | None, scope: Scope | None = None
    ) -> Style | None:
        """The user's own default: a built-in style, or (chosen in `scope`) one of that
        scope's own or any by code, which applies where it can be used."""
        if not style_text:
            style = None
        elif scope is not None:
            style = await self.style_in(scope, style_text)
        else:
            style = self._styles.get(style_text)
        await self._store.set_user_style(
            requester.platform, requester.user_id, style.id if style else None
        )
        self._user_cache[(requester.platform, requester.user_id)] = style.id if style else None
        await self._changed()
        return style

    async def locale(self, requester: Requester, scope: Scope) -> str:
        """The locale `requester` reads in here (one query: the scope's row with their own
        language). Not cached: a person's choice shows in the very next answer everywhere."""
        try:
            row = await self._store.scope_row(scope.platform, scope.id, requester.user_id)
        except StoreUnavailable:
            # Words must still reach the person (that the database is down, say): in their
            # app's language, else their community's, as far as the platform tells.
            return choose_locale(
                chosen=None,
                from_client=requester.language,
                community=locale_from_tag(requester.community_language),
            )
        return reader_locale(row, requester)

    async def community_language(self, scope: Scope) -> tuple[str | None, bool]:
        """What the scope's admins chose: its default locale (None: the platform's) and
        whether members' own languages win."""
        row = await self._store.scope_row(scope.platform, scope.id)
        return row.language, row.members_language_wins

    async def community_locale(self, requester: Requester, scope: Scope) -> str:
        """The locale of messages everyone in the scope reads: the admins' choice, else the
        platform's default for the community (carried by `requester`), else English."""
        chosen, _ = await self.community_language(scope)
        return community_locale(chosen=chosen, platform_default=requester.community_language)

    async def set_user_language(self, requester: Requester, locale: str | None) -> None:
        """A person's own language (None: automatic again, from their app)."""
        await self._store.set_user_language(requester.platform, requester.user_id, _offered(locale))
        await self._changed()

    async def set_community_language(
        self, scope: Scope, locale: str | None, members_win: bool
    ) -> None:
        """A community's default language (None: the platform's) and whether its members'
        own languages win over it. The adapters let only the scope's admins call this."""
        await self._store.set_scope_language(
            scope.platform, scope.id, _offered(locale), members_win
        )
        self._scope_cache.pop((scope.platform, scope.id), None)
        await self._changed()

    async def forget_user(self, requester: Requester) -> None:
        """Drop the cached default of a user whose settings were deleted (everywhere)."""
        self._user_cache.pop((requester.platform, requester.user_id), None)
        await self._changed()
