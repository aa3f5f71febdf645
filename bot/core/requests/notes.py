"""The Info's notes in the reader's words: what a crop, an edit or the style references did.

The worker and the edit desk write each note once, in English, onto the request's row (the
record, like a failure's reason); the Info reads it back into the same message with its
parameters (`read_back`), so a person reads it in their own language, and an older row's note
in words no message matches is shown as it is.
"""

from __future__ import annotations

from functools import cache

from bot.core.errors import as_text, read_back
from bot.core.generation.canvases import canvas_note
from bot.core.generation.operations import crop_note
from bot.core.language import Plural, Text
from bot.core.models import PANNED, EditRequest
from bot.core.requests.edits import image_note


def note_text(note: str | None) -> Text | None:
    """A stored note as the message it was written from (None for no note)."""
    if not note:
        return None
    for shape in _shapes():
        found = read_back(shape, note)
        if found is not None:
            return found
    return as_text(note)


@cache
def _shapes() -> tuple[Text, ...]:
    """One example of every note: the crop, and each edit's words in both edit notes."""
    edits = [
        EditRequest(action="zoom", factor=2.0).text,
        *PANNED.values(),
        *(EditRequest(action=action).text for action in ("region", "words", "square")),
    ]
    return (
        crop_note("1x1", "1:1", "1:1"),
        *(image_note(edit, 1) for edit in edits),
        *(canvas_note(edit, "1x1", "1:1") for edit in edits),
    )


def references_text(given: int, provider: str | None, follows: bool | None) -> Text:
    """Whether the picture followed the request's `given` style reference pictures (`follows`
    None: the provider is not known here)."""
    if follows is None:
        return Plural(
            "{count} style reference picture given.",
            "{count} style reference pictures given.",
            given,
        )
    if follows:
        return Plural(
            "Followed {count} style reference picture.",
            "Followed {count} style reference pictures.",
            given,
        )
    return Plural(
        "{count} style reference picture given, but {provider} cannot follow reference "
        "pictures: made from the prompt and style alone.",
        "{count} style reference pictures given, but {provider} cannot follow reference "
        "pictures: made from the prompt and style alone.",
        given,
        provider=provider or "-",
    )
