"""User text: cleaned once for storage and providers, folded for comparisons, safe to show.

Three forms of the same text, each for one job:

- `clean_text` is what the bot keeps and sends on: NFKC-normalised (fullwidth and other
  compatibility forms become the ordinary letters), without control characters or invisible
  format characters (Unicode category Cf: zero-width spaces, soft hyphens, word joiners, bidi
  controls), whitespace collapsed. The two joiners ZWNJ/ZWJ are kept because Persian and Indic
  spelling and emoji sequences need them; `skeleton` drops them, so they hide no word.
- `skeleton` is only for comparing (banned terms): `clean_text`, case-folded, accents and other
  combining marks removed, and letters that look like Latin ones (Cyrillic а, Greek ο,
  Cherokee Ꭰ, ...) mapped to them. It is never shown or sent anywhere.
- `strip_bidi` removes the characters that reorder the text around them; adapters apply it to
  every piece of user text they show, before their own escaping.

The look-alike table comes from `confusable-homoglyphs` (PyPI), which packages Unicode's
confusables.txt (UTS #39) as JSON. Its module-level API loads the whole 900 kB file into
nested dicts (and imports urllib.request), so we read the JSON ourselves, keep only the
non-ASCII characters confusable with one ASCII letter or digit (about 1,300), and build that
small table once, only when a banned-terms list needs it. ASCII is left alone (no `0` -> `o`,
`1` -> `l`): those are ordinary text, and an operator can catch them with a `re:` rule.
"""

from __future__ import annotations

import importlib.util
import json
import unicodedata
from functools import cache
from pathlib import Path

# Newlines and tabs become spaces; every other control character is dropped (NUL would break
# SQLite text and captions).
_KEEP_AS_SPACE = {"\n", "\r", "\t"}
# Format characters a script or an emoji sequence needs to be spelled right.
_JOINERS = {"\u200c", "\u200d"}
# Explicit directional formatting: embeddings, overrides, isolates, marks.
BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"]
)
_NO_BIDI = {ord(c): None for c in BIDI_CONTROLS}


def clean_text(text: str) -> str:
    """The form of user text that is stored, checked and sent to the image provider."""
    out = []
    for char in unicodedata.normalize("NFKC", text):
        if char in _KEEP_AS_SPACE:
            out.append(" ")
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs") or (category == "Cf" and char not in _JOINERS):
            continue
        out.append(char)
    return " ".join("".join(out).split())


def strip_bidi(text: str) -> str:
    """The text without the characters that change the direction of what follows them."""
    return text.translate(_NO_BIDI)


def folded(text: str) -> str:
    """Case-folded `clean_text` without any format character: for case-blind comparisons."""
    cleaned = clean_text(text).casefold()
    return "".join(c for c in cleaned if unicodedata.category(c) != "Cf")


def skeleton(text: str) -> str:
    """`folded` text without combining marks and with look-alike letters made Latin."""
    decomposed = unicodedata.normalize("NFD", folded(text))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare.translate(_confusables())).casefold()


@cache
def _confusables() -> dict[int, str]:
    """Code point -> the ASCII letter or digit it can be mistaken for (UTS #39 data)."""
    spec = importlib.util.find_spec("confusable_homoglyphs")
    if spec is None or spec.origin is None:  # pragma: no cover - a declared dependency
        raise RuntimeError("the confusable-homoglyphs package is missing")
    data_file = Path(spec.origin).parent / "confusables.json"
    # Each entry is {"c": glyph, "n": name}: keep only the glyph while parsing.
    with data_file.open(encoding="utf-8") as handle:
        data: dict[str, list[str]] = json.load(
            handle, object_hook=lambda d: d["c"] if d.keys() == {"c", "n"} else d
        )
    table: dict[int, str] = {}
    for char, glyphs in data.items():
        if len(char) != 1 or char.isascii():
            continue
        ascii_glyphs = sorted(
            (g for g in glyphs if len(g) == 1 and g.isascii() and g.isalnum()),
            key=lambda g: (not g.islower(), g),
        )
        if ascii_glyphs:
            table[ord(char)] = ascii_glyphs[0].lower()
    return table


def preload() -> None:
    """Build the look-alike table now (at start-up) rather than on the first request."""
    _confusables()
