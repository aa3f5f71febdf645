"""What a Discord client shows for a piece of message text, strictly.

Discord renders Markdown on the client, so the fake REST API cannot refuse it; this model of
the client is what tests check user text against. It is stricter than Discord: any
unescaped character that Discord could treat as formatting counts as formatting, even where
Discord would happen to show it literally (a lone `*`). A backslash before ASCII punctuation
shows that character as typed, as in Discord. Links (`http(s)://...`) are shown as typed,
like Discord's auto-links, which take no formatting inside them.
"""

from __future__ import annotations

import re

INLINE = set("*_~|`")
# Constructs that only count at the start of a line (after spaces): headings, subtext, lists,
# quotes, ordered lists. Stricter than Discord: no space needed after them.
LINE_START = re.compile(r"[#>*+-]|\d+\.")
ANGLE = re.compile(r"<(@[!&]?\d|#\d|a?:\w+:\d|t:\d|/[\w -]+:\d|id:)")
MASKED_LINK = re.compile(r"\[[^\]]*\]\([^)]*\)")
URL = re.compile(r"(?<!\w)(?:https?|steam)://[^\s<]+[^<.,:;\"'\]\s]")
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


class MarkdownLeak(AssertionError):
    """The text would be rendered as something other than what was typed."""


def displayed(text: str) -> str:
    """The characters a reader sees; raises MarkdownLeak on live formatting or bidi controls."""
    for char in text:
        if char in BIDI:
            raise MarkdownLeak(f"bidi control U+{ord(char):04X} in {text!r}")
    out: list[str] = []
    i = 0
    line_start = True
    while i < len(text):
        char = text[i]
        if line_start:
            stripped = len(text[i:]) - len(text[i:].lstrip(" "))
            if LINE_START.match(text, i + stripped):
                raise MarkdownLeak(f"line-start markup at {i} in {text!r}")
        url = URL.match(text, i)
        if url:
            out.append(url.group())
            i = url.end()
            line_start = False
            continue
        if char == "\\" and i + 1 < len(text) and _punctuation(text[i + 1]):
            out.append(text[i + 1])
            i += 2
            line_start = False
            continue
        if char in INLINE:
            raise MarkdownLeak(f"unescaped {char!r} at {i} in {text!r}")
        if char == "[" and MASKED_LINK.match(text, i):
            raise MarkdownLeak(f"masked link at {i} in {text!r}")
        if char == "<" and ANGLE.match(text, i):
            raise MarkdownLeak(f"mention or timestamp syntax at {i} in {text!r}")
        out.append(char)
        line_start = char == "\n"
        i += 1
    return "".join(out)


def _punctuation(char: str) -> bool:
    return char.isascii() and not char.isalnum() and not char.isspace()
