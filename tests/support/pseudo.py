"""The pseudo-locale check (issue 29 item 7): text a person reads that did not come through
the catalogue.

In `en_XA` every catalogue message reads `⟦Åççéñţéd⟧` (bot/catalogues.py `pseudo`), so a
text shown in that locale is either inside those brackets, or user text / data, or it
escaped the catalogue. `unlocalised` names what escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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
