"""GenerationService: the one entry point both adapters and the CLI call (commands in,
results out). It holds no rules of its own: each of its methods is answered by the part
that owns the rule:

- `admission`: validate, resolve the style, reserve limits, write the row, enqueue;
- `preferences`: scope settings and users' default styles, with their caches;
- `limits`: a scope's daily and pending limits, as its admins may lower them;
- `history`: the rows a user may see or act on, deletion and /forget-me;
- `follow_ups`: upscale, vary, remix, info, describe and "Imagine this" on earlier results;
- `scope_changes`: a chat that got a new id, or that the bot was removed from;
- `edits`: Vary (Region), Zoom out, Pan, Make square and Edit by words on earlier results.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from contextlib import AbstractAsyncContextManager

from redis.exceptions import RedisError

from bot.core.delivery.acknowledgements import Acknowledgements
from bot.core.generation.providers.base import Capabilities
from bot.core.generation.queue import JobQueue
from bot.core.images.files import ImageFiles
from bot.core.limits.quotas import QuotaBook, day_start
from bot.core.limits.safety import BannedTerms, Moderator
from bot.core.limits.scope_limits import ScopeLimits, operator_limits
from bot.core.messages import JobMessage
from bot.core.models import (
    MAX_SEED,
    EditRequest,
    FollowUps,
    Generation,
    ImagineCommand,
    Info,
    Kind,
    ReplyTarget,
    Requester,
    Scope,
    Style,
    Ticket,
)
from bot.core.requests.access import Need
from bot.core.requests.admission import Admission, PreparedRequest, new_generation_id
from bot.core.requests.community_styles import CommunityStyles
from bot.core.requests.edits import EditActions, EditOffers
from bot.core.requests.follow_ups import FollowUpActions
from bot.core.requests.history import History
from bot.core.requests.input_images import InputImages
from bot.core.requests.preferences import Preferences, ScopeSettings
from bot.core.requests.prompt_translation import PromptTranslation
from bot.core.requests.scope_changes import ScopeChanges
from bot.core.requests.style_previews import StylePreviews
from bot.core.requests.styles import StyleCatalogue
from bot.core.store import Refusal, Store
from bot.core.store.scopes import ChatMove
from bot.core.text import clean_text
from bot.settings import Settings

log = logging.getLogger(__name__)

__all__ = [
    "MAX_SEED",
    "GenerationService",
    "PreparedRequest",
    "ScopeSettings",
    "clean_text",
    "new_generation_id",
    "operator_limits",
]


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
        translation: PromptTranslation | None = None,
    ) -> None:
        self.settings = settings
        self.translation = translation
        self.store = store
        self.styles = styles
        self.queue = queue
        self.files = files
        # Adapters mark commands owed until acknowledged; delivery waits for them.
        self.acknowledgements = Acknowledgements()
        # The counts live in the queue's Redis, shared by every bot process of the deployment.
        self.quotas = quotas or QuotaBook(
            operator_limits(settings), queue.redis, prefix=f"{settings.queue_name}:quota"
        )
        self.quotas.reload_with(self._load_quotas_at)
        inputs = InputImages(settings, moderator)
        self.community, self.preferences = self._style_parts(inputs, banned, moderator)
        self.limits = ScopeLimits(store, settings)
        self.history_book = History(store, files, self.preferences)
        self.admission = Admission(
            settings=settings,
            store=store,
            styles=styles,
            preferences=self.preferences,
            limits=self.limits,
            queue=queue,
            quotas=self.quotas,
            capabilities=capabilities,
            reply_stream=reply_stream,
            banned=banned or BannedTerms([]),
            moderator=moderator,
            files=files,
            inputs=inputs,
            community=self.community,
            translation=translation,  # PROMPT_TRANSLATION (None: off)
        )
        self.previews = StylePreviews(self.admission, store, files, self.community)
        self.scope_changes = ScopeChanges(store, queue, self.quotas, self.preferences)
        # Upscale, vary, remix, info, describe, "Imagine this"; and the edits: Vary (Region),
        # Zoom out, Pan, Make square, Edit by words.
        admission, history = self.admission, self.history_book
        self.follow_up_actions = FollowUpActions(
            admission=admission, history=history, files=files, capabilities=capabilities
        )
        self.edit_actions = EditActions(
            admission=admission, history=history, files=files, capabilities=capabilities
        )

    def _style_parts(
        self, inputs: InputImages, banned: BannedTerms | None, moderator: Moderator | None
    ) -> tuple[CommunityStyles, Preferences]:
        """A scope's own styles beside the built-in ones (`/style create`, `style:#k3f9`), and
        the settings that choose among them. Caches are checked against versions in the
        queue's Redis, which every bot process of the deployment shares."""
        settings, redis = self.settings, self.queue.redis
        community = CommunityStyles(
            settings=settings,
            store=self.store,
            builtins=self.styles,
            files=self.files,
            inputs=inputs,
            banned=banned or BannedTerms([]),
            moderator=moderator,
            redis=redis,
            version_key=f"{settings.queue_name}:styles-version",
        )
        preferences = Preferences(
            self.store,
            self.styles,
            redis=redis,
            version_key=f"{settings.queue_name}:settings-version",
            community=community,
        )
        return community, preferences

    # -- what adapters and the CLI call, each answered by the part that owns it -------------

    @property
    def edit_offers(self) -> EditOffers:
        """Which edits the provider chain can make (`EditActions.offers`)."""
        return self.edit_actions.offers

    def picture_slot(self) -> AbstractAsyncContextManager[None]:
        """A place among the pictures being cleaned at once (`InputImages.slot`)."""
        return self.admission.picture_slot()

    async def job_for(self, generation: Generation) -> JobMessage:
        """The job of a stored row, built as at its first enqueue (`JobPlans.job_for`)."""
        return await self.admission.plans.job_for(generation)

    async def resume_job(self, generation: Generation) -> None:
        """Enqueue a stored row again after a restart (`JobPlans.resume_job`)."""
        await self.admission.plans.resume_job(generation)

    async def prepare_edit(
        self,
        generation_id: str,
        index: int,
        edit: EditRequest,
        requester: Requester,
        scope: Scope,
        *,
        mask: bytes | None = None,
        prompt: str | None = None,
        moderator: bool = False,
    ) -> PreparedRequest:
        """See `EditActions.prepare` (writes nothing: an adapter may still refuse)."""
        return await self.edit_actions.prepare(
            generation_id,
            index,
            edit,
            requester,
            scope,
            mask=mask,
            prompt=prompt,
            moderator=moderator,
        )

    async def edit(
        self,
        generation_id: str,
        index: int,
        edit: EditRequest,
        requester: Requester,
        scope: Scope,
        target: ReplyTarget,
        *,
        mask: bytes | None = None,
        prompt: str | None = None,
    ) -> Ticket:
        """An edit of image `index` (`prepare_edit`), submitted."""
        prepared = await self.prepare_edit(
            generation_id, index, edit, requester, scope, mask=mask, prompt=prompt
        )
        return await self.submit(prepared, target)

    async def prepare(
        self,
        requester: Requester,
        scope: Scope,
        command: ImagineCommand,
        *,
        parent_id: str | None = None,
        kind: Kind = Kind.IMAGINE,
        parent_index: int | None = None,
        source_image: bytes | None = None,
        mask: bytes | None = None,
        edit_note: str | None = None,
    ) -> PreparedRequest:
        """See `Admission.prepare`."""
        return await self.admission.prepare(
            requester,
            scope,
            command,
            parent_id=parent_id,
            kind=kind,
            parent_index=parent_index,
            source_image=source_image,
            mask=mask,
            edit_note=edit_note,
        )

    async def submit(self, prepared: PreparedRequest, target: ReplyTarget) -> Ticket:
        """See `Admission.submit`."""
        return await self.admission.submit(prepared, target)

    async def scope_settings(self, scope: Scope) -> ScopeSettings:
        """See `Preferences.scope_settings`."""
        return await self.preferences.scope_settings(scope)

    async def set_scope_default(self, scope: Scope, style_text: str | None) -> Style | None:
        """See `Preferences.set_scope_default`."""
        return await self.preferences.set_scope_default(scope, style_text)

    async def set_allowed_styles(
        self, scope: Scope, style_texts: Iterable[str] | None
    ) -> list[Style]:
        """See `Preferences.set_allowed_styles`."""
        return await self.preferences.set_allowed_styles(scope, style_texts)

    async def preview_style(self, scope: Scope, style: Style) -> bool:
        """Queue the style's preview when it needs one (new, or its look changed) and is
        shown (see `StylePreviews`): True when queued. Raises the refusal in plain words."""
        if style.preview_path is not None or style.hidden:
            return False
        await self.previews.request(scope, style)
        return True

    async def style_catalogue(self, scope: Scope) -> StyleCatalogue:
        """The built-in styles and the scope's visible own ones (cached; for autocomplete)."""
        return await self.preferences.catalogue(scope)

    async def allowed_styles(self, scope: Scope) -> list[Style]:
        """See `Preferences.allowed_styles`."""
        return await self.preferences.allowed_styles(scope)

    async def set_scope_nsfw(self, scope: Scope, allowed: bool) -> None:
        """See `Preferences.set_scope_nsfw`."""
        await self.preferences.set_scope_nsfw(scope, allowed)

    async def locale(self, requester: Requester, scope: Scope) -> str:
        """The locale `requester` reads in here: their choice, their app's language, the
        community's default, English (see `bot/core/language.py`). Requests carry theirs on
        the row (`Generation.locale`), resolved at admission."""
        return await self.preferences.locale(requester, scope)

    async def community_language(self, scope: Scope) -> tuple[str | None, bool]:
        """See `Preferences.community_language`."""
        return await self.preferences.community_language(scope)

    async def community_locale(self, requester: Requester, scope: Scope) -> str:
        """See `Preferences.community_locale`."""
        return await self.preferences.community_locale(requester, scope)

    async def set_user_language(self, requester: Requester, locale: str | None) -> None:
        """`/language`: the person's own choice, or None for automatic. Raises ValueError for
        a locale we do not offer."""
        await self.preferences.set_user_language(requester, locale)

    async def set_community_language(
        self, scope: Scope, locale: str | None, *, members_win: bool = True
    ) -> None:
        """An admin's `/setlanguage` or `/settings language` (the adapter checks the admin)."""
        await self.preferences.set_community_language(scope, locale, members_win)

    async def user_style(self, requester: Requester) -> str | None:
        """See `Preferences.user_style`."""
        return await self.preferences.user_style(requester)

    async def set_user_style(
        self, requester: Requester, style_text: str | None, scope: Scope | None = None
    ) -> Style | None:
        """See `Preferences.set_user_style`."""
        return await self.preferences.set_user_style(requester, style_text, scope)

    async def effective_limits(self, scope: Scope) -> tuple[int, int | None]:
        """See `ScopeLimits.effective_limits`."""
        return await self.limits.effective_limits(scope)

    async def effective_pending_limit(self, scope: Scope) -> int:
        """See `ScopeLimits.effective_pending_limit`."""
        return await self.limits.effective_pending_limit(scope)

    async def scope_limit_overrides(
        self, scope: Scope
    ) -> tuple[int | None, int | None, int | None]:
        """See `ScopeLimits.scope_limit_overrides`."""
        return await self.limits.scope_limit_overrides(scope)

    def check_scope_limits(
        self,
        *,
        per_user: int | None = None,
        per_scope: int | None = None,
        pending: int | None = None,
    ) -> None:
        """See `ScopeLimits.check_scope_limits`."""
        return self.limits.check_scope_limits(
            per_user=per_user, per_scope=per_scope, pending=pending
        )

    async def set_scope_limits(
        self, scope: Scope, *, per_user: int | None, per_scope: int | None
    ) -> tuple[int, int | None]:
        """See `ScopeLimits.set_scope_limits`."""
        return await self.limits.set_scope_limits(scope, per_user=per_user, per_scope=per_scope)

    async def set_scope_pending_limit(self, scope: Scope, pending: int | None) -> int:
        """See `ScopeLimits.set_scope_pending_limit`."""
        return await self.limits.set_scope_pending_limit(scope, pending)

    async def generation(self, generation_id: str) -> Generation:
        """See `History.generation`."""
        return await self.history_book.generation(generation_id)

    async def generation_for(
        self,
        generation_id: str,
        actor: Requester,
        scope: Scope,
        need: Need = Need.SCOPE,
        *,
        moderator: bool = False,
    ) -> Generation:
        """See `History.generation_for`."""
        return await self.history_book.generation_for(
            generation_id, actor, scope, need, moderator=moderator
        )

    async def history(
        self, requester: Requester, limit: int = 10, *, scope: Scope | None = None
    ) -> list[Generation]:
        """See `History.history`."""
        return await self.history_book.history(requester, limit, scope=scope)

    async def delete_generation(
        self,
        generation_id: str,
        requester: Requester,
        scope: Scope,
        *,
        moderator: bool = False,
    ) -> Generation:
        """See `History.delete_generation`."""
        return await self.history_book.delete_generation(
            generation_id, requester, scope, moderator=moderator
        )

    async def deletable(
        self,
        generation_id: str,
        requester: Requester,
        scope: Scope,
        *,
        moderator: bool = False,
    ) -> Generation:
        """See `History.deletable`."""
        return await self.history_book.deletable(
            generation_id, requester, scope, moderator=moderator
        )

    async def erase_generation(self, generation: Generation) -> None:
        """Delete a row and its files (after `deletable`) (`history_book.erase`)."""
        await self.history_book.erase(generation)

    async def forget_user(self, requester: Requester) -> int:
        """See `History.forget_user`."""
        return await self.history_book.forget_user(requester)

    async def recent_refusals(self, scope: Scope, limit: int = 10) -> list[Refusal]:
        """What was refused in this scope lately, for its admins."""
        return await self.history_book.recent_refusals(scope, limit)

    async def move_chat(self, platform: str, old_chat: str, new_chat: str) -> ChatMove:
        """See `ScopeChanges.move_chat`."""
        return await self.scope_changes.move_chat(platform, old_chat, new_chat)

    async def cancel_scope(self, scope: Scope, reason: str) -> int:
        """See `ScopeChanges.cancel_scope`."""
        return await self.scope_changes.cancel_scope(scope, reason)

    async def max_count(self, scope: Scope) -> int:
        """See `ScopeLimits.max_count`."""
        return await self.limits.max_count(scope)

    async def set_scope_max_count(self, scope: Scope, count: int | None) -> int:
        """See `ScopeLimits.set_max_count`."""
        return await self.limits.set_max_count(scope, count)

    async def prepare_upscale(
        self, generation_id: str, index: int, requester: Requester, scope: Scope
    ) -> PreparedRequest:
        """See `FollowUpActions.prepare_upscale`."""
        return await self.follow_up_actions.prepare_upscale(generation_id, index, requester, scope)

    async def prepare_vary(
        self, generation_id: str, index: int, requester: Requester, scope: Scope
    ) -> PreparedRequest:
        """See `FollowUpActions.prepare_vary`."""
        return await self.follow_up_actions.prepare_vary(generation_id, index, requester, scope)

    async def prepare_remix(
        self,
        generation_id: str,
        prompt: str,
        negative_prompt: str | None,
        requester: Requester,
        scope: Scope,
    ) -> PreparedRequest:
        """See `FollowUpActions.prepare_remix`."""
        return await self.follow_up_actions.prepare_remix(
            generation_id, prompt, negative_prompt, requester, scope
        )

    async def prepare_describe(
        self, image: bytes, requester: Requester, scope: Scope
    ) -> PreparedRequest:
        """See `FollowUpActions.prepare_describe`."""
        return await self.follow_up_actions.prepare_describe(image, requester, scope)

    async def prepare_suggestion(
        self, describe_id: str, index: int, requester: Requester, scope: Scope
    ) -> PreparedRequest:
        """See `FollowUpActions.prepare_suggestion`."""
        return await self.follow_up_actions.prepare_suggestion(describe_id, index, requester, scope)

    async def info(self, generation_id: str, requester: Requester, scope: Scope) -> Info:
        """See `FollowUpActions.info`."""
        return await self.follow_up_actions.info(generation_id, requester, scope)

    def follow_ups(self, generation: Generation) -> FollowUps:
        """See `FollowUpActions.follow_ups`."""
        return self.follow_up_actions.follow_ups(generation)

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
        made in this scope (never someone else's prompt from another chat); grids stay grids."""
        return await self.follow_up_actions.prepare_again(
            generation_id, requester, scope, style=style
        )

    async def settled(self, generation_id: str) -> None:
        """A request left queued/running: its pending slot is free again."""
        try:
            await self.quotas.settle(generation_id)
        except (RedisError, OSError) as exc:
            # The next start's `load_quotas` frees it from the store's word.
            log.warning("generation %s: pending slot not freed (%s)", generation_id, exc)

    async def load_quotas(self) -> None:
        """Rebuild today's counts and the pending requests from the store (at start)."""
        await self._load_quotas_at(time.time())

    async def _load_quotas_at(self, now: float) -> None:
        await self.quotas.load(
            await self.store.accepted_images_since(day_start(now)), await self.store.pending()
        )
