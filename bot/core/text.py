"""User text: cleaned once for storage and providers, folded for comparisons, safe to show.

Three forms of the same text, each for one job:

- `clean_text` is what the bot keeps and sends on: NFKC-normalised (fullwidth and other
  compatibility forms become the ordinary letters), without control characters or invisible
  characters: every Default_Ignorable_Code_Point (Unicode category Cf such as zero-width
  spaces, soft hyphens, word joiners and bidi controls; the Hangul fillers U+115F, U+1160,
  U+3164, U+FFA0; the combining grapheme joiner U+034F; tags), and the blank Braille pattern
  U+2800, which shows as a space but is a letter to every regular expression; whitespace
  collapsed. Kept are the joiners ZWNJ/ZWJ and the variation selectors, because Persian and
  Indic spelling and emoji need them; `skeleton` drops them, so they hide no word.
- `skeleton` is only for comparing (banned terms): `clean_text`, case-folded, every
  default-ignorable code point and every combining mark (categories Mn, Mc, Me, so the
  combining grapheme joiner too, which `unicodedata.combining` misses: its combining class
  is 0) removed, and letters that look like Latin ones (Cyrillic а, Greek ο, Cherokee Ꭰ,
  small capitals ᴅʀᴀɢᴏɴ, ...) mapped to them. It is never shown or sent anywhere.
- `strip_bidi` removes the characters that reorder the text around them; adapters apply it to
  every piece of user text they show, before their own escaping.

The look-alike table comes from `confusable-homoglyphs` (PyPI), which packages Unicode's
confusables.txt (UTS #39) as JSON. Its module-level API loads the whole 900 kB file into
nested dicts (and imports urllib.request), so we read the JSON ourselves, keep only the
non-ASCII characters confusable with one ASCII letter or digit (about 1,300), and build that
small table once, only when a banned-terms list needs it. ASCII is left alone (no `0` -> `o`,
`1` -> `l`): those are ordinary text, and an operator can catch them with a `re:` rule.
confusables.txt does not map Latin small capitals (ᴅ, ʀ, ɢ, ɴ) to ASCII, and NFKC leaves them
alone, so they come from the Unicode Character Database in the standard library instead
(`unicodedata.name`: "LATIN LETTER SMALL CAPITAL D" is a d), not from a hand list.

Default_Ignorable_Code_Point is derived as UAX #44 defines it: category Cf, the variation
selectors and Other_Default_Ignorable_Code_Point (PropList.txt; a short list that Unicode's
stability policy keeps), less the few Cf characters that are visible (prepended
concatenation marks such as U+0600, U+FFF9-U+FFFB, Egyptian hieroglyph format controls).
"""

from __future__ import annotations

import importlib.util
import json
import re
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
# Other_Default_Ignorable_Code_Point (PropList.txt, Unicode 15.1/16.0).
_OTHER_DEFAULT_IGNORABLE = (
    (0x034F, 0x034F),  # COMBINING GRAPHEME JOINER
    (0x115F, 0x1160),  # HANGUL CHOSEONG / JUNGSEONG FILLER
    (0x17B4, 0x17B5),  # KHMER VOWEL INHERENT AQ / AA
    (0x2065, 0x2065),
    (0x3164, 0x3164),  # HANGUL FILLER
    (0xFFA0, 0xFFA0),  # HALFWIDTH HANGUL FILLER
    (0xFFF0, 0xFFF8),
    (0xE0000, 0xE0000),
    (0xE0002, 0xE001F),
    (0xE0080, 0xE00FF),
    (0xE01F0, 0xE0FFF),
)
# Format characters that are visible (Prepended_Concatenation_Mark, interlinear annotation,
# Egyptian hieroglyph controls): Cf, yet not default-ignorable.
_VISIBLE_FORMAT = frozenset(
    [
        *range(0x0600, 0x0606),
        *(0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x110BD, 0x110CD),
        *range(0xFFF9, 0xFFFC),
        *range(0x13430, 0x13456),
    ]
)
BRAILLE_BLANK = "\u2800"  # looks like a space, is a letter (So) to every pattern
_SMALL_CAPITAL = re.compile(r"^(?:LATIN|MODIFIER) LETTER SMALL CAPITAL ([A-Z])$")


def default_ignorable(char: str) -> bool:
    """Unicode's Default_Ignorable_Code_Point: nothing a reader sees (UAX #44)."""
    code = ord(char)
    if any(low <= code <= high for low, high in _OTHER_DEFAULT_IGNORABLE):
        return True
    if 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF or 0x180B <= code <= 0x180F:
        return True  # variation selectors (U+180E, a Cf, is ignorable too)
    return unicodedata.category(char) == "Cf" and code not in _VISIBLE_FORMAT


def _kept_invisible(char: str) -> bool:
    """Invisible, yet needed to spell some words right: the joiners and the variation
    selectors (emoji presentation)."""
    code = ord(char)
    return char in _JOINERS or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def clean_text(text: str) -> str:
    """The form of user text that is stored, checked and sent to the image provider."""
    out = []
    for char in unicodedata.normalize("NFKC", text):
        if char in _KEEP_AS_SPACE:
            out.append(" ")
            continue
        if unicodedata.category(char) in ("Cc", "Cs") or char == BRAILLE_BLANK:
            continue
        if default_ignorable(char) and not _kept_invisible(char):
            continue
        out.append(char)
    return " ".join("".join(out).split())


def strip_bidi(text: str) -> str:
    """The text without the characters that change the direction of what follows them."""
    return text.translate(_NO_BIDI)


def folded(text: str) -> str:
    """Case-folded `clean_text` without any invisible character: for case-blind comparisons."""
    cleaned = clean_text(text).casefold()
    return "".join(c for c in cleaned if not default_ignorable(c))


def skeleton(text: str) -> str:
    """`folded` text without combining marks and with look-alike letters made Latin."""
    decomposed = unicodedata.normalize("NFD", folded(text))
    bare = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))
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
    table.update(_small_capitals())
    return table


def _small_capitals() -> dict[int, str]:
    """Latin small capitals (ᴅ ʀ ᴀ ɢ ᴏ ɴ) from the character names of the UCD."""
    table: dict[int, str] = {}
    for start, end in ((0x0180, 0x0300), (0x1D00, 0x1DC0), (0xA700, 0xA800), (0x10780, 0x107C0)):
        for code in range(start, end):
            found = _SMALL_CAPITAL.match(unicodedata.name(chr(code), ""))
            if found:
                table[code] = found.group(1).lower()
    return table


def preload() -> None:
    """Build the look-alike table now (at start-up) rather than on the first request."""
    _confusables()
