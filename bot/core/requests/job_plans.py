"""What a request needs of the provider chain, and the job a worker gets for a stored row.

The job is built from the row (and its stored input picture), so a row written before a
restart becomes the same job again after it: the style is rendered from the row, the input
picture read from its file, the chain filtered again by what the request needs. An edit's
input picture is the canvas it works on (the padded one for zoom, pan and square) and its
mask the file beside it (`<id>-mask.png`), so an edit is rebuilt the same way. Style
reference pictures are the files `<id>-ref1` ... beside it, and a compare or permutations
request is expanded again from the row's style list and prompt (`variants`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from bot.core.errors import InvalidRequest, NoCapableProvider
from bot.core.generation.providers.base import Capabilities
from bot.core.generation.providers.chain import Needs, references_first, select
from bot.core.generation.queue import JobQueue
from bot.core.images.files import ImageFiles
from bot.core.messages import (
    EDIT_OPERATIONS,
    EDIT_VERSION,
    VARIANT_VERSION,
    EnglishWords,
    JobMessage,
    JobVariant,
    Operation,
)
from bot.core.models import DEFAULT_STRENGTH, EDIT_KINDS, Generation, Kind, Scope, Style
from bot.core.requests.community_styles import CommunityStyles
from bot.core.requests.preferences import Preferences
from bot.core.requests.styles import StyleCatalogue
from bot.core.requests.variants import (
    VARIANT_KINDS,
    Expansion,
    compared,
    escape,
    expand,
    plain,
)
from bot.settings import Settings

log = logging.getLogger(__name__)

OPERATIONS: dict[Kind, Operation] = {
    Kind.UPSCALE: "upscale",
    Kind.DESCRIBE: "describe",
    Kind.ZOOM: "outpaint",
    Kind.PAN: "outpaint",
    Kind.SQUARE: "outpaint",
}
# Start from one of the bot's own stored images (an edit's canvas is made from one).
FOLLOW_UPS = (Kind.UPSCALE, Kind.VARY, *EDIT_KINDS)


def operation_of(kind: Kind, has_mask: bool = False) -> Operation:
    """What a worker does for a request of this kind: an edit with a mask repaints the
    region (inpaint), one without follows the words (edit)."""
    if kind is Kind.EDIT:
        return "inpaint" if has_mask else "edit"
    return OPERATIONS.get(kind, "generate")


def providers_for(
    capabilities: Mapping[str, Capabilities],
    kind: Kind,
    has_image: bool,
    known: bool = False,
    has_mask: bool = False,
    references: bool = False,
) -> tuple[str, ...]:
    """The chain filtered by what the request needs; a plain refusal when none can.
    With style references, the providers that follow them come first.
    Any aspect is made by every provider (at its nearest size, then cropped). An upscale
    without an upscaler hands back the original; a describe of a picture that carries its
    own parameters needs no describer. An edit falls back along the chain as image input
    does: to the next provider that can do that edit."""
    operation = operation_of(kind, has_mask)
    needs = Needs(
        image_input=has_image and kind not in (Kind.UPSCALE, Kind.DESCRIBE),
        upscale=kind is Kind.UPSCALE,
        describe=kind is Kind.DESCRIBE,
        inpaint=operation == "inpaint",
        outpaint=operation == "outpaint",
        edit_by_words=operation == "edit",
    )
    try:
        chosen = select(capabilities, needs)
    except NoCapableProvider:
        if kind is Kind.UPSCALE or (kind is Kind.DESCRIBE and known):
            return ()
        raise
    return references_first(capabilities, chosen) if references else tuple(chosen)


def preferred_first(providers: tuple[str, ...], preferred: str | None) -> tuple[str, ...]:
    """The chain with the style's preferred provider first, when it can make the request."""
    if preferred is None or preferred not in providers:
        return providers
    return (preferred, *(p for p in providers if p != preferred))


def rendered_prompt(style: Style, prompt: str, kind: Kind, has_mask: bool) -> str:
    """The style's template around the prompt; an edit by words sends the instruction as
    the user wrote it ("make it night" is not a scene to dress in a style)."""
    if operation_of(kind, has_mask) == "edit":
        return prompt
    return style.render(prompt)


