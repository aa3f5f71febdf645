"""Admission: a command becomes a queued job, or a refusal in plain words.

Validate the text, resolve the style once (rendered once; the job carries that rendering),
check and reserve the limits, write the `queued` row, enqueue. `prepare` writes nothing, so an
adapter can refuse with one message before acknowledging; `submit` reserves atomically.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn

from redis.exceptions import RedisError

from bot.core import metrics
from bot.core.errors import (
    ContentRefused,
    CountTooHigh,
    PromptSyntaxError,
    QueueUnavailable,
    StoreUnavailable,
    StyleNotAllowed,
    UserFacingError,
)
from bot.core.generation.providers.base import Capabilities
from bot.core.generation.queue import JobQueue
from bot.core.images.files import ImageFiles
from bot.core.language import Number, Text, UserText
from bot.core.limits.quotas import QuotaBook, Reservation
from bot.core.limits.safety import BannedTerms, Moderator
from bot.core.limits.scope_limits import AdmissionLimits, ScopeLimits
from bot.core.messages import Operation
from bot.core.models import (
    MAX_SEED,
    ImagineCommand,
    Kind,
    ReplyTarget,
    Requester,
    Scope,
    Style,
    Ticket,
)
from bot.core.requests.community_styles import CommunityStyles
from bot.core.requests.input_images import InputImages
from bot.core.requests.job_plans import FOLLOW_UPS, JobPlans, operation_of, rendered_prompt
from bot.core.requests.preferences import Preferences, ScopeSettings, reader_locale
from bot.core.requests.styles import StyleCatalogue
from bot.core.requests.validation import check_aspect, check_negative_prompt, check_prompt
from bot.core.requests.variants import VARIANT_KINDS, Expansion, expand, style_names
from bot.core.store import NewGeneration, Store
from bot.core.text import clean_text
from bot.settings import Settings

log = logging.getLogger(__name__)


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
    scope_nsfw: bool  # the scope's admins allow NSFW (the chat must allow it too)
    parent_id: str | None = None
    kind: Kind = Kind.IMAGINE
    parent_index: int | None = None
    input_image: bytes | None = None  # cleaned (metadata gone), or one of our stored images
    providers: tuple[str, ...] = ()  # the chain, filtered by what this request needs
    known_suggestions: tuple[str, ...] = ()  # a describe: the picture's own parameters
    mask: bytes | None = None  # an edit's checked mask (white = change); edit_note for Info
    edit_note: str | None = None
    limits: AdmissionLimits | None = None  # the scope's, as read when prepared
    styles: tuple[Style, ...] = ()  # a compare: one style per tile (`style` is the first)
    references: tuple[bytes, ...] = ()  # cleaned style reference pictures
    locale: str = "en"  # the requester's, resolved with the scope's row (stored on the row)

    @property
    def operation(self) -> Operation:
        return operation_of(self.kind, self.mask is not None)

    @property
    def images(self) -> int:
        """What the request costs against the daily limits: one per picture made (an
        upscale without an upscaler only hands back the original: nothing)."""
        if self.kind is Kind.UPSCALE and not self.providers:
            return 0
        return self.command.count


def new_row(
    gen_id: str, prepared: PreparedRequest, target: ReplyTarget, input_path: str | None
) -> NewGeneration:
    """The history row of a request about to be queued."""
    return NewGeneration(
        id=gen_id,
        platform=prepared.requester.platform,
        scope_id=prepared.scope.id,
        chat_id=target.chat_id,
        thread_id=target.thread_id,
        reply_to_message_id=target.reply_to_message_id,
        user_id=prepared.requester.user_id,
        user_name=clean_text(prepared.requester.display_name) or "someone",
        prompt=prepared.command.prompt,
        negative_prompt=prepared.command.negative_prompt,
        style=",".join(s.id for s in prepared.styles) or prepared.style.id,
        aspect=prepared.command.aspect,
        seed=prepared.seed,
        parent_id=prepared.parent_id,
        handle=target.stored_handle(),
        created_at=time.time(),
        kind=prepared.kind,
        count=prepared.command.count,
        parent_index=prepared.parent_index,
        input_path=input_path,
        strength=prepared.command.strength if prepared.input_image is not None else None,
        suggestions=tuple(prepared.known_suggestions),
        edit_note=prepared.edit_note,
        locale=prepared.locale,
    )


def _cleaned(
    command: ImagineCommand, prompt: str, negative: str | None, style: Style, seed: int, count: int
) -> ImagineCommand:
    """The command as prepared: its words cleaned, its style, seed and count settled."""
    return command.model_copy(
        update={
            "prompt": prompt,
            "negative_prompt": negative,
            "style": style.id,
            "seed": seed,
            "count": count,
            "image": None,  # the raw upload is not kept; `input_image` is clean
            "style_references": (),  # nor these: `references` are
        }
    )


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
        files: ImageFiles,
        inputs: InputImages | None = None,
        community: CommunityStyles | None = None,
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
        self._files = files
        self._inputs = inputs or InputImages(settings, moderator)
        self.picture_slot = self._inputs.slot
        self.plans = JobPlans(
            settings=settings,
            styles=styles,
            preferences=preferences,
            queue=queue,
            capabilities=capabilities,
            reply_stream=reply_stream,
            files=files,
            community=community,
        )

    # -- validation -------------------------------------------------------------------------------

    async def resolve_style(
        self, requester: Requester, scope: Scope, explicit: str | None
    ) -> Style:
        """Explicit choice -> the user's default -> the scope default -> DEFAULT_STYLE."""
        settings = await self._preferences.scope_settings(scope)
        return await self._resolve(requester, scope, settings, explicit)

    async def _resolve(
        self, requester: Requester, scope: Scope, settings: ScopeSettings, explicit: str | None
    ) -> Style:
        """Built-in styles, the scope's own (by name) and any scope's by code (`#k3f9`)."""
        if explicit is not None and explicit.strip():
            style = await self._preferences.style_in(scope, explicit)
            if not settings.allows(style.id):
                raise StyleNotAllowed(
                    Text(
                        "The style {style} is not allowed here. Allowed styles: {allowed}.",
                        style=UserText(style.label),
                        allowed=", ".join(settings.allowed_styles),
                    )
                )
            return style
        candidates = [
            await self._preferences.user_style(requester),
            settings.default_style,
            self._settings.default_style,
        ]
        for candidate in (*candidates, *settings.allowed_styles):
            if candidate and settings.allows(candidate):
                found = await self._preferences.style_in_or_none(scope, candidate)
                if found is not None and found.id == candidate:
                    return found
        return self._styles.get(self._settings.default_style)

    @staticmethod
    def with_style_defaults(command: ImagineCommand, style: Style) -> ImagineCommand:
        """The style's default aspect and count where the command leaves them unset."""
        update: dict[str, object] = {}
        if style.aspect is not None and "aspect" not in command.model_fields_set:
            update["aspect"] = style.aspect
        if style.count is not None and "count" not in command.model_fields_set:
            update["count"] = style.count
        return command.model_copy(update=update) if update else command

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
        """Validate and resolve a command without writing anything; raises a UserFacingError.

        `command.image` is a picture a user sent: checked and cleaned here (off the event loop).
        `source_image` is one of the bot's own images (a follow-up's; an edit's canvas)."""
        describe = kind is Kind.DESCRIBE
        prompt, negative = self._clean_words(command, describe)
        # The scope's row with the requester's language, read once for the whole request.
        row = await self._store.scope_row(scope.platform, scope.id, requester.user_id)
        scope_settings, limits = ScopeSettings.of(row), self._limits.limits_of(row)
        styles, expansion = await self._variants(
            requester, scope, scope_settings, command, prompt, kind
        )
        style = styles[0]  # a single style's default aspect and count apply; a compare's not
        command = self.with_style_defaults(command, style) if len(styles) == 1 else command
        count = max(len(styles), len(expansion.prompts), command.count)
        check_aspect(command.aspect, self._capabilities)
        if not describe:
            self._check_tiles(styles, expansion, kind, mask is not None)
        for words in {prompt, *expansion.prompts}:
            await self._check_words(requester, scope, words, negative)
        # Limits (the count cap among them) before the picture is cleaned: the cheap refusal first.
        await self._check_limits(requester, scope, limits, count)
        image, known = await self._input_picture(requester, scope, command, describe)
        image = image if image is not None else source_image
        references = await self._references(requester, scope, command, styles, kind)
        providers = await self._providers(requester, scope, kind, image, known, mask, references)
        seed = command.seed if command.seed is not None else secrets.randbelow(MAX_SEED + 1)
        return PreparedRequest(
            requester=requester,
            scope=scope,
            command=_cleaned(command, prompt, negative, style, seed, count),
            style=style,
            seed=seed,
            scope_nsfw=scope_settings.nsfw,
            parent_id=parent_id,
            kind=kind,
            parent_index=parent_index,
            input_image=image,
            providers=providers,
            known_suggestions=known,
            limits=limits,
            mask=mask,
            edit_note=edit_note,
            styles=styles if len(styles) > 1 else (),
            references=references,
            locale=reader_locale(row, requester),
        )

    def _check_tiles(
        self, styles: tuple[Style, ...], expansion: Expansion, kind: Kind, has_mask: bool
    ) -> None:
        """Every tile's words, and with its style around them, within the limits."""
        for tile_style in styles:
            for words in expansion.prompts:
                rendered = rendered_prompt(tile_style, words, kind, has_mask)
                check_prompt(words, rendered, self._settings.max_prompt_chars, self._capabilities)

    async def _variants(
        self,
        requester: Requester,
        scope: Scope,
        settings: ScopeSettings,
        command: ImagineCommand,
        prompt: str,
        kind: Kind,
    ) -> tuple[tuple[Style, ...], Expansion]:
        """The style of each tile (one, or up to four to compare) and the prompts the text
        stands for (one, or up to four permutations); refused in plain words when they do
        not make one grid."""
        names = style_names(command.style)
        styles: tuple[Style, ...]
        if len(names) < 2:
            styles = (await self._resolve(requester, scope, settings, names[0] if names else None),)
        else:
            styles = tuple(
                [await self._resolve(requester, scope, settings, name) for name in names]
            )
        expansion = expand(prompt) if kind is not Kind.DESCRIBE else Expansion((prompt,), ())
        several = len(styles) > 1 or expansion.permutes
        if several and kind not in VARIANT_KINDS:
            raise PromptSyntaxError(
                Text(
                    "Choices in braces and several styles make new pictures, not this. "
                    "Write {brace} for a brace itself.",
                    brace="\\{",
                )
            )
        if len(styles) > 1 and expansion.permutes:
            raise PromptSyntaxError(
                Text("Compare styles or give choices in braces, not both in one request.")
            )
        tiles = max(len(styles), len(expansion.prompts))
        # A reroll of such a grid asks for its own count again: that is not a conflict.
        if several and command.count not in (1, tiles):
            raise CountTooHigh(
                Text("Comparing styles or choices makes one picture each; leave out the count.")
            )
        return styles, expansion

    async def _references(
        self,
        requester: Requester,
        scope: Scope,
        command: ImagineCommand,
        styles: tuple[Style, ...],
        kind: Kind,
    ) -> tuple[bytes, ...]:
        """The request's style references, one set: the pictures sent with it (a one-off
        `style_ref`, or a follow-up's carried over) when there are any, else the pictures of its
        community style (one style, a request that makes a new picture). Each is checked and
        cleaned like an input picture; the style's were when it was saved."""
        if not command.style_references:
            if len(styles) == 1 and operation_of(kind) == "generate":
                return await self.plans.references(styles[0])
            return ()
        cleaned = []
        for picture in command.style_references:
            try:
                cleaned.append((await self._inputs.clean(picture)).data)
            except UserFacingError as exc:
                await self._refuse(requester, scope, exc)
        return tuple(cleaned)

    async def _providers(
        self,
        requester: Requester,
        scope: Scope,
        kind: Kind,
        image: bytes | None,
        known: tuple[str, ...],
        mask: bytes | None,
        references: tuple[bytes, ...] = (),
    ) -> tuple[str, ...]:
        """The chain filtered by what the request needs; refused when none can make it."""
        try:
            return self.plans.providers_for(
                kind, image is not None, bool(known), bool(mask), references=bool(references)
            )
        except UserFacingError as exc:
            await self._refuse(requester, scope, exc)

    def _clean_words(self, command: ImagineCommand, describe: bool) -> tuple[str, str | None]:
        """The prompt and negative prompt as user text, checked before anything is read."""
        prompt = clean_text(command.prompt)
        negative = clean_text(command.negative_prompt or "") or None
        limit = self._settings.max_prompt_chars
        check_negative_prompt(negative, limit)
        if not prompt and not describe:
            check_prompt(prompt, prompt, limit, self._capabilities)
        return prompt, negative

    async def _input_picture(
        self, requester: Requester, scope: Scope, command: ImagineCommand, describe: bool
    ) -> tuple[bytes | None, tuple[str, ...]]:
        """The picture a user sent, cleaned (None without one), and for a describe the
        parameters the picture carries itself."""
        if command.image is None:
            return None, ()
        known = self._inputs.own_parameters(command.image) if describe else ()
        try:
            return (await self._inputs.clean(command.image)).data, known
        except UserFacingError as exc:
            await self._refuse(requester, scope, exc)

    async def _check_words(
        self, requester: Requester, scope: Scope, prompt: str, negative: str | None
    ) -> None:
        """The operator's banned terms, before anything is reserved."""
        if self._banned.matches(prompt, negative or ""):
            # The refusal never echoes the matched term.
            await self._refuse(
                requester,
                scope,
                ContentRefused.banned(),
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

    async def _check_limits(
        self, requester: Requester, scope: Scope, limits: AdmissionLimits, images: int = 1
    ) -> None:
        """Refuse already here what `submit` would refuse for a limit, so an adapter answers
        with one message instead of acknowledging first (submit still reserves atomically)."""
        per_user, per_scope, pending, cap = limits
        if images > cap:
            await self._refuse(
                requester,
                scope,
                CountTooHigh(
                    Text(
                        "You asked for {images} pictures; {most} is the most per request here.",
                        images=Number(images),
                        most=Number(cap),
                    )
                ),
            )
        try:
            await self._quotas.check(
                requester.platform,
                requester.user_id,
                scope.id,
                daily_per_user=per_user,
                daily_per_scope=per_scope,
                max_pending=pending,
                images=images,
            )
        except UserFacingError as exc:
            await self._refuse(requester, scope, exc)

    async def _reserve(self, prepared: PreparedRequest) -> Reservation:
        limits = prepared.limits or await self._limits.admission_limits(prepared.scope)
        per_user, per_scope, pending, _cap = limits
        try:
            # One Lua script checks and takes: atomic across every bot process.
            return await self._quotas.reserve(
                prepared.requester.platform,
                prepared.requester.user_id,
                prepared.scope.id,
                daily_per_user=per_user,
                daily_per_scope=per_scope,
                max_pending=pending,
                images=prepared.images,
            )
        except UserFacingError as exc:
            await self._refuse(prepared.requester, prepared.scope, exc)

    async def _moderate(self, prepared: PreparedRequest, reservation: Reservation) -> None:
        if self._moderator is None:
            return
        command = prepared.command
        text = " ".join(p for p in (command.prompt, command.negative_prompt) if p)
        # The bot's own pictures (a follow-up's) were made under these rules already.
        picture = prepared.input_image if prepared.kind not in FOLLOW_UPS else None
        what = None
        try:
            if text and await self._moderator.flagged(text):
                what = "prompt"
            elif picture is not None and await self._inputs.flagged(picture):
                what = "picture"
            elif any([await self._inputs.flagged(ref) for ref in prepared.references]):
                what = "reference picture"
        except UserFacingError:
            await self._quotas.cancel(reservation)
            raise
        if what is not None:
            await self._quotas.cancel(reservation)
            await self._refuse(
                prepared.requester,
                prepared.scope,
                ContentRefused.flagged(what),
            )

    # -- enqueueing -------------------------------------------------------------------------------

    async def submit(self, prepared: PreparedRequest, target: ReplyTarget) -> Ticket:
        """Write the history row, enqueue the job, return the ticket with the queue position."""
        gen_id = new_generation_id()
        command = prepared.command
        reservation = await self._reserve(prepared)
        await self._moderate(prepared, reservation)
        await self._quotas.bind(reservation, gen_id)
        input_path = await asyncio.to_thread(
            self._files.write_inputs, gen_id, prepared.input_image, prepared.mask
        )
        await asyncio.to_thread(self._files.write_references, gen_id, prepared.references)
        try:
            generation = await self._store.insert_generation(
                new_row(gen_id, prepared, target, input_path)
            )
        except StoreUnavailable:
            await self._quotas.cancel(reservation)  # nothing was stored: give the slot back
            self._files.remove_generation(gen_id)  # the input and an edit's mask
            raise
        job = self.plans.job(
            generation,
            prepared.style,
            prepared.scope_nsfw,
            prepared.input_image,
            prepared.mask,
            prepared.references,
            prepared.styles,
        )
        try:
            _created, position = await self._queue.enqueue_ranked(job)
        except (RedisError, OSError) as exc:
            await self._store.mark_failed(gen_id, QueueUnavailable.code, QueueUnavailable().message)
            await self._quotas.cancel(reservation)
            log.warning("generation %s: enqueue failed: %s", gen_id, exc.__class__.__name__)
            raise QueueUnavailable() from exc
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
