"""The pseudo-locale check (issue 29 item 7): text a person reads that did not come through
the catalogue.

In `en_XA` every catalogue message reads `⟦Åççéñţéd⟧` (bot/catalogues.py `pseudo`), so a
text shown in that locale is either inside those brackets, or user text / data, or it
escaped the catalogue. `unlocalised` names what escaped (the web pages), `escaped` does it
for Discord's payloads, and `assert_pseudo_localised` for texts collected as (where, text)
pairs (Telegram): HTML tags dropped, entities read as characters, a `<pre>` block (an exported
style) machine text, user text isolated by FSI ... PDI, digits, punctuation and emoji anywhere.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from typing import Any

# One message, or the part of one that a placeholder's value (an isolated user text, a
# separate DOM node) split off: `⟦... `, `... ⟧`.
_MESSAGE = re.compile(r"⟦[^⟦⟧]*⟧|^[^⟦⟧]*⟧|⟦[^⟦⟧]*$")
_LETTER = re.compile(r"[^\W\d_]")
# Names that are the same in every language: the product's.
NAMES = ("imaginebot",)


def localised(text: str) -> bool:
    """Whether `text` holds no letter outside the pseudo-locale's brackets (and names)."""
    rest = _MESSAGE.sub("", text)
    for name in NAMES:
        rest = rest.replace(name, "")
    return _LETTER.search(rest) is None


def unlocalised(texts: Iterable[str]) -> list[str]:
    return [text for text in texts if not localised(text)]


# What a browser page shows people: its text nodes and the attributes read aloud or shown
# (title, alt, aria-label, placeholder, a button's value, a confirm dialog's words, the
# words a script shows later: data-word-*). User text and data are marked in the pages as
# not for translation (translate="no", <bdi>, dir="auto", <time>) and left aside, as is
# what nobody sees (scripts, styles, hidden elements).
PAGE_TEXTS_JS = """
() => {
  const aside = '[translate="no"], bdi, [dir="auto"], time, script, style, [hidden]';
  const out = [];
  const walker = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    if (text && node.parentElement && !node.parentElement.closest(aside)) out.push(text);
  }
  const named = ["title", "alt", "aria-label", "placeholder", "data-confirm"];
  for (const element of document.querySelectorAll("*")) {
    if (element.closest(aside)) continue;
    for (const attribute of element.attributes) {
      const shown = named.includes(attribute.name) || attribute.name.startsWith("data-word-")
        || (attribute.name === "value" && element.matches("button, input[type=submit], input[type=button]"));
      if (shown && attribute.value.trim()) out.push(attribute.value.trim());
    }
  }
  return out;
}
"""


# What Discord was sent to show: contents, embeds, button labels, menu placeholders and
# options, modal titles and labels, autocomplete choices. Ids, URLs and values are not read.
_TEXT_KEYS = {"content", "title", "description", "label", "placeholder", "text"}
# "name" and "value" are texts only where they are: an embed's fields, autocomplete choices.
_NAMED = {"fields": {"name", "value"}, "choices": {"name"}, "author": {"name"}}
_WRAPPED = re.compile(r"⟦[^⟦⟧]*⟧")  # innermost first: a text inside a text
_ISOLATED = re.compile(r"\u2068[^\u2068\u2069]*\u2069")  # user text in our sentence
_DATA = (
    re.compile(r"```.*?```|`[^`]*`", re.DOTALL),  # code: ids, a style's recipe
    re.compile(r"https?://\S+"),
    re.compile(r"<[@#/:at!&]*[\w:./-]*>"),  # Discord's mentions and timestamps
)


def discord_texts(body: Any, within: str = "") -> Iterator[str]:
    """Every string of a Discord message, embed, component, modal or choice list meant to
    be read."""
    if isinstance(body, dict):
        for key, value in body.items():
            if isinstance(value, str) and (key in _TEXT_KEYS or key in _NAMED.get(within, ())):
                yield value
            elif isinstance(value, dict | list):
                yield from discord_texts(value, key if key in _NAMED else within)
    elif isinstance(body, list):
        for item in body:
            yield from discord_texts(item, within)


def without_data(text: str, data: Iterable[str]) -> str:
    """`text` without the user's words and the data in it (`data`: prompts, ids, a
    provider's name), without code spans, links and Discord's tokens, and with every
    catalogue message taken out, innermost first (a message inside a message)."""
    rest = _DATA[0].sub(" ", text)
    for words in sorted((w for w in data if w), key=len, reverse=True):
        rest = rest.replace(words, " ")
    for pattern in (_ISOLATED, *_DATA[1:]):
        rest = pattern.sub(" ", rest)
    while _WRAPPED.search(rest):
        rest = _WRAPPED.sub(" ", rest)
    return rest


def escaped(bodies: Iterable[Any], data: Iterable[str]) -> list[str]:
    """The strings among the Discord payloads `bodies` that escaped the catalogue."""
    kept = list(data)
    return [
        text
        for body in bodies
        for text in discord_texts(body)
        if not localised(without_data(text, kept))
    ]


# The markup the platforms' texts use (Telegram's HTML, the gallery's); `<prompt>` in a plain
# text is words, not a tag.
_TAG = re.compile(r"</?(?:b|i|u|s|a|code|pre|blockquote|tg-spoiler)(?:\s[^<>]*)?>")
# A text shortened to fit a platform's limit may end inside catalogue text.
_CUT = re.compile(r"⟦[^⟦⟧]*…$")
# A block of machine text to copy as it is (an exported style's YAML, its keys English so
# that any bot imports it): not words to read.
_CODE_BLOCK = re.compile(r"<pre>.*?</pre>", re.DOTALL)
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
        previous, shown = shown, _WRAPPED.sub(" ", shown)
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