class JobPlans:
    def __init__(
        self,
        *,
        settings: Settings,
        styles: StyleCatalogue,
        preferences: Preferences,
        queue: JobQueue,
        capabilities: Mapping[str, Capabilities],
        reply_stream: str,
        files: ImageFiles,
        community: CommunityStyles | None = None,
    ) -> None:
        self._settings = settings
        self._styles = styles
        self._community = community
        self._preferences = preferences
        self._queue = queue
        self._capabilities = dict(capabilities)
        self._reply_stream = reply_stream
        self._files = files

    def providers_for(
        self,
        kind: Kind,
        has_image: bool,
        known: bool = False,
        has_mask: bool = False,
        references: bool = False,
    ) -> tuple[str, ...]:
        return providers_for(self._capabilities, kind, has_image, known, has_mask, references)

    async def tile_styles(self, generation: Generation, style: Style) -> tuple[Style, ...]:
        """The style of each tile of a compare (its row lists several; a scope's own styles
        and codes found like built-in ones), else `style`."""
        ids = compared(generation.style)
        if len(ids) < 2:
            return (style,)
        scope = Scope(platform=generation.platform, id=generation.scope_id)
        return tuple([await self._find(scope, i) or style for i in ids])

    async def tile_labels(self, generation: Generation) -> tuple[str, ...]:
        """Each tile's label of a compare or permutations grid (none for any other)."""
        style = await self.style_of(generation)
        tiles = await self.tile_styles(generation, style)
        return tuple(v.label for v in self.variants(generation, style, tiles))

    def tile(self, generation: Generation, index: int) -> tuple[str, str]:
        """The prompt (escaped, so it stands for itself) and style id of tile `index` of a
        compare or permutations grid, for a follow-up of that one picture; any other row's
        own prompt and style."""
        if generation.kind not in VARIANT_KINDS:
            return generation.prompt, generation.style
        styles = compared(generation.style)
        try:
            expansion = expand(generation.prompt)
        except InvalidRequest:
            return generation.prompt, styles[0]
        if expansion.permutes and 1 <= index <= len(expansion.prompts):
            return escape(expansion.prompts[index - 1]), styles[0]
        if len(styles) > 1 and 1 <= index <= len(styles):
            return generation.prompt, styles[index - 1]
        return generation.prompt, styles[0]

    def variants(
        self, generation: Generation, style: Style, tiles: tuple[Style, ...] = ()
    ) -> tuple[JobVariant, ...]:
        """One entry per tile for a compare or permutations request, else none: each tile's
        style (`tiles`, from `tile_styles`) rendered around its prompt, with its label."""
        if generation.kind not in VARIANT_KINDS:
            return ()
        styles = tiles or (style,)
        try:
            expansion = expand(generation.prompt)
        except InvalidRequest:  # a row written before braces meant choices
            expansion = Expansion(prompts=(generation.prompt,), labels=())
        if len(styles) == 1 and not expansion.permutes:
            return ()
        made = [(s, p, s.name) for s in styles for p in expansion.prompts[:1]]
        if expansion.permutes:
            made = [
                (styles[0], p, lab)
                for p, lab in zip(expansion.prompts, expansion.labels, strict=True)
            ]
        return tuple(
            JobVariant(
                prompt=tile_style.render(prompt),
                negative_prompt=", ".join(
                    p for p in (generation.negative_prompt, tile_style.negative) if p
                ),
                hints={k: dict(v) for k, v in tile_style.providers.items()},
                label=label,
            )
            for tile_style, prompt, label in made
        )

    def job(
        self,
        generation: Generation,
        style: Style,
        scope_nsfw: bool,
        input_image: bytes | None,
        mask: bytes | None = None,
        references: tuple[bytes, ...] = (),
        tiles: tuple[Style, ...] = (),
    ) -> JobMessage:
        """The one builder of a generation's job, from its row: at the first enqueue and at
        every resume (`job_for`), so a field added here behaves the same after a restart.
        `style` is the row's, `scope_nsfw` the scope's setting, the pictures the row's files,
        its style references among them (a one-off's or its community style's, stored beside
        the request when it was made)."""
        has_mask = mask is not None
        providers = preferred_first(
            self.providers_for(
                generation.kind,
                input_image is not None,
                bool(generation.suggestions),
                has_mask,
                references=bool(references),
            ),
            style.provider,
        )
        # NSFW only when the scope allows it AND the adapter said this chat may show it
        # (a Discord channel that is not age-restricted never may).
        nsfw = scope_nsfw and generation.policy.nsfw_ok
        operation = operation_of(generation.kind, has_mask)
        variants = self.variants(generation, style, tiles)
        version = EDIT_VERSION if operation in EDIT_OPERATIONS else 2
        if variants or references:
            version = VARIANT_VERSION
        return JobMessage(
            v=version,
            generation_id=generation.id,
            prompt=rendered_prompt(style, plain(generation.prompt), generation.kind, has_mask),
            negative_prompt=", ".join(p for p in (generation.negative_prompt, style.negative) if p),
            aspect=generation.aspect,
            seed=generation.seed,
            style=style.id,
            providers=providers,
            hints={k: dict(v) for k, v in style.providers.items()},
            reply_stream=self._reply_stream,
            created_at=generation.created_at,
            nsfw=nsfw,
            operation=operation,
            count=generation.count,
            init_image=input_image,
            strength=generation.strength if generation.strength is not None else DEFAULT_STRENGTH,
            mask=mask,
            variants=variants,
            style_references=references,
            english=self.english_words(generation, style, tiles, has_mask),
        )

    def english_words(
        self, generation: Generation, style: Style, tiles: tuple[Style, ...], has_mask: bool
    ) -> EnglishWords | None:
        """The row's words in English (PROMPT_TRANSLATION), rendered as the job renders the
        words as written; None when the row has no translation."""
        if generation.prompt_english is None and generation.negative_english is None:
            return None
        english = generation.model_copy(
            update={
                "prompt": generation.prompt_english or generation.prompt,
                "negative_prompt": generation.negative_english or generation.negative_prompt,
            }
        )
        return EnglishWords(
            prompt=rendered_prompt(style, plain(english.prompt), english.kind, has_mask),
            negative_prompt=", ".join(p for p in (english.negative_prompt, style.negative) if p),
            variants=self.variants(english, style, tiles),
        )

    async def references(self, style: Style) -> tuple[bytes, ...]:
        """A style's reference pictures as stored (one that went missing is left out)."""

        def read() -> tuple[bytes, ...]:
            found = []
            for path in style.style_references:
                try:
                    found.append(self._files.read(path))
                except OSError:
                    log.warning("style %s: a reference picture is missing", style.id)
            return tuple(found)

        return await asyncio.to_thread(read) if style.style_references else ()

    async def style_of(self, generation: Generation) -> Style:
        """The row's style: built-in, its scope's own, or another scope's by code; the
        default when it is gone (deleted, or made private since). A compare's first style."""
        scope = Scope(platform=generation.platform, id=generation.scope_id)
        found = await self._find(scope, compared(generation.style)[0])
        return found or self._styles.get(self._settings.default_style)

    async def _find(self, scope: Scope, style_id: str) -> Style | None:
        if self._community is not None:
            return await self._community.find(scope, style_id)
        return self._styles.find(style_id)

    async def job_for(self, generation: Generation) -> JobMessage:
        """The job of a stored row (after a restart): its style, the scope's setting and the
        pictures read back, then the same builder as the first enqueue."""
        style = await self.style_of(generation)  # a compare's first style
        scope = Scope(platform=generation.platform, id=generation.scope_id)
        scope_settings = await self._preferences.scope_settings(scope)
        image = mask = None
        if generation.input_path:
            image = await asyncio.to_thread(self._files.read, generation.input_path)
        if generation.kind in EDIT_KINDS:
            mask = await asyncio.to_thread(self._files.read_mask, generation.id)
        # The request's references as stored beside it (a one-off's or its style's pictures).
        references = await asyncio.to_thread(self._files.read_references, generation.id)
        tiles = await self.tile_styles(generation, style)
        return self.job(generation, style, scope_settings.nsfw, image, mask, references, tiles)

    async def resume_job(self, generation: Generation) -> None:
        """Enqueue again after a restart; a no-op when Redis still knows the job."""
        if await self._queue.enqueue(await self.job_for(generation)):
            log.info("generation %s: re-enqueued after restart", generation.id)
