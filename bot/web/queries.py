"""What the gallery needs from a store, as a Protocol, and the values that cross it.

The web process may run on its own machine next to a shared database, so it does not go
through the bot's store object: `bot.web.sqlite` implements this Protocol on the SQLite file
(a PostgreSQL store can implement it with its own full-text search).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

MAX_SEARCH_WORDS = 8
# What both implementations select for an item, and which rows the gallery shows at all.
ITEM_COLUMNS = (
    "g.id, g.user_id, g.user_name, g.prompt, g.style, g.aspect, g.seed, g.provider, g.model, "
    "g.image_width, g.image_height, g.created_at, g.hidden, g.image_path"
)
VISIBLE = "g.status = 'delivered' AND g.image_path IS NOT NULL"
INT64_MAX = 2**63 - 1
# What `Page.next_cursor` looks like: "t<created_at>_<id>" for a listing, "r<rowid>" for an
# FTS5 search. Anything else in `?cursor=` was not made by the gallery: a 400 page.
_LISTING_CURSOR = re.compile(
    r"t([0-9]{1,20}(?:\.[0-9]{1,20})?(?:e[+-]?[0-9]{1,3})?)_([0-9a-f]{1,64})"
)
_SEARCH_CURSOR = re.compile(r"r([0-9]{1,19})")


class BadCursor(ValueError):
    """A `cursor` the gallery never handed out (answered with the 400 page)."""


def listing_cursor(cursor: str | None) -> tuple[float, str] | None:
    """(created_at, id) to continue a listing after; None for the first page."""
    if cursor is None:
        return None
    found = _LISTING_CURSOR.fullmatch(cursor)
    if found is None or not math.isfinite(float(found.group(1))):
        raise BadCursor(cursor[:40])
    return float(found.group(1)), found.group(2)


def search_cursor(cursor: str | None) -> int | None:
    """The FTS5 rowid to continue a search below (within SQLite's 64-bit integers)."""
    if cursor is None:
        return None
    found = _SEARCH_CURSOR.fullmatch(cursor)
    if found is None or int(found.group(1)) > INT64_MAX:
        raise BadCursor(cursor[:40])
    return int(found.group(1))


@dataclass(frozen=True)
class GalleryItem:
    id: str
    user_id: str
    user_name: str
    prompt: str
    style: str
    aspect: str
    seed: int
    provider: str | None
    model: str | None
    width: int | None
    height: int | None
    created_at: float
    hidden: bool
    image_name: str


@dataclass(frozen=True)
class Original:
    """One picture of a request that made several (the gallery's item is their grid)."""

    index: int
    image_name: str
    width: int
    height: int


class ItemRow(Protocol):
    def __getitem__(self, key: str) -> Any: ...


def item_from(row: ItemRow) -> GalleryItem:
    """A row selected with ITEM_COLUMNS (sqlite3.Row and asyncpg records alike)."""
    return GalleryItem(
        id=row["id"],
        user_id=row["user_id"],
        user_name=row["user_name"],
        prompt=row["prompt"],
        style=row["style"],
        aspect=row["aspect"],
        seed=int(row["seed"]),
        provider=row["provider"],
        model=row["model"],
        width=row["image_width"],
        height=row["image_height"],
        created_at=float(row["created_at"]),
        hidden=bool(row["hidden"]),
        image_name=Path(row["image_path"]).name,
    )


def originals_from(rows: Sequence[ItemRow]) -> list[Original]:
    """Rows of generation_images (idx, path, width, height); none when there is one picture."""
    found = [
        Original(int(r["idx"]), Path(r["path"]).name, int(r["width"]), int(r["height"]))
        for r in rows
    ]
    return found if len(found) > 1 else []


@dataclass(frozen=True)
class StyleOption:
    """A style the gallery's filter offers: a built-in one or the scope's own."""

    id: str
    label: str
    preview: str | None = None  # the preview grid's file name, for a scope's own style
    builtin: bool = False  # a catalogue style, its name translated; a scope's own is user text


# The scope's own visible styles, oldest first (`community_styles`, migration 010).
SCOPE_STYLES = (
    "SELECT style_id, name, preview_path FROM community_styles WHERE platform = ? "
    "AND scope_id = ? AND hidden = 0 ORDER BY created_at, style_id"
)


def scope_styles_from(rows: Sequence[ItemRow]) -> list[StyleOption]:
    """Options from `SCOPE_STYLES` rows; a preview by its bare file name (served from the
    web process's own images folder, like every picture)."""
    return [
        StyleOption(
            str(r["style_id"]),
            f"🎨 {r['name']}",
            Path(str(r["preview_path"])).name if r["preview_path"] else None,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Filters:
    style: str | None = None
    user_id: str | None = None
    text: str | None = None
    include_hidden: bool = False


@dataclass(frozen=True)
class Page:
    items: list[GalleryItem]
    next_cursor: str | None


def match_expression(text: str) -> str | None:
    """User words as an FTS5 expression: each word quoted (no operators), the last a prefix."""
    words = re.findall(r"\w+", text)[:MAX_SEARCH_WORDS]
    if not words:
        return None
    quoted = [f'"{word}"' for word in words]
    quoted[-1] += "*"
    return " ".join(quoted)


class GalleryStore(Protocol):
    async def page(
        self, platform: str, scope_id: str, filters: Filters, cursor: str | None, limit: int
    ) -> Page:
        """Newest first; `cursor` is the `next_cursor` of the page before (opaque)."""
        ...

    async def item(
        self, platform: str, scope_id: str, generation_id: str, *, include_hidden: bool
    ) -> GalleryItem | None: ...

    async def originals(self, generation_id: str) -> list[Original]:
        """Each stored original of a request that made several, by index; [] for one picture."""
        ...

    async def delete_own(
        self, platform: str, scope_id: str, generation_id: str, user_id: str
    ) -> GalleryItem | None:
        """Delete the row if `user_id` made it in this scope; the deleted item, or None."""
        ...

    async def set_hidden(
        self, platform: str, scope_id: str, generation_id: str, hidden: bool
    ) -> bool: ...

    async def gallery_enabled(self, platform: str, scope_id: str) -> bool: ...

    async def set_gallery_enabled(self, platform: str, scope_id: str, enabled: bool) -> None: ...

    async def gallery_generation(self, platform: str, scope_id: str) -> int | None:
        """The scope's current link generation, or None while its gallery is switched off."""
        ...

    async def revoke_gallery(self, platform: str, scope_id: str) -> None: ...

    async def scope_styles(self, platform: str, scope_id: str) -> list[StyleOption]:
        """The scope's own visible styles (`SCOPE_STYLES`)."""

    async def user_name(
        self, platform: str, scope_id: str, user_id: str, *, include_hidden: bool = False
    ) -> str | None:
        """The name of someone with a picture the viewer may see here, else None."""
        ...

    async def existing(self, generation_ids: list[str]) -> set[str]:
        """Which of these rows are still in the gallery (for sweeping the thumbnail cache)."""
        ...

    async def editor_link_used(self, nonce: str) -> bool: ...

    async def claim_editor_link(
        self, nonce: str, platform: str, user_id: str, generation_id: str, expires_at: float
    ) -> bool:
        """Store the use of the brush-editor link `nonce`: True the first time, False once
        it was used (a link works once)."""
        ...

    async def close(self) -> None: ...
