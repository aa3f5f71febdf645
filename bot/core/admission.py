"""Admission: a command becomes a queued job, or a refusal in plain words.

Validate the text, resolve the style once (rendered once; the job carries that rendering),
check and reserve the limits, write the `queued` row, enqueue. `prepare` writes nothing, so an
adapter can refuse with one message before acknowledging; `submit` reserves atomically.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn

from redis.exceptions import RedisError

from bot.core import metrics
from bot.core.errors import QueueUnavailable, StyleNotAllowed, UserFacingError
from bot.core.messages import JobMessage
from bot.core.models import (
    Generation,
    ImagineCommand,
    ReplyTarget,
    Requester,
    Scope,
    Style,
    Ticket,
)
from bot.core.preferences import Preferences, ScopeSettings
from bot.core.providers.base import Capabilities
from bot.core.queue import JobQueue
from bot.core.quotas import QuotaBook, Reservation
from bot.core.safety import BannedTerms, ContentRefused, Moderator
from bot.core.scope_limits import ScopeLimits
from bot.core.store import Store, StoreUnavailable
from bot.core.styles import StyleCatalogue
from bot.core.text import clean_text
from bot.core.validation import check_aspect, check_negative_prompt, check_prompt
from bot.settings import Settings

log = logging.getLogger(__name__)

MAX_SEED = 2**32 - 1
QUEUE_DOWN = (
    "The request queue is unavailable right now, so nothing was queued. "
    "Please try again in a minute."
)


def new_generation_id() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class PreparedRequest:
    """A validated request, ready for `submit`."""

    requester: Requester
    scope: Scope
    command: ImagineCommand
    style: Style
    seed: int
    rendered_prompt: str  # the style's template around the cleaned prompt
    scope_nsfw: bool  # the scope's admins allow NSFW (the chat must allow it too)
    parent_id: str | None = None


class Admission:
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        styles: StyleCatalogue,
        preferences: Preferences,
        limits: ScopeLimits,
        queue: JobQueue,
        quotas: QuotaBook,
        capabilities: Mapping[str, Capabilities],
        reply_stream: str,
        banned: BannedTerms,
        moderator: Moderator | None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._styles = styles
        self._preferences = preferences
        self._limits = limits
        self._queue = queue
        self._quotas = quotas
        self._capabilities = dict(capabilities)
        self._reply_stream = reply_stream
        self._banned = banned
        self._moderator = moderator

    # -- validation -------------------------------------------------------------------------------

    async def resolve_style(
        self, requester: Requester, scope: Scope, explicit: str | None
    ) -> Style:
        """Explicit choice -> the user's default -> the scope default -> DEFAULT_STYLE."""
        settings = await self._preferences.scope_settings(scope)
        return await self._resolve(requester, settings, explicit)

    async def _resolve(
        self, requester: Requester, settings: ScopeSettings, explicit: str | None
    ) -> Style:
        if explicit is not None and explicit.strip():
            style = self._styles.get(explicit)
            if not settings.allows(style.id):
                allowed = ", ".join(settings.allowed_styles)
                raise StyleNotAllowed(
                    f"The style {style.label} is not allowed here. Allowed styles: {allowed}."
                )
            return style
        candidates = [
            await self._preferences.user_style(requester),
            settings.default_style,
            self._settings.default_style,
        ]
        for candidate in candidates:
            if candidate and candidate in self._styles and settings.allows(candidate):
                return self._styles.get(candidate)
        return self._styles.get(settings.allowed_styles[0])

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
        limit = self._settings.max_prompt_chars
        check_negative_prompt(negative, limit)
        if not prompt:
            check_prompt(prompt, prompt, command.aspect, limit, self._capabilities)
        scope_settings = await self._preferences.scope_settings(scope)
        style = await self._resolve(requester, scope_settings, command.style)
        check_aspect(command.aspect, self._capabilities)
        rendered = style.render(prompt)
        check_prompt(prompt, rendered, command.aspect, limit, self._capabilities)
        if self._banned.matches(prompt, negative or ""):
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
            rendered_prompt=rendered,
            scope_nsfw=scope_settings.nsfw,
            parent_id=parent_id,
        )

    # -- limits -----------------------------------------------------------------------------------

    async def _refuse(self, requester: Requester, scope: Scope, error: UserFacingError) -> NoReturn:
        await self._store.record_refusal(
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
        per_user, per_scope, pending = await self._limits.admission_limits(scope)
        try:
            self._quotas.check(
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
        per_user, per_scope, pending = await self._limits.admission_limits(prepared.scope)
        try:
            # No await between the checks and the increments: atomic on this event loop.
            return self._quotas.reserve(
                prepared.requester.platform,
                prepared.requester.user_id,
                prepared.scope.id,
                daily_per_user=per_user,
                daily_per_scope=per_scope,
                max_pending=pending,
            )
        except UserFacingError as exc:
            await self._refuse(prepared.requester, prepared.scope, exc)

    async def _moderate(self, prepared: PreparedRequest, reservation: Reservation) -> None:
        if self._moderator is None:
            return
        command = prepared.command
        try:
            flagged = await self._moderator.flagged(
                " ".join(p for p in (command.prompt, command.negative_prompt) if p)
            )
        except UserFacingError:
            self._quotas.cancel(reservation)
            raise
        if flagged:
            self._quotas.cancel(reservation)
            await self._refuse(
                prepared.requester,
                prepared.scope,
                ContentRefused("The content check flagged this prompt, so it was not queued."),
            )

    # -- enqueueing -------------------------------------------------------------------------------

    async def submit(self, prepared: PreparedRequest, target: ReplyTarget) -> Ticket:
        """Write the history row, enqueue the job, return the ticket with the queue position."""
        gen_id = new_generation_id()
        command = prepared.command
        reservation = await self._reserve(prepared)
        await self._moderate(prepared, reservation)
        self._quotas.bind(reservation, gen_id)
        try:
            generation = await self._store.insert_generation(
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
        except StoreUnavailable:
            self._quotas.cancel(reservation)  # nothing was stored: give the slot back
            raise
        job = self._job(generation, prepared.style, prepared.rendered_prompt, prepared.scope_nsfw)
        try:
            _created, position = await self._queue.enqueue_ranked(job)
        except (RedisError, OSError) as exc:
            await self._store.mark_failed(gen_id, QueueUnavailable.code, QUEUE_DOWN)
            self._quotas.cancel(reservation)
            log.warning("generation %s: enqueue failed: %s", gen_id, exc.__class__.__name__)
            raise QueueUnavailable(QUEUE_DOWN) from exc
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

    def _job(
        self, generation: Generation, style: Style, rendered_prompt: str, scope_nsfw: bool
    ) -> JobMessage:
        # NSFW only when the scope allows it AND the adapter said this chat may show it
        # (a Discord channel that is not age-restricted never may).
        nsfw = scope_nsfw and generation.handle.get("nsfw_ok") is True
        return JobMessage(
            generation_id=generation.id,
            prompt=rendered_prompt,
            negative_prompt=", ".join(p for p in (generation.negative_prompt, style.negative) if p),
            aspect=generation.aspect,
            seed=generation.seed,
            style=style.id,
            providers=tuple(self._capabilities),
            hints={k: dict(v) for k, v in style.providers.items()},
            reply_stream=self._reply_stream,
            created_at=generation.created_at,
            nsfw=nsfw,
        )

    async def job_for(self, generation: Generation) -> JobMessage:
        """The job of a stored row (after a restart: its style is rendered from the row)."""
        style = self._styles.find(generation.style) or self._styles.get(
            self._settings.default_style
        )
        scope = Scope(platform=generation.platform, id=generation.scope_id)
        scope_settings = await self._preferences.scope_settings(scope)
        return self._job(generation, style, style.render(generation.prompt), scope_settings.nsfw)

    async def resume_job(self, generation: Generation) -> None:
        """Enqueue again after a restart; a no-op when Redis still knows the job."""
        if await self._queue.enqueue(await self.job_for(generation)):
            log.info("generation %s: re-enqueued after restart", generation.id)
