"""GenerationService: the one entry point both adapters and the CLI call (commands in,
results out). It holds no rules of its own; it composes the parts that do:

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
from collections.abc import Mapping

from redis.exceptions import RedisError

from bot.core.delivery.acknowledgements import Acknowledgements
from bot.core.generation.providers.base import Capabilities
from bot.core.generation.queue import JobQueue
from bot.core.images.files import ImageFiles
from bot.core.limits.quotas import QuotaBook, day_start
from bot.core.limits.safety import BannedTerms, Moderator
from bot.core.limits.scope_limits import ScopeLimits, operator_limits
from bot.core.models import MAX_SEED, ImagineCommand, ReplyTarget, Requester, Scope, Ticket
from bot.core.requests.admission import Admission, PreparedRequest, new_generation_id
from bot.core.requests.edits import EditActions
from bot.core.requests.follow_ups import FollowUpActions
from bot.core.requests.history import History
from bot.core.requests.preferences import Preferences, ScopeSettings
from bot.core.requests.scope_changes import ScopeChanges
from bot.core.requests.styles import StyleCatalogue
from bot.core.store import Store
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
    ) -> None:
        self.settings = settings
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
        # Settings caches are checked against a version in the queue's Redis, which every
        # bot process of the deployment shares.
        self.preferences = Preferences(
            store, styles, redis=queue.redis, version_key=f"{settings.queue_name}:settings-version"
        )
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
        )
        self.scope_changes = ScopeChanges(store, queue, self.quotas, self.preferences)
        self.follow_up_actions = FollowUpActions(
            admission=self.admission,
            history=self.history_book,
            files=files,
            capabilities=capabilities,
        )
        # Vary (Region), Zoom out, Pan, Make square, Edit by words (see edits.py).
        self.edit_actions = EditActions(
            admission=self.admission,
            history=self.history_book,
            files=files,
            capabilities=capabilities,
        )
        self.prepare_edit = self.edit_actions.prepare
        self.edit = self.edit_actions.submit
        self.edit_offers = self.edit_actions.offers
        # What adapters call, each answered by the part that owns it.
        self.prepare = self.admission.prepare
        self.submit = self.admission.submit
        self.picture_slot = self.admission.picture_slot
        self.resolve_style = self.admission.resolve_style
        self.resume_job = self.admission.resume_job
        self.job_for = self.admission.job_for
        self.scope_settings = self.preferences.scope_settings
        self.set_scope_default = self.preferences.set_scope_default
        self.set_allowed_styles = self.preferences.set_allowed_styles
        self.allowed_styles = self.preferences.allowed_styles
        self.set_scope_nsfw = self.preferences.set_scope_nsfw
        self.user_style = self.preferences.user_style
        self.set_user_style = self.preferences.set_user_style
        self.effective_limits = self.limits.effective_limits
        self.effective_pending_limit = self.limits.effective_pending_limit
        self.scope_limit_overrides = self.limits.scope_limit_overrides
        self.check_scope_limits = self.limits.check_scope_limits
        self.set_scope_limits = self.limits.set_scope_limits
        self.set_scope_pending_limit = self.limits.set_scope_pending_limit
        self.generation = self.history_book.generation
        self.generation_for = self.history_book.generation_for
        self.history = self.history_book.history
        self.delete_generation = self.history_book.delete_generation
        self.deletable = self.history_book.deletable
        self.erase_generation = self.history_book.erase
        self.forget_user = self.history_book.forget_user
        self.recent_refusals = self.history_book.recent_refusals
        self.move_chat = self.scope_changes.move_chat  # a group upgraded to a supergroup
        self.cancel_scope = self.scope_changes.cancel_scope  # the bot removed or blocked
        self.max_count = self.limits.max_count
        self.set_scope_max_count = self.limits.set_max_count
        # After the first picture (see follow_ups.py): prepare_* write nothing, so an
        # adapter can refuse with one message; the others prepare and submit.
        actions = self.follow_up_actions
        self.prepare_upscale = actions.prepare_upscale
        self.prepare_vary = actions.prepare_vary
        self.prepare_remix = actions.prepare_remix
        self.prepare_describe = actions.prepare_describe
        self.prepare_suggestion = actions.prepare_suggestion
        self.upscale = actions.upscale
        self.vary = actions.vary
        self.remix = actions.remix
        self.describe = actions.describe
        self.imagine_suggestion = actions.imagine_suggestion
        self.info = actions.info
        self.follow_ups = actions.follow_ups

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
