"""Edits of a finished picture: Vary (Region) under a mask, Zoom out, Pan, Make square, and
Edit by words.

Each is a follow-up like U and V: it names a generation and an image index, is checked with
`access.check_access` (through `History.generation_for`) against who asks and where, and
becomes a new request whose parent is that image. The pixel work here (checking a drawn mask;
planning a zoom, pan or square's canvas and building the mask of its new area) runs on the
picture threads, never on the event loop; the worker pads the picture to the canvas
(`canvases.padded`). The picture is stored as the request's input picture and the mask
(which carries the canvas's plan) beside it, so the job is rebuilt from the row after a
restart like any other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from bot.core.delivery.offers import edits_possible
from bot.core.errors import InvalidRequest, english
from bot.core.generation.canvases import Canvas, check_mask, outpaint_canvas
from bot.core.generation.picture_threads import in_background
from bot.core.generation.providers.base import Capabilities
from bot.core.images.files import ImageFiles
from bot.core.language import Text
from bot.core.models import (
    EditRequest,
    Frozen,
    Generation,
    ImagineCommand,
    Kind,
    Requester,
    Scope,
)
from bot.core.requests.access import Need
from bot.core.requests.admission import Admission, PreparedRequest
from bot.core.requests.history import History

REGION_STRENGTH = 0.8  # a repainted region may change a lot, but starts from what was there
OUTPAINT_STRENGTH = 1.0  # a new area starts from a flat fill: nothing there to keep
WORDS_STRENGTH = 0.6
NO_EDITS_TEXT = Text("None of the image services this bot uses can edit a picture.")
NO_EDITS = english(NO_EDITS_TEXT)  # the English, for adapters not rendering the Text yet
NOTE_WORDS = 120  # how much of an instruction the Info's note repeats


def words_note(instruction: str, index: int) -> str:
    """The Info's note for an edit by words: what was asked, on which image."""
    said = " ".join(instruction.split())
    if len(said) > NOTE_WORDS:
        said = said[: NOTE_WORDS - 1] + "…"
    return f"edited: {said} (image {index})"


class EditOffers(Frozen):
    """Which edits the provider chain can make, so the chat offers only those."""

    region: bool = False
    outpaint: bool = False  # zoom out, pan, make square
    words: bool = False


def edit_offers(capabilities: Mapping[str, Capabilities]) -> EditOffers:
    region, outpaint, words = edits_possible(capabilities)
    return EditOffers(region=region, outpaint=outpaint, words=words)


class EditActions:
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
        self.offers = edit_offers(capabilities)

    async def _canvas(
        self, generation: Generation, index: int, edit: EditRequest, mask: bytes | None
    ) -> Canvas:
        """The picture the provider works on and the mask of what may change."""
        picture, image = await self._history.picture(generation, index)
        if edit.outpaints:
            return await in_background(outpaint_canvas, picture, edit)
        checked = None
        if edit.action == "region":
            if mask is None:
                raise InvalidRequest(Text("Vary (Region) needs a mask of the area to change."))
            checked = await in_background(check_mask, mask, (image.width, image.height))
        note = english(image_note(edit.text, index))
        return Canvas(picture, checked or b"", image.width, image.height, generation.aspect, note)

    async def prepare(
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
        """The edit checked and ready for `submit`; nothing is written. `prompt` is what to
        paint (a region's or the whole request's; the original prompt when not given) or,
        for an edit by words, the instruction itself. Only the requester, or a moderator of
        the picture's own scope (`moderator`, as the adapter found it), may edit a picture."""
        original = await self._history.generation_for(
            generation_id, requester, scope, Need.OWNER_OR_MODERATOR, moderator=moderator
        )
        if original.kind is Kind.DESCRIBE:
            raise InvalidRequest(Text("A description has no picture to edit."))
        if edit.action == "words" and not (prompt or "").strip():
            raise InvalidRequest(Text("Say what to change, e.g. “make it night”."))
        canvas = await self._canvas(original, index, edit, mask)
        if edit.action == "words" and prompt:
            canvas = dataclasses.replace(canvas, note=words_note(prompt, index))
        strength = REGION_STRENGTH
        if edit.outpaints:
            strength = OUTPAINT_STRENGTH
        elif edit.action == "words":
            strength = WORDS_STRENGTH
        command = ImagineCommand(
            prompt=prompt if prompt and prompt.strip() else original.prompt,
            style=original.style,
            aspect=canvas.aspect,
            negative_prompt=original.negative_prompt,
            count=original.count,
            strength=strength,
        )
        return await self._admission.prepare(
            requester,
            scope,
            command,
            parent_id=original.id,
            kind=edit.kind,
            parent_index=index,
            source_image=canvas.image,
            mask=canvas.mask or None,
            edit_note=canvas.note,
        )


def image_note(edit: Text, index: int) -> Text:
    """The Info's note of an edit of one image (a region repainted, an edit by words)."""
    return Text("{edit} (image {index})", edit=edit, index=index)
