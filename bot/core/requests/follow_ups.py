"""After the first picture: upscale (U1-U4), vary (V1-V4), remix, info, describe and
"Imagine this", each checked like every other button before it acts.

Every follow-up names a generation (and, for U and V, an image of it), loads that row,
checks it with `access.check_access` against where and by whom the button was pressed, and
becomes a new request whose parent is that image. Each is prepared here (nothing written, so
an adapter can refuse before acknowledging) and submitted by `GenerationService.submit`, like
every request. The adapters render and parse; the rules are here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from bot.core.delivery.offers import follow_ups_for
from bot.core.errors import InvalidRequest, NotFound, english
from bot.core.generation.providers.base import Capabilities
from bot.core.images.files import ImageFiles
from bot.core.language import Text
from bot.core.models import (
    DEFAULT_STRENGTH,
    FollowUps,
    Generation,
    ImagineCommand,
    Info,
    Kind,
    Requester,
    Scope,
)
from bot.core.requests.access import Need
from bot.core.requests.admission import Admission, PreparedRequest
from bot.core.requests.history import History
from bot.core.requests.notes import note_text, references_text


class FollowUpActions:
    def __init__(
        self,
        *,
        admission: Admission,
        history: History,
        files: ImageFiles,
        capabilities: Mapping[str, Capabilities],
    ) -> None:
        self._admission = admission
        self._history = history
        self._files = files
        self._capabilities = dict(capabilities)

    def follow_ups(self, generation: Generation) -> FollowUps:
        return follow_ups_for(generation, self._capabilities)

    async def _input_of(self, generation: Generation) -> bytes | None:
        """The picture a request started from, for a request made again from it."""
        if not generation.input_path or generation.kind in (Kind.UPSCALE, Kind.DESCRIBE):
            return None
        try:
            return await asyncio.to_thread(self._files.read, generation.input_path)
        except FileNotFoundError:
            return None

    async def _references_of(self, generation: Generation) -> tuple[bytes, ...]:
        """The style reference pictures a request followed, for a request made again."""
        return await asyncio.to_thread(self._files.read_references, generation.id)

    @staticmethod
    def _again(original: Generation, **changes: object) -> ImagineCommand:
        values: dict[str, object] = {
            "prompt": original.prompt,
            "style": original.style,
            "aspect": original.aspect,
            "negative_prompt": original.negative_prompt,
            "seed": None,
            "count": original.count,
            "strength": original.strength if original.strength is not None else DEFAULT_STRENGTH,
        }
        values.update(changes)
        return ImagineCommand.model_validate(values)

    # -- preparing (nothing written: an adapter can refuse before acknowledging) ------------

    async def prepare_again(
        self,
        generation_id: str,
        requester: Requester,
        scope: Scope,
        *,
        style: str | None = None,
    ) -> PreparedRequest:
        """Reroll (same settings, new seed) or restyle (another style), on grids too: the
        same count, and the same input picture and style references when it had them."""
        original = await self._history.generation_for(generation_id, requester, scope)
        if original.kind is Kind.DESCRIBE:
            raise InvalidRequest(Text("A description has no picture to make again."))
        kind = Kind.RESTYLE if style and style != original.style else Kind.REROLL
        references = await self._references_of(original)
        if (
            kind is Kind.RESTYLE
            and (await self._admission.plans.style_of(original)).style_references
        ):
            references = ()  # its old style's pictures: the new style's own apply instead
        command = self._again(original, style=style or original.style, style_references=references)
        return await self._admission.prepare(
            requester,
            scope,
            command,
            parent_id=original.id,
            kind=kind,
            source_image=await self._input_of(original),
        )

    async def prepare_upscale(
        self, generation_id: str, index: int, requester: Requester, scope: Scope
    ) -> PreparedRequest:
        """U<index>: that image upscaled by the chain's upscaler, or the original when the
        chain has none (then it costs nothing against the limits)."""
        original = await self._history.generation_for(generation_id, requester, scope)
        data, image = await self._history.picture(original, index)
        prompt, style = self._admission.plans.tile(original, index)
        command = self._again(original, count=1, seed=image.seed, prompt=prompt, style=style)
        return await self._admission.prepare(
            requester,
            scope,
            command,
            parent_id=original.id,
            kind=Kind.UPSCALE,
            parent_index=index,
            source_image=data,
        )

    async def prepare_vary(
        self, generation_id: str, index: int, requester: Requester, scope: Scope
    ) -> PreparedRequest:
        """V<index>: a new set of the same count made from that image, same prompt and style,
        at a moderate strength; refused plainly when no provider takes an image."""
        original = await self._history.generation_for(generation_id, requester, scope)
        data, _image = await self._history.picture(original, index)
        # A tile of a compare or permutations grid varies in its own style and words.
        prompt, style = self._admission.plans.tile(original, index)
        command = self._again(original, strength=DEFAULT_STRENGTH, prompt=prompt, style=style)
        return await self._admission.prepare(
            requester,
            scope,
            command,
            parent_id=original.id,
            kind=Kind.VARY,
            parent_index=index,
            source_image=data,
        )

    async def prepare_remix(
        self,
        generation_id: str,
        prompt: str,
        negative_prompt: str | None,
        requester: Requester,
        scope: Scope,
    ) -> PreparedRequest:
        """The request again with an edited prompt: same style, aspect, count and style
        references."""
        original = await self._history.generation_for(generation_id, requester, scope)
        if original.kind is Kind.DESCRIBE:
            raise InvalidRequest(Text("A description has no prompt to remix."))
        command = self._again(
            original,
            prompt=prompt,
            negative_prompt=negative_prompt,
            style_references=await self._references_of(original),
        )
        return await self._admission.prepare(
            requester,
            scope,
            command,
            parent_id=original.id,
            kind=Kind.REMIX,
            source_image=await self._input_of(original),
        )

    async def prepare_describe(
        self, image: bytes, requester: Requester, scope: Scope
    ) -> PreparedRequest:
        """Up to four prompt suggestions for a picture a user sent (its own generation
        parameters first, when it carries them); counts against the limits like a picture."""
        command = ImagineCommand(prompt="", image=image)
        return await self._admission.prepare(requester, scope, command, kind=Kind.DESCRIBE)

    async def prepare_suggestion(
        self, describe_id: str, index: int, requester: Requester, scope: Scope
    ) -> PreparedRequest:
        """ "Imagine this" under a description: a normal request with suggestion <index>
        (1-based) in the requester's default style."""
        described = await self._history.generation_for(describe_id, requester, scope)
        if described.kind is not Kind.DESCRIBE or not 1 <= index <= len(described.suggestions):
            raise NotFound(Text("That suggestion is no longer there."))
        command = ImagineCommand(prompt=described.suggestions[index - 1])
        return await self._admission.prepare(requester, scope, command, parent_id=described.id)

    async def info(self, generation_id: str, requester: Requester, scope: Scope) -> Info:
        """Prompt, style, seeds, sizes, provider and model, time taken, the crop made."""
        generation = await self._history.generation_for(generation_id, requester, scope, Need.SCOPE)
        images = generation.images or tuple(i for i in [generation.image(1)] if i is not None)
        seeds = tuple(i.seed for i in images if i.seed is not None) or (generation.seed,)
        seconds = None
        if generation.finished_at is not None:
            seconds = generation.finished_at - (generation.started_at or generation.created_at)
        references = await self._references_text(generation)
        return Info(
            generation_id=generation.id,
            kind=generation.kind,
            prompt=generation.prompt,
            negative_prompt=generation.negative_prompt,
            style=generation.style,
            aspect=generation.aspect,
            seeds=seeds,
            sizes=tuple((i.width, i.height) for i in images),
            provider=generation.provider,
            model=generation.model,
            seconds=seconds,
            crop_note=generation.crop_note,
            crop_text=note_text(generation.crop_note),
            strength=generation.strength,
            parent_id=generation.parent_id,
            parent_index=generation.parent_index,
            edit_note=generation.edit_note,
            edit_text=note_text(generation.edit_note),
            references_note=None if references is None else english(references),
            references_text=references,
            tiles=await self._admission.plans.tile_labels(generation),
        )

    async def _references_text(self, generation: Generation) -> Text | None:
        """Whether the picture followed the request's style reference pictures, plainly."""
        given = len(await asyncio.to_thread(self._files.references, generation.id))
        if not given:
            return None
        caps = self._capabilities.get(generation.provider or "")
        follows = None if caps is None else caps.style_references
        return references_text(given, generation.provider, follows)
