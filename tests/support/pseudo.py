"""The pseudo-locale checker every end-to-end run shares (issue 29, item 7): a text a person
reads is pseudo-localised when each of its visible fragments is catalogue text (inside the
pseudo-locale's ⟦ ⟧), user text (isolated by FSI ... PDI, as `UserText` renders it), or
something the test names as shown verbatim (a prompt, a provider's name, a language's own
name). Markup is not text: HTML tags are dropped, entities read as the characters they
stand for, and a `<pre>` block is machine text to copy (an exported style). Digits, punctuation, emoji and spaces may stand anywhere; a letter left over is
text that escaped the catalogue.

Platform-neutral: a test collects what its fake platform (or the browser) received, as
(where, text) pairs, and asserts on them with `assert_pseudo_localised`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

FSI, PDI = "\u2068", "\u2069"
# The markup the platforms' texts use (Telegram's HTML, the gallery's); `<prompt>` in a plain
# text is words, not a tag.
_TAG = re.compile(r"</?(?:b|i|u|s|a|code|pre|blockquote|tg-spoiler)(?:\s[^<>]*)?>")
# A text shortened to fit a platform's limit may end inside catalogue text.
_CUT = re.compile(r"⟦[^⟦⟧]*…$")
# A block of machine text to copy as it is (an exported style's YAML, its keys English so
# that any bot imports it): not words to read.
_CODE_BLOCK = re.compile(r"<pre>.*?</pre>", re.DOTALL)
_ISOLATED = re.compile(f"{FSI}[^{FSI}{PDI}]*{PDI}")
_BRACKETED = re.compile(r"⟦[^⟦⟧]*⟧")
# Shown as they are in every language: request ids, image sizes (1024x1024).
_ALWAYS_VERBATIM = (re.compile(r"\b[0-9a-f]{16}\b"), re.compile(r"\b\d+x\d+\b"))
# Emoji that Unicode counts as letters (ℹ️ is "INFORMATION SOURCE", category Ll).
_LETTERLIKE_EMOJI = str.maketrans("", "", "ℹ")


def leftover(text: str, verbatim: Iterable[str] = ()) -> str:
    """What of `text` is neither catalogue text, user text nor one of `verbatim`, when it
    holds a letter; "" when the text is pseudo-localised."""
    shown = _TAG.sub("", _CODE_BLOCK.sub(" ", text))
    shown = html.unescape(shown).translate(_LETTERLIKE_EMOJI)
    shown = _ISOLATED.sub(" ", shown)
    # Catalogue text inside catalogue text (a rendered Text as another's parameter) nests.
    previous = None
    while previous != shown:
        previous, shown = shown, _BRACKETED.sub(" ", shown)
    shown = _CUT.sub(" ", shown)
    for token in sorted(set(verbatim), key=len, reverse=True):
        if token:
            shown = shown.replace(token, " ")
    for pattern in _ALWAYS_VERBATIM:
        shown = pattern.sub(" ", shown)
    return shown.strip() if any(char.isalpha() for char in shown) else ""


def assert_pseudo_localised(texts: Iterable[tuple[str, str]], verbatim: Iterable[str] = ()) -> None:
    """Every (where, text) is pseudo-localised; the failure lists each leak and where."""
    allowed = tuple(verbatim)
    leaks = [(where, text, left) for where, text in texts if (left := leftover(text, allowed))]
    assert not leaks, "text that escaped the catalogue:\n" + "\n".join(
        f"  {where}: {left!r} in {text!r}" for where, text, left in leaks
    )
