"""The style catalogue: loading, validation, lookup and "did you mean" suggestions."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.core.errors import UnknownStyle
from bot.core.language import Text, UserText
from bot.core.models import Style

STYLE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MAX_STYLE_ID_BYTES = 32
ALLOWED_KEYS = {"id", "name", "emoji", "description", "template", "negative", "providers"}


class CatalogueError(ValueError):
    """The style file is invalid; raised at start-up."""


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


class StyleCatalogue:
    def __init__(self, styles: Iterable[Style]) -> None:
        self._styles: dict[str, Style] = {}
        for style in styles:
            if style.id in self._styles:
                raise CatalogueError(f"duplicate style id {style.id!r}")
            self._styles[style.id] = style
        if not self._styles:
            raise CatalogueError("the style catalogue is empty")
        # Lookup by id, by name and by punctuation-free forms, so "Pixel Art" and
        # "pixelart" find "pixel-art".
        self._aliases: dict[str, str] = {}
        for style in self._styles.values():
            for alias in (style.id, style.name, _normalise(style.id), _normalise(style.name)):
                self._aliases.setdefault(alias.lower(), style.id)

    def __iter__(self) -> Iterator[Style]:
        return iter(self._styles.values())

    def __len__(self) -> int:
        return len(self._styles)

    def __contains__(self, style_id: object) -> bool:
        return style_id in self._styles

    @property
    def ids(self) -> list[str]:
        return list(self._styles)

    def find(self, text: str) -> Style | None:
        key = text.strip().lower()
        style_id = self._aliases.get(key) or self._aliases.get(_normalise(key))
        return self._styles.get(style_id) if style_id else None

    def get(self, text: str) -> Style:
        style = self.find(text)
        if style is None:
            suggestions = self.suggest(text)
            # Echo only printable characters: a NUL or a control code never reaches a chat.
            shown = UserText("".join(c for c in text.strip() if c.isprintable())[:40])
            if suggestions:
                words = Text(
                    "There is no style called “{name}”. Did you mean {suggestions}?",
                    name=shown,
                    suggestions=", ".join(suggestions),
                )
            else:
                words = Text("There is no style called “{name}”.", name=shown)
            raise UnknownStyle(words, suggestions)
        return style

    def suggest(self, text: str, limit: int = 3) -> list[str]:
        """The closest style ids, best first (always `limit` of them when the catalogue has them)."""
        key = _normalise(text)

        def score(style: Style) -> float:
            by_id = difflib.SequenceMatcher(None, key, _normalise(style.id)).ratio()
            by_name = difflib.SequenceMatcher(None, key, _normalise(style.name)).ratio()
            prefix = 0.2 if key and _normalise(style.id).startswith(key[:3]) else 0.0
            return max(by_id, by_name) + prefix

        ranked = sorted(self._styles.values(), key=lambda s: (-score(s), s.id))
        return [s.id for s in ranked[:limit]]

    def search(
        self, text: str, allowed: Iterable[str] | None = None, limit: int = 25
    ) -> list[Style]:
        """Styles whose id, name or description contain `text`, for autocomplete menus."""
        allowed_set = set(allowed) if allowed else None
        key = text.strip().lower()
        hits = [
            s
            for s in self._styles.values()
            if (allowed_set is None or s.id in allowed_set)
            and (not key or key in s.id or key in s.name.lower() or key in s.description.lower())
        ]
        return hits[:limit]


def _parse_style(raw: Any, index: int) -> Style:
    if not isinstance(raw, dict):
        raise CatalogueError(f"style #{index + 1} is not a mapping")
    unknown = set(raw) - ALLOWED_KEYS
    if unknown:
        raise CatalogueError(f"style #{index + 1} has unknown keys: {', '.join(sorted(unknown))}")
    try:
        style = Style(**raw)
    except ValidationError as exc:
        raise CatalogueError(f"style #{index + 1} is invalid: {exc}") from None
    if not STYLE_ID.match(style.id) or len(style.id.encode()) > MAX_STYLE_ID_BYTES:
        raise CatalogueError(
            f"style id {style.id!r} must be a lowercase slug of at most {MAX_STYLE_ID_BYTES} bytes"
        )
    if "{prompt}" not in style.template:
        raise CatalogueError(f"style {style.id!r}: template has no {{prompt}} placeholder")
    return style


def parse_catalogue(text: str) -> StyleCatalogue:
    data = yaml.safe_load(text)
    if (
        not isinstance(data, dict)
        or set(data) != {"styles"}
        or not isinstance(data["styles"], list)
    ):
        raise CatalogueError("the style file must hold one key, 'styles', with a list")
    return StyleCatalogue(_parse_style(raw, i) for i, raw in enumerate(data["styles"]))


def load_catalogue(path: Path | None = None) -> StyleCatalogue:
    if path is None:
        text = resources.files("bot").joinpath("styles.yaml").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return parse_catalogue(text)
