"""`/imagine` text parsing, shared by every Telegram handler and tested on its own.

Options may stand anywhere in the text: `style:<id>` or `--style <id>`, `count:<1-4>`,
`strength:<0.1-1.0>` (for a picture sent with the command), `style_ref` (the picture sent
with the command is a style reference, not the picture to start from), `--ar <ratio>` (also
`--aspect`), `--no <negative prompt...>` (up to the next option), `--seed <n>`.
Unknown `--flags` are an error with a usage hint, never silently ignored.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from bot.core.language import CATALOGUES, ENGLISH, Text, UserText
from bot.core.models import ASPECT_RATIOS, MAX_COUNT, MAX_SEED, AspectRatio
from bot.core.numbers import decimal, whole_number
from bot.core.text import strip_bidi

# HTML (the reply is in HTML mode): `&lt;` where a reader sees `<`.
USAGE = Text(
    "Usage: /imagine &lt;prompt&gt; [style:&lt;style&gt;] [count:1-4] [--ar 16:9] "
    "[--no &lt;things to avoid&gt;] [--seed &lt;n&gt;]\n"
    "With a photo (as its caption, or as a reply to one): [strength:0.1-1.0], or style_ref "
    "to follow its look\n"
    "Compare styles: style:anime,pixel-art · choices: a {{red, blue}} fox\n"
    "Examples:\n"
    "/imagine a lighthouse at dusk style:anime\n"
    "/imagine a red fox in snow --ar 3:2 --no people, text\n"
    "/imagine a castle --style pixel-art --seed 42\n"
    "/imagine four takes on a teapot count:4\n"
    "See /styles for every style."
)
FLAGS = {"--style", "--ar", "--aspect", "--no", "--seed"}
STRENGTH_RANGE = (0.1, 1.0)


class ParseError(ValueError):
    """Bad command text: `problem` (a catalogue text, or None) is shown to the user, then the
    usage, in the reader's locale."""

    def __init__(self, problem: Text | None) -> None:
        self.problem = problem
        super().__init__(problem.message if problem else USAGE.message)

    @property
    def message(self) -> str:
        """The English words, plain (for logs and tests)."""
        return self.words(ENGLISH, markup=False)

    def words(self, locale: str, *, markup: bool = True) -> str:
        """The answer in `locale`: HTML for a reply, plain text (`markup=False`) elsewhere."""
        parts = [p for p in (self.problem, USAGE) if p is not None]
        if markup:
            return "\n\n".join(CATALOGUES.render(p, locale, escape=_html) for p in parts)
        return html.unescape("\n\n".join(CATALOGUES.render(p, locale) for p in parts))


def _html(text: str) -> str:
    return html.escape(strip_bidi(text))


@dataclass(frozen=True)
class ParsedImagine:
    prompt: str
    style: str | None = None
    aspect: AspectRatio = "1:1"
    negative_prompt: str | None = None
    seed: int | None = None
    count: int = 1
    strength: float | None = None
    # The options the text set (a style's default aspect and count apply to the others).
    given: frozenset[str] = field(default=frozenset(), compare=False)
    style_ref: bool = False  # the picture sent with the command is a style reference


def _count(value: str) -> int:
    count = whole_number(value, 1, MAX_COUNT)
    if count is None:
        raise ParseError(
            Text("count: must be a whole number from 1 to {most}, like count:4.", most=MAX_COUNT)
        )
    return count


def _strength(value: str) -> float:
    low, high = STRENGTH_RANGE
    strength = decimal(value, low, high)
    if strength is None:
        raise ParseError(
            Text(
                "strength: must be a number from {low} to {high}, like strength:0.4.",
                low=str(low),  # as typed: strength:0.4 takes a dot in every language
                high=str(high),
            )
        )
    return strength


def strip_command(text: str) -> str:
    """Drop the leading `/command` or `/command@BotName`."""
    text = text.lstrip()
    if not text.startswith("/"):
        return text
    parts = text.split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


def _value(tokens: list[str], index: int, flag: str) -> str:
    if index + 1 >= len(tokens) or tokens[index + 1].startswith("--"):
        raise ParseError(Text("{option} needs a value.", option=flag))
    return tokens[index + 1]


def _flag(flag: str, value: str) -> tuple[str, str | int]:
    """What `--style`, `--ar`/`--aspect` or `--seed` with its value sets."""
    if flag == "--style":
        return "style", value
    if flag in ("--ar", "--aspect"):
        if value not in ASPECT_RATIOS:
            raise ParseError(
                Text("Aspect ratio must be one of {ratios}.", ratios=", ".join(ASPECT_RATIOS))
            )
        return "aspect", value
    seed = whole_number(value, 0, MAX_SEED)
    if seed is None:
        raise ParseError(Text("--seed must be a whole number from 0 to {most}.", most=MAX_SEED))
    return "seed", seed


def _keyword(lowered: str, value: str) -> tuple[str, str | int | float]:
    """What `style:`, `count:` or `strength:` with its value sets."""
    if lowered.startswith("style:"):
        if not value:
            raise ParseError(Text("style: needs a style name, like style:anime."))
        return "style", value
    if lowered.startswith("count:"):
        return "count", _count(value)
    return "strength", _strength(value)


def parse_imagine(text: str) -> ParsedImagine:
    """Parse the arguments of `/imagine` (the text after the command)."""
    tokens = text.split()
    prompt: list[str] = []
    negative: list[str] = []
    fields: dict[str, Any] = {}
    in_negative = False
    index = 0
    while index < len(tokens):
        token = tokens[index]
        lowered = token.lower()
        if lowered in ("style_ref", "style_ref:", "--sref"):
            fields["style_ref"] = True
            in_negative = False
        elif lowered.startswith(("style:", "count:", "strength:")):
            field, setting = _keyword(lowered, token.split(":", 1)[1])
            fields[field] = setting
            in_negative = False
        elif lowered.startswith("--"):
            if lowered not in FLAGS:
                raise ParseError(Text("Unknown option {option}.", option=UserText(token[:40])))
            in_negative = lowered == "--no"
            if not in_negative:
                field, setting = _flag(lowered, _value(tokens, index, lowered))
                fields[field] = setting
                index += 1
        elif in_negative:
            negative.append(token)
        else:
            prompt.append(token)
        index += 1
    if not prompt:
        raise ParseError(Text("Please describe the picture you want."))
    return ParsedImagine(
        prompt=" ".join(prompt),
        negative_prompt=" ".join(negative) or None,
        given=frozenset(fields),
        **fields,
    )
