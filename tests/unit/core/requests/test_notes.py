"""The Info's notes are written once in English on the row and read back into the reader's
language: the crop, each edit's words (a zoom's factor too), the style references."""

from __future__ import annotations

from bot.core.errors import english
from bot.core.generation.canvases import canvas_note
from bot.core.generation.operations import crop_note
from bot.core.language import CATALOGUES, LANGUAGES
from bot.core.models import EditRequest
from bot.core.requests.edits import image_note
from bot.core.requests.notes import note_text, references_text

ZOOM = EditRequest(action="zoom", factor=1.5)
NOTES = [
    english(crop_note("1536x1024", "3:2", "16:9")),
    english(canvas_note(ZOOM.text, "1536x1024", "3:2")),
    english(canvas_note(EditRequest(action="pan", direction="up").text, "1024x1536", "2:3")),
    english(image_note(EditRequest(action="region").text, 2)),
    english(image_note(EditRequest(action="words").text, 1)),
]


def test_each_note_reads_back_in_every_language() -> None:
    assert NOTES[1] == (
        "zoomed out 1.5x: the picture on a 1536x1024 canvas (3:2), the new area filled"
    )
    for note in NOTES:
        text = note_text(note)
        assert text is not None and english(text) == note
        for locale in LANGUAGES[1:]:
            assert CATALOGUES.render(text, locale) != note, (locale, note)
    assert CATALOGUES.render(note_text(NOTES[1]), "de") == (  # type: ignore[arg-type]
        "1,5x herausgezoomt: das Bild auf einer Fläche von 1536x1024 (3:2), "
        "der neue Bereich aufgefüllt"
    )
    assert CATALOGUES.render(note_text(NOTES[3]), "ru") == (  # type: ignore[arg-type]
        "область перерисована (изображение 2)"
    )


def test_a_note_in_words_no_message_matches_is_shown_as_it_is() -> None:
    assert note_text(None) is None
    old = note_text("cropped the old way")
    assert old is not None and english(old) == "cropped the old way"


def test_the_references_note_counts_and_names_the_provider() -> None:
    ignored = references_text(2, "comfyui", follows=False)
    assert english(ignored) == (
        "2 style reference pictures given, but comfyui cannot follow reference pictures: "
        "made from the prompt and style alone."
    )
    assert CATALOGUES.render(references_text(1, "openai", follows=True), "ru") == (
        "Учтён 1 референс стиля."
    )
    assert english(references_text(1, None, follows=None)) == "1 style reference picture given."
