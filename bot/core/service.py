"""GenerationService: the one entry point both adapters and the CLI call."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from redis.exceptions import RedisError

from bot.core import metrics
from bot.core.access import Need, check_access
from bot.core.errors import (
    EmptyPrompt,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    PromptTooLong,
    QueueUnavailable,
    StyleNotAllowed,
    UnsupportedAspect,
    UserFacingError,
)
from bot.core.imagefiles import ImageFiles
from bot.core.messages import JobMessage
from bot.core.models import (
    ASPECT_RATIOS,
    Generation,
    ImagineCommand,
    ReplyTarget,
    Requester,
    Scope,
    Style,
    Ticket,
)
from bot.core.providers.base import Capabilities
from bot.core.queue import JobQueue
from bot.core.quotas import Limits, QuotaBook, Reservation, day_start
from bot.core.safety import BannedTerms, ContentRefused, Moderator
from bot.core.store import Store
from bot.core.styles import StyleCatalogue
from bot.core.text import clean_text
from bot.settings import Settings

log = logging.getLogger(__name__)

MAX_SEED = 2**32 - 1


def operator_limits(settings: Settings) -> Limits:
    return Limits(
        max_pending_per_user=settings.max_pending_per_user,
        daily_per_user=settings.daily_limit_per_user,
        daily_per_scope=settings.daily_limit_per_scope,
        provider_daily_budget=settings.provider_daily_budget,
    )


def new_generation_id() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class ScopeSettings:
    default_style: str | None
    allowed_styles: tuple[str, ...]
    nsfw: bool = False

    def allows(self, style_id: str) -> bool:
        return not self.allowed_styles or style_id in self.allowed_styles


@dataclass(frozen=True)
class PreparedRequest:
    """A validated request, ready for `submit`."""

    requester: Requester
    scope: Scope
    command: ImagineCommand
    style: Style
    seed: int
    parent_id: str | None = None


class GenerationService:
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        styles: StyleCatalogue,
        queue: JobQueue,
        capabilities: Mapping[str, Capabilities],
        reply_stream: str,
        files: ImageFiles,
        quotas: QuotaBook | None = None,
        banned: BannedTerms | None = None,
        moderator: Moderator | None = None,
    ) -> None:
        self.settings = settings
        self.files = files
        self.quotas = quotas or QuotaBook(operator_limits(settings))
        self.banned = banned or BannedTerms([])
        self.moderator = moderator
        self.store = store
        self.styles = styles
        self.queue = queue
        self.capabilities = dict(capabilities)
        self.reply_stream = reply_stream
        # The bot process is SQLite's only writer, so a write-through cache stays true and
        # keeps the acknowledgement path free of database round trips.
        self._scope_cache: dict[tuple[str, str], ScopeSettings] = {}
        self._user_cache: dict[tuple[str, str], str | None] = {}

    # -- settings ---------------------------------------------------------------------------------

    async def scope_settings(self, scope: Scope) -> ScopeSettings:
        key = (scope.platform, scope.id)
        cached = self._scope_cache.get(key)
        if cached is None:
            default, allowed = await self.store.scope_settings(scope.platform, scope.id)
            nsfw = await self.store.scope_nsfw(scope.platform, scope.id)
            cached = self._scope_cache[key] = ScopeSettings(default, tuple(allowed), nsfw)
        return cached

    async def _save_scope(self, scope: Scope, settings: ScopeSettings) -> None:
        await self.store.set_scope_settings(
            scope.platform, scope.id, settings.default_style, settings.allowed_styles
        )
        self._scope_cache[(scope.platform, scope.id)] = settings

    async def set_scope_default(self, scope: Scope, style_text: str | None) -> Style | None:
        current = await self.scope_settings(scope)
        style = self.styles.get(style_text) if style_text else None
        if style is not None and not current.allows(style.id):
            raise StyleNotAllowed(
                f"{style.label} is not in this chat's allowed styles; allow it first."
            )
        await self._save_scope(
            scope, ScopeSettings(style.id if style else None, current.allowed_styles, current.nsfw)
        )
        return style

    async def set_allowed_styles(
        self, scope: Scope, style_texts: Iterable[str] | None
    ) -> list[Style]:
        """Restrict the scope to these styles (None or empty: every style is allowed)."""
        styles = [self.styles.get(text) for text in style_texts or []]
        unique = list(dict.fromkeys(s.id for s in styles))
        current = await self.scope_settings(scope)
        default = current.default_style
        if unique and default and default not in unique:
            default = None  # the old default is no longer allowed; fall back to the bot default
        await self._save_scope(scope, ScopeSettings(default, tuple(unique), current.nsfw))
        return [self.styles.get(i) for i in unique]

    async def allowed_styles(self, scope: Scope) -> list[Style]:
        settings = await self.scope_settings(scope)
        return [s for s in self.styles if settings.allows(s.id)]

    async def user_style(self, requester: Requester) -> str | None:
        key = (requester.platform, requester.user_id)
        if key not in self._user_cache:
            self._user_cache[key] = await self.store.user_style(*key)
        return self._user_cache[key]

    async def set_user_style(self, requester: Requester, style_text: str | None) -> Style | None:
        style = self.styles.get(style_text) if style_text else None
        await self.store.set_user_style(
            requester.platform, requester.user_id, style.id if style else None
        )
        self._user_cache[(requester.platform, requester.user_id)] = style.id if style else None
        return style

    # -- requests ---------------------------------------------------------------------------------

    async def resolve_style(
        self, requester: Requester, scope: Scope, explicit: str | None
    ) -> Style:
        """Explicit choice -> the user's default -> the scope default -> DEFAULT_STYLE."""
        settings = await self.scope_settings(scope)
        if explicit is not None and explicit.strip():
            style = self.styles.get(explicit)
            if not settings.allows(style.id):
                allowed = ", ".join(settings.allowed_styles)
                raise StyleNotAllowed(
                    f"The style {style.label} is not allowed here. Allowed styles: {allowed}."
                )
            return style
        candidates = [
            await self.user_style(requester),
            settings.default_style,
            self.settings.default_style,
        ]
        for candidate in candidates:
            if candidate and candidate in self.styles and settings.allows(candidate):
                return self.styles.get(candidate)
        return self.styles.get(settings.allowed_styles[0])

    def _check_aspect(self, aspect: str) -> None:
        able = [p for p, caps in self.capabilities.items() if aspect in caps.aspects]
        if not able:
            possible = sorted(
                {a for caps in self.capabilities.values() for a in caps.aspects},
                key=ASPECT_RATIOS.index,
            )
            names = ", ".join(self.capabilities)
            raise UnsupportedAspect(
                f"The image service ({names}) cannot make {aspect} pictures. "
                f"Choose one of: {', '.join(possible)}."
            )

    def _check_prompt(self, prompt: str, rendered: str, aspect: str) -> None:
        if not prompt:
            raise EmptyPrompt(
                "Your prompt is empty. Describe the picture you want, "
                "for example: a lighthouse at dusk."
            )
        limit = self.settings.max_prompt_chars
        if len(prompt) > limit:
            raise PromptTooLong(
                f"Your prompt is {len(prompt):,} characters long; the limit is {limit:,}. "
                "Please shorten it."
            )
        provider_limit = max(
            (c.max_prompt_chars for c in self.capabilities.values() if aspect in c.aspects),
            default=0,
        )
        if len(rendered) > provider_limit:
            raise PromptTooLong(
                f"With this style your prompt becomes {len(rendered):,} characters, more than the "
                f"image service accepts ({provider_limit:,}). Please shorten it."
            )

    async def prepare(
        self,
        requester: Requester,
        scope: Scope,
        command: ImagineCommand,
        *,
        parent_id: str | None = None,
    ) -> PreparedRequest:
        """Validate and resolve a command without writing anything; raises a UserFacingError."""
        prompt = clean_text(command.prompt)
        negative = clean_text(command.negative_prompt or "") or None
        if negative and len(negative) > self.settings.max_prompt_chars:
            raise PromptTooLong(
                f"Your negative prompt is {len(negative):,} characters long; the limit is "
                f"{self.settings.max_prompt_chars:,}."
            )
        if not prompt:
            self._check_prompt(prompt, prompt, command.aspect)
        style = await self.resolve_style(requester, scope, command.style)
        self._check_aspect(command.aspect)
        self._check_prompt(prompt, style.render(prompt), command.aspect)
        if self.banned.matches(prompt, negative or ""):
            # The refusal never echoes the matched term.
            await self._refuse(
                requester,
                scope,
                ContentRefused("This prompt uses words that are not allowed on this bot."),
            )
        await self._check_limits(requester, scope)
        seed = command.seed if command.seed is not None else secrets.randbelow(MAX_SEED + 1)
        return PreparedRequest(
            requester=requester,
            scope=scope,
            command=command.model_copy(
                update={
                    "prompt": prompt,
                    "negative_prompt": negative,
                    "style": style.id,
                    "seed": seed,
                }
            ),
            style=style,
            seed=seed,
            parent_id=parent_id,
        )

    async def _refuse(self, requester: Requester, scope: Scope, error: UserFacingError) -> NoReturn:
        await self.store.record_refusal(
            requester.platform, scope.id, requester.user_id, error.code, error.message
        )
        metrics.REFUSALS.labels(error.code).inc()
        log.info(
            "refused a request from %s:%s (%s)", requester.platform, requester.user_id, error.code
        )
        raise error

    async def _check_limits(self, requester: Requester, scope: Scope) -> None:
        """Refuse already here what `submit` would refuse for a limit, so an adapter answers
        with one message instead of acknowledging first (submit still reserves atomically)."""
        per_user, per_scope = await self.effective_limits(scope)
        pending = await self.store.scope_pending_limit(scope.platform, scope.id)
        try:
            self.quotas.check(
                requester.platform,
                requester.user_id,
                scope.id,
                daily_per_user=per_user,
                daily_per_scope=per_scope,
                max_pending=pending,
            )
        except UserFacingError as exc:
            await self._refuse(requester, scope, exc)

    async def _reserve(self, prepared: PreparedRequest) -> Reservation:
        per_user, per_scope = await self.effective_limits(prepared.scope)
        pending = await self.store.scope_pending_limit(prepared.scope.platform, prepared.scope.id)
        try:
            # No await between the checks and the increments: atomic on this event loop.
            return self.quotas.reserve(
                prepared.requester.platform,
                prepared.requester.user_id,
                prepared.scope.id,
                daily_per_user=per_user,
                daily_per_scope=per_scope,
                max_pending=pending,
            )
        except UserFacingError as exc:
            await self._refuse(prepared.requester, prepared.scope, exc)

    def settled(self, generation_id: str) -> None:
        """A request left queued/running: its pending slot is free again."""
        self.quotas.settle(generation_id)

    async def load_quotas(self) -> None:
        """Rebuild today's counts and the pending requests from SQLite (at start)."""
        now = time.time()
        self.quotas.load(
            await self.store.accepted_since(day_start(now)), await self.store.pending()
        )

    async def effective_limits(self, scope: Scope) -> tuple[int, int | None]:
        """Daily limits per user and per scope: the operator's, or lower if the scope's admins said so."""
        per_user, per_scope = await self.store.scope_limits(scope.platform, scope.id)
        operator_user = self.settings.daily_limit_per_user
        operator_scope = self.settings.daily_limit_per_scope
        user_limit = min(per_user, operator_user) if per_user else operator_user
        if per_scope and operator_scope:
            scope_limit: int | None = min(per_scope, operator_scope)
        else:
            scope_limit = per_scope or operator_scope
        return user_limit, scope_limit

    async def set_scope_limits(
        self, scope: Scope, *, per_user: int | None, per_scope: int | None
    ) -> tuple[int, int | None]:
        """Admins may lower their scope's daily limits, never raise them past the operator's."""
        self.check_scope_limits(per_user=per_user, per_scope=per_scope)
        await self.store.set_scope_limits(scope.platform, scope.id, per_user, per_scope)
        return await self.effective_limits(scope)

    async def effective_pending_limit(self, scope: Scope) -> int:
        """Requests one user may have waiting at once here: the operator's, or the scope's lower one."""
        pending = await self.store.scope_pending_limit(scope.platform, scope.id)
        operator = self.settings.max_pending_per_user
        return min(pending, operator) if pending else operator

    async def scope_limit_overrides(
        self, scope: Scope
    ) -> tuple[int | None, int | None, int | None]:
        """What the scope's admins set (daily per user, daily for the scope, pending per user);
        None where they kept the operator's limit."""
        per_user, per_scope = await self.store.scope_limits(scope.platform, scope.id)
        return per_user, per_scope, await self.store.scope_pending_limit(scope.platform, scope.id)

    def check_scope_limits(
        self,
        *,
        per_user: int | None = None,
        per_scope: int | None = None,
        pending: int | None = None,
    ) -> None:
        """Raise unless every given limit is at least 1 and not above the operator's."""
        for value, ceiling, what in (
            (per_user, self.settings.daily_limit_per_user, "pictures a day per user"),
            (per_scope, self.settings.daily_limit_per_scope, "pictures a day for this chat"),
            (pending, self.settings.max_pending_per_user, "waiting requests per user"),
        ):
            if value is not None and value < 1:
                raise InvalidRequest("A limit must be at least 1.")
            if value is not None and ceiling is not None and value > ceiling:
                raise InvalidRequest(
                    f"The bot's operator allows at most {ceiling} {what}; you can only lower that."
                )

    async def set_scope_pending_limit(self, scope: Scope, pending: int | None) -> int:
        """Admins may lower how many requests a user may have waiting here (None: the operator's)."""
        self.check_scope_limits(pending=pending)
        await self.store.set_scope_pending_limit(scope.platform, scope.id, pending)
        return await self.effective_pending_limit(scope)

    async def recent_refusals(self, scope: Scope, limit: int = 10) -> list[dict[str, Any]]:
        return await self.store.recent_refusals(scope.platform, scope.id, limit)

    async def forget_user(self, requester: Requester) -> int:
        """Delete the user's history rows, image files and personal settings."""
        paths = await self.store.forget_user(requester.platform, requester.user_id)
        for path in paths:
            self.files.remove(path)
        self._user_cache.pop((requester.platform, requester.user_id), None)
        log.info("forgot user %s:%s (%d images)", requester.platform, requester.user_id, len(paths))
        return len(paths)

    async def submit(self, prepared: PreparedRequest, target: ReplyTarget) -> Ticket:
        """Write the history row, enqueue the job, return the ticket with the queue position."""
        gen_id = new_generation_id()
        command = prepared.command
        reservation = await self._reserve(prepared)
        if self.moderator is not None:
            try:
                flagged = await self.moderator.flagged(
                    " ".join(p for p in (command.prompt, command.negative_prompt) if p)
                )
            except UserFacingError:
                self.quotas.cancel(reservation)
                raise
            if flagged:
                self.quotas.cancel(reservation)
                await self._refuse(
                    prepared.requester,
                    prepared.scope,
                    ContentRefused("The content check flagged this prompt, so it was not queued."),
                )
        self.quotas.bind(reservation, gen_id)
        generation = await self.store.insert_generation(
            {
                "id": gen_id,
                "platform": prepared.requester.platform,
                "scope_id": prepared.scope.id,
                "chat_id": target.chat_id,
                "thread_id": target.thread_id,
                "reply_to_message_id": target.reply_to_message_id,
                "user_id": prepared.requester.user_id,
                "user_name": prepared.requester.display_name,
                "prompt": command.prompt,
                "negative_prompt": command.negative_prompt,
                "style": prepared.style.id,
                "aspect": command.aspect,
                "seed": prepared.seed,
                "parent_id": prepared.parent_id,
                "status": "queued",
                "handle": target.handle,
                "created_at": time.time(),
            }
        )
        try:
            _created, position = await self.queue.enqueue_ranked(await self.job_payload(generation))
        except (RedisError, OSError) as exc:
            reason = "The request queue is unavailable right now, so nothing was queued. Please try again in a minute."
            await self.store.mark_failed(gen_id, QueueUnavailable.code, reason)
            self.quotas.cancel(reservation)
            log.warning("generation %s: enqueue failed: %s", gen_id, exc.__class__.__name__)
            raise QueueUnavailable(reason) from exc
        log.info("generation %s: queued at position %d", gen_id, position)
        # Prompts are the users' words: only at DEBUG, for the operator who asks for them.
        log.debug(
            "generation %s: prompt %r, negative %r", gen_id, command.prompt, command.negative_prompt
        )
        return Ticket(
            generation_id=gen_id,
            position=position,
            style=prepared.style,
            aspect=command.aspect,
            seed=prepared.seed,
        )

    async def imagine(
        self, requester: Requester, scope: Scope, target: ReplyTarget, command: ImagineCommand
    ) -> Ticket:
        return await self.submit(await self.prepare(requester, scope, command), target)

    async def prepare_variation(
        self,
        generation_id: str,
        requester: Requester,
        scope: Scope,
        *,
        style: str | None = None,
    ) -> PreparedRequest:
        """Reroll (same settings, new seed) or restyle (another style) an earlier request
        made in this scope (never someone else's prompt from another chat)."""
        original = await self.generation_for(generation_id, requester, scope)
        command = ImagineCommand(
            prompt=original.prompt,
            style=style or original.style,
            aspect=original.aspect,
            negative_prompt=original.negative_prompt,
            seed=None,
        )
        return await self.prepare(requester, scope, command, parent_id=original.id)

    async def set_scope_nsfw(self, scope: Scope, allowed: bool) -> None:
        """Admins allow or forbid NSFW output for their scope (forbidden by default)."""
        await self.store.set_scope_nsfw(scope.platform, scope.id, allowed)
        self._scope_cache.pop((scope.platform, scope.id), None)

    async def job_payload(self, generation: Generation) -> JobMessage:
        """Everything a worker on any machine needs; nothing platform-specific."""
        style = self.styles.find(generation.style) or self.styles.get(self.settings.default_style)
        scope_settings = await self.scope_settings(
            Scope(platform=generation.platform, id=generation.scope_id)
        )
        # NSFW only when the scope allows it AND the adapter said this chat may show it
        # (a Discord channel that is not age-restricted never may).
        nsfw = scope_settings.nsfw and generation.handle.get("nsfw_ok") is True
        negative = ", ".join(p for p in (generation.negative_prompt, style.negative) if p)
        return JobMessage(
            generation_id=generation.id,
            prompt=style.render(generation.prompt),
            negative_prompt=negative,
            aspect=generation.aspect,
            seed=generation.seed,
            style=style.id,
            providers=tuple(self.capabilities),
            hints={k: dict(v) for k, v in style.providers.items()},
            reply_stream=self.reply_stream,
            created_at=generation.created_at,
            nsfw=nsfw,
        )

    async def resume_job(self, generation: Generation) -> None:
        """Enqueue again after a restart; a no-op when Redis still knows the job."""
        if await self.queue.enqueue(await self.job_payload(generation)):
            log.info("generation %s: re-enqueued after restart", generation.id)

    # -- history ----------------------------------------------------------------------------------

    async def generation(self, generation_id: str) -> Generation:
        generation = await self.store.get(generation_id)
        if generation is None:
            raise NotFound("That request is no longer in the history.")
        return generation

    async def generation_for(
        self,
        generation_id: str,
        actor: Requester,
        scope: Scope,
        need: Need = Need.SCOPE,
        *,
        moderator: bool = False,
    ) -> Generation:
        """The generation a button names, if `actor` pressing it in `scope` may use it:
        raises NotFound, or WrongScope / NotOwner (both PermissionDenied) otherwise."""
        generation = await self.generation(generation_id)
        check_access(generation, actor, scope, need, moderator=moderator)
        return generation

    async def history(
        self, requester: Requester, limit: int = 10, *, scope: Scope | None = None
    ) -> list[Generation]:
        """The requester's newest rows; with `scope`, only the ones made there."""
        return await self.store.history(
            requester.platform, requester.user_id, limit, scope_id=scope.id if scope else None
        )

    async def delete_generation(
        self,
        generation_id: str,
        requester: Requester,
        scope: Scope,
        *,
        moderator: bool = False,
    ) -> Generation:
        """The requester, or a moderator of the row's own scope, deletes a row and its file."""
        try:
            generation = await self.generation_for(
                generation_id, requester, scope, Need.OWNER_OR_MODERATOR, moderator=moderator
            )
        except PermissionDenied as exc:
            if exc.code == "not_owner":
                raise PermissionDenied(
                    "Only the person who asked for this picture can delete it.", code=exc.code
                ) from None
            raise
        await self.store.delete(generation_id)
        self.files.remove(generation.image_path)
        return generation
