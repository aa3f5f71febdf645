"""Compare and permutations: one request, up to four variants side by side in one grid.

**Permutations.** `a {red, blue, golden} fox` is three prompts: `a red fox`, `a blue fox`,
`a golden fox`. Several groups multiply (`{a, b} {c, d}` is four). A brace or comma meant
as text is escaped with a backslash (`\\{`, `\\}`, `\\,`; `\\\\` is one backslash); any other
backslash stays as written. The parser is written here rather than taken from a template
library because the syntax is this small and must be total: any text gives either the
prompts or a `PromptSyntaxError` in plain words (a brace left open, a group inside a group,
an empty choice, more combinations than a grid holds), never another exception
(`tests/unit/core/requests/test_variants.py`, Hypothesis).

**Compare.** `style:anime,pixel,space` names up to four styles: the same prompt and seed once
in each style. `style_names` splits that option; the styles are resolved and checked like
one style (`admission`).

A request either compares styles or permutes its prompt; both at once is refused. The row
keeps what the user wrote (the prompt with its braces, the styles joined by commas), and the
job builder expands it again, so a resumed job is the first one.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from bot.core.errors import InvalidRequest, PromptSyntaxError, TooManyVariants
from bot.core.language import Number, Text
from bot.core.models import MAX_COUNT, Kind

MAX_VARIANTS = MAX_COUNT  # one grid
# Requests that may compare or permute: new pictures and the ones made again from them.
VARIANT_KINDS = (Kind.IMAGINE, Kind.REROLL, Kind.REMIX, Kind.RESTYLE)
ESCAPABLE = "{},\\"


@dataclass(frozen=True)
class Expansion:
    """The prompts a text stands for (one when it has no group), each with the label of its
    tile: the choices it took, joined by " / " (empty when there was nothing to choose)."""

    prompts: tuple[str, ...]
    labels: tuple[str, ...]

    @property
    def permutes(self) -> bool:
        return len(self.prompts) > 1


Piece = str | tuple[str, ...]  # text as written, or a group's choices


def _unescape(char: str) -> str:
    return char if char in ESCAPABLE else "\\" + char


def _pieces(text: str) -> list[Piece]:
    """The text split into plain runs and groups; raises PromptSyntaxError."""
    pieces: list[Piece] = []
    plain: list[str] = []
    group: list[str] | None = None
    choice: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            (choice if group is not None else plain).append(_unescape(text[index + 1]))
            index += 2
            continue
        if group is None:
            if char == "{":
                pieces.append("".join(plain))
                plain, group, choice = [], [], []
            elif char == "}":
                raise PromptSyntaxError(
                    Text(
                        'The prompt has a "{brace}" that closes nothing. '
                        "Write {escaped} for a brace itself.",
                        brace="}",
                        escaped="\\}",
                    )
                )
            else:
                plain.append(char)
        elif char == "{":
            raise PromptSyntaxError(
                Text(
                    "Choices in braces cannot hold other braces: write {example} fox, "
                    "or {escaped} for a brace itself.",
                    example="{red, blue}",
                    escaped="\\{",
                )
            )
        elif char in ",}":
            group.append(_choice(choice))
            choice = []
            if char == "}":
                pieces.append(tuple(group))
                group = None
        else:
            choice.append(char)
        index += 1
    if group is not None:
        raise PromptSyntaxError(
            Text(
                'The prompt has a "{brace}" that is never closed. Write {example} for choices, '
                "or {escaped} for a brace itself.",
                brace="{",
                example="{red, blue}",
                escaped="\\{",
            )
        )
    pieces.append("".join(plain))
    return pieces


def _choice(chars: list[str]) -> str:
    choice = " ".join("".join(chars).split())
    if not choice:
        raise PromptSyntaxError(
            Text(
                "A choice in braces is empty: write them like {example}, "
                "or {escaped} for a brace itself.",
                example="{red, blue, golden}",
                escaped="\\{",
            )
        )
    return choice


def expand(text: str) -> Expansion:
    """The prompts `text` stands for, in order (the first group's choices vary slowest)."""
    pieces = _pieces(text)
    groups = [piece for piece in pieces if isinstance(piece, tuple)]
    combinations = 1
    for group in groups:
        combinations *= len(group)
    if combinations > MAX_VARIANTS:
        raise TooManyVariants(
            Text(
                "The braces make {prompts} prompts; at most {most} fit in one grid.",
                prompts=Number(combinations),
                most=Number(MAX_VARIANTS),
            )
        )
    if not groups:
        return Expansion(prompts=("".join(str(p) for p in pieces),), labels=())
    prompts, labels = [], []
    for chosen in itertools.product(*groups):
        picks = iter(chosen)
        words = "".join(next(picks) if isinstance(p, tuple) else p for p in pieces)
        prompts.append(words)
        labels.append(" / ".join(chosen))
    return Expansion(prompts=tuple(prompts), labels=tuple(labels) if combinations > 1 else ())


def plain(text: str) -> str:
    """The one prompt a text without choices stands for (its escapes undone); a text that
    does not parse (a row written before braces meant choices) as written."""
    try:
        return expand(text).prompts[0]
    except InvalidRequest:
        return text


def escape(text: str) -> str:
    """Text as a prompt that stands for itself: braces, commas and backslashes escaped."""
    return "".join("\\" + char if char in ESCAPABLE else char for char in text)


def style_names(option: str | None) -> tuple[str, ...]:
    """A style option as the names it lists: `anime, pixel` is two, `anime` one, nothing
    none. Names listed twice count once; more than four is refused."""
    if option is None:
        return ()
    names: list[str] = []
    for part in option.split(","):
        name = part.strip()
        if name and name.lower() not in (n.lower() for n in names):
            names.append(name)
    if len(names) > MAX_VARIANTS:
        raise TooManyVariants(
            Text(
                "You listed {styles} styles to compare; at most {most} fit in one grid.",
                styles=Number(len(names)),
                most=Number(MAX_VARIANTS),
            )
        )
    return tuple(names)


def compared(style_value: str) -> tuple[str, ...]:
    """The style ids a stored row compares (its style column, ids joined by commas), or one."""
    return tuple(part for part in style_value.split(",") if part) or (style_value,)
