"""A community style's definition as words: its draft, its code, and its YAML export.

A draft is what an admin gives (name, description, recipe with `{prompt}`, negative prompt,
default aspect and count, preferred provider, hidden, private). Its code (`#k3f9`) is derived
from the definition: a SHA-256 of the look (recipe, negative prompt, aspect, count and the
reference pictures' own hashes) in base 36, four characters unless those are taken by another
definition. The YAML export is small text (no pictures); `parse_export` reads one with
`yaml.safe_load` and is total: any text is a draft or a `BadStyleText` in plain words.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

import yaml

from bot.core.errors import BadStyleText
from bot.core.language import Number, Text, UserText
from bot.core.models import ASPECT_RATIOS, MAX_COUNT, AspectRatio, Frozen

MAX_NAME_CHARS = 32
MAX_DESCRIPTION_CHARS = 100
MAX_REFERENCES = 4
MAX_EXPORT_CHARS = 8000
CODE = re.compile(r"^#[0-9a-z]{4,12}$")
EXPORT_VERSION = 1
EXPORT_KEYS = {
    "imaginebot_style",
    "name",
    "description",
    "recipe",
    "negative",
    "aspect",
    "count",
    "provider",
    "code",
    "reference_pictures",
}
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


class StyleDraft(Frozen):
    """What an admin gives for a style (checked by `CommunityStyles`)."""

    name: str
    description: str = ""
    template: str
    negative: str = ""
    aspect: AspectRatio | None = None
    count: int | None = None
    provider: str | None = None
    hidden: bool = False
    private: bool = False


def slug(name: str) -> str:
    """The id members type for a style called `name` ("Neon Noir" -> "neon-noir")."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:MAX_NAME_CHARS].strip("-")


def digest(draft: StyleDraft, picture_hashes: Iterable[str] = ()) -> str:
    """The SHA-256 of the look: what makes two styles the same (not their name or flags)."""
    parts = [
        draft.template,
        draft.negative,
        draft.aspect or "",
        str(draft.count or ""),
        draft.provider or "",
        *sorted(picture_hashes),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def code_of(full_digest: str, length: int = 4) -> str:
    """`#` and `length` base-36 characters of the digest."""
    number = int(full_digest, 16)
    chars = []
    for _ in range(length):
        number, rest = divmod(number, 36)
        chars.append(_ALPHABET[rest])
    return "#" + "".join(chars)


def picture_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def export_text(draft: StyleDraft, code: str, references: int) -> str:
    """The style as small YAML text (the reference pictures do not travel: their number does)."""
    data: dict[str, Any] = {
        "imaginebot_style": EXPORT_VERSION,
        "name": draft.name,
        "description": draft.description,
        "recipe": draft.template,
        "negative": draft.negative,
    }
    for key in ("aspect", "count", "provider"):
        if getattr(draft, key) is not None:
            data[key] = getattr(draft, key)
    data["code"] = code
    if references:
        data["reference_pictures"] = references
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def _text(data: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadStyleText(Text("The style text needs `{key}` as text.", key=key))
    return value


def _optional(data: dict[str, Any], key: str, kinds: tuple[type, ...]) -> Any:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise BadStyleText(Text("The style text's `{key}` is not valid.", key=key))
    return value


def _mapping(text: str) -> dict[str, Any]:
    if len(text) > MAX_EXPORT_CHARS:
        raise BadStyleText(
            Text(
                "The style text is too long (at most {most} characters).",
                most=Number(MAX_EXPORT_CHARS),
            )
        )
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError):
        raise BadStyleText(
            Text("That is not a style exported by this bot (not valid YAML).")
        ) from None
    if not isinstance(data, dict) or data.get("imaginebot_style") != EXPORT_VERSION:
        raise BadStyleText(
            Text(
                "That is not a style exported by this bot (no `{marker}`).",
                marker="imaginebot_style: " + str(EXPORT_VERSION),
            )
        )
    unknown = {str(k)[:20] for k in data if k not in EXPORT_KEYS}
    if unknown:
        raise BadStyleText(
            Text(
                "The style text has unknown keys: {keys}.",
                keys=UserText(", ".join(sorted(unknown))),
            )
        )
    return data


def parse_export(text: str) -> StyleDraft:
    """A draft from exported text, or BadStyleText (total: never another exception)."""
    data = _mapping(text)
    aspect = _optional(data, "aspect", (str,))
    if aspect is not None and aspect not in ASPECT_RATIOS:
        raise BadStyleText(
            Text(
                "The style text's aspect must be one of {choices}.",
                choices=", ".join(ASPECT_RATIOS),
            )
        )
    count = _optional(data, "count", (int,))
    if count is not None and not 1 <= count <= MAX_COUNT:
        raise BadStyleText(
            Text("The style text's count must be 1 to {most}.", most=Number(MAX_COUNT))
        )
    return StyleDraft(
        name=_text(data, "name", required=True),
        description=_text(data, "description"),
        template=_text(data, "recipe", required=True),
        negative=_text(data, "negative"),
        aspect=aspect,
        count=count,
        provider=_optional(data, "provider", (str,)),
    )
