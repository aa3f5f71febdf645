"""Text that escaped the catalogue, found in what a platform received (issue 29, item 7).

The pseudo-locale `en_XA` (`bot.catalogues.pseudo`) wraps every catalogue text in ⟦ ⟧ and
accents it. A string the bot sent is localised when nothing with a letter is left once the
wrapped texts, the user's own words (given by the test, and anything in Unicode isolates),
Discord's markup tokens (`<@id>`, `<t:…>`, `<#id>`), code spans and the data the test names
(ids, a provider's name) are taken out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

_WRAPPED = re.compile(r"⟦[^⟦⟧]*⟧")  # innermost first: a text inside a text
_ISOLATED = re.compile(r"\u2068[^\u2068\u2069]*\u2069")
_TOKEN = re.compile(r"<[@#/:at!&]*[\w:./-]*>")
_CODE = re.compile(r"```.*?```|`[^`]*`", re.DOTALL)
_URL = re.compile(r"https?://\S+")
_LETTER = re.compile(r"[^\W\d_]")
_TEXT_KEYS = {"content", "title", "description", "label", "placeholder", "text"}
# "name" and "value" are texts only where they are: an embed's fields, autocomplete choices.
_NAMED = {"fields": {"name", "value"}, "choices": {"name"}, "author": {"name"}}


def texts(body: Any, within: str = "") -> Iterator[str]:
    """Every string of a message, embed, component, modal or choice list meant to be read."""
    if isinstance(body, dict):
        for key, value in body.items():
            if isinstance(value, str) and (key in _TEXT_KEYS or key in _NAMED.get(within, ())):
                yield value
            elif isinstance(value, dict | list):
                yield from texts(value, key if key in _NAMED else within)
    elif isinstance(body, list):
        for item in body:
            yield from texts(item, within)


def leftover(text: str, user_words: Iterable[str]) -> str:
    """What is left of `text` that is neither a catalogue text nor the user's or data."""
    rest = _CODE.sub(" ", text)
    for words in sorted(user_words, key=len, reverse=True):
        rest = rest.replace(words, " ")
    for pattern in (_ISOLATED, _URL, _TOKEN):
        rest = pattern.sub(" ", rest)
    while _WRAPPED.search(rest):
        rest = _WRAPPED.sub(" ", rest)
    return rest


def escaped(bodies: Iterable[Any], user_words: Iterable[str]) -> list[str]:
    """The strings among `bodies` with letters outside every catalogue text."""
    words = [w for w in user_words if w]
    found = []
    for body in bodies:
        for text in texts(body):
            if _LETTER.search(leftover(text, words)):
                found.append(text)
    return found
