"""`imaginebot db copy`: history, settings, refusals and state from one store into another.

Typically from the SQLite file to PostgreSQL when a bot outgrows one process, but any pair
works. The target must be empty (a second copy would duplicate refusals, which have no key
of their own), and the whole copy is one transaction on the target: an interrupted copy
leaves it empty, never half-filled. With `--images-to`, image files (what the chat showed,
each image of a grid, an input picture, a community style's reference pictures and preview)
are copied into that folder (under their generated
names, never a name from the rows) and the rows point there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.errors import StoreUnavailable
from bot.core.store.base import COLUMNS, Store
from bot.core.store.executor import Executor
from bot.core.store.factory import BadDatabaseUrl, open_url
from bot.core.store.styles import STYLE_COLUMNS
from bot.settings import ConfigError, Settings
from bot.startup import StartupError, host_of

log = logging.getLogger(__name__)

# Table -> (columns copied, order read). Refusal ids are the target's own; generations go in
# creation order, so a parent row always exists before the rows made from it.
TABLES: dict[str, tuple[str, str]] = {
    "generations": (f"{COLUMNS}, hidden", "created_at, id"),
    "generation_images": ("generation_id, idx, path, width, height, seed", "generation_id, idx"),
    "refusals": ("platform, scope_id, user_id, code, reason, created_at", "id"),
    "scope_settings": (
        "platform, scope_id, default_style, allowed_styles, updated_at, daily_limit_per_user, "
        "daily_limit_per_scope, nsfw, max_pending_per_user, gallery, max_count, "
        "gallery_generation, language, members_language_wins",
        "platform, scope_id",
    ),
    "user_settings": (
        "platform, user_id, default_style, updated_at, language",
        "platform, user_id",
    ),
    "state": ("key, value", "key"),
    "community_styles": (STYLE_COLUMNS, "platform, scope_id, style_id"),
    "prompt_translations": ("key, model, english, created_at", "key, model"),
    "editor_link_uses": (
        "nonce, platform, user_id, generation_id, used_at, expires_at",
        "nonce",
    ),
}
BATCH = 500


class CopyRefused(ValueError):
    """The copy cannot start; the message says why in plain words."""


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)
    images_copied: int = 0
    images_missing: int = 0


async def _read(source: Store, table: str) -> list[dict[str, Any]]:
    columns, order = TABLES[table]
    rows: list[dict[str, Any]] = []
    while True:
        batch = await source.fetch(
            f"SELECT {columns} FROM {table} ORDER BY {order} LIMIT ? OFFSET ?",  # noqa: S608 - constants
            (BATCH, len(rows)),
        )
        rows += [dict(r) for r in batch]
        if len(batch) < BATCH:
            return rows


def _copied(path: object, stem: str, images_to: Path, report: CopyReport) -> str | None:
    """The file copied as `<stem><suffix>` (a name the bot generates, never one from the
    rows), or None when it is missing or not one of the bot's picture types."""
    if not path:
        return None
    source = Path(str(path))
    suffix = source.suffix.lower()
    if suffix not in (".png", ".jpg", ".webp"):
        report.images_missing += 1
        return None
    target = images_to / f"{stem}{suffix}"
    try:
        shutil.copyfile(source, target)
    except FileNotFoundError:
        report.images_missing += 1
        return None
    report.images_copied += 1
    return str(target.resolve())


def _move_images(
    data: dict[str, list[dict[str, Any]]], images_to: Path, report: CopyReport
) -> None:
    """Every file a row names: what the chat showed (`<id>.<ext>`), each image of a grid
    (`<id>-<k>.<ext>`), the input picture (`<id>-input.<ext>`) and an edit's mask
    (`<id>-mask.png`)."""
    images_to.mkdir(parents=True, exist_ok=True)
    shown: dict[str, str | None] = {}
    for row in data["generations"]:
        gen_id = str(row["id"])
        new = _copied(row.get("image_path"), gen_id, images_to, report)
        if new is not None:
            row["image_path"] = shown[gen_id] = new
        old_input = row.get("input_path")
        new = _copied(old_input, f"{gen_id}-input", images_to, report)
        if new is not None:
            row["input_path"] = new
            # An edit's mask lies beside its input picture, named by the generation id.
            mask = Path(str(old_input)).with_name(f"{gen_id}-mask.png")
            if mask.is_file():
                _copied(mask, f"{gen_id}-mask", images_to, report)
    for row in data["generation_images"]:
        gen_id = str(row["generation_id"])
        if Path(str(row["path"])).stem == gen_id:
            new = shown.get(gen_id)  # the one image is what the chat showed: copied already
        else:
            new = _copied(row["path"], f"{gen_id}-{int(row['idx'])}", images_to, report)
        row["path"] = new or row["path"]
    _move_style_files(data["community_styles"], images_to, report)


def _move_style_files(rows: list[dict[str, Any]], images_to: Path, report: CopyReport) -> None:
    """Community styles' reference pictures and previews, under new generated names."""
    for row in rows:
        refs = []
        for path in json.loads(row.get("refs") or "[]"):
            refs.append(_copied(path, f"{secrets.token_hex(8)}-input", images_to, report) or path)
        row["refs"] = json.dumps(refs)
        preview = row.get("preview_path")
        row["preview_path"] = _copied(preview, secrets.token_hex(8), images_to, report) or preview


async def _count_rows(store: Store) -> int:
    total = 0
    for table in TABLES:
        row = await store.fetchone(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - constants
        total += int(row[0]) if row else 0
    return total


async def copy_store(source: Store, target: Store, images_to: Path | None = None) -> CopyReport:
    if await _count_rows(target):
        raise CopyRefused(
            "the target database already holds history or settings; copy into an empty one "
            "(a second copy would duplicate rows)"
        )
    report = CopyReport()
    data = {table: await _read(source, table) for table in TABLES}
    if images_to is not None:
        await asyncio.to_thread(_move_images, data, images_to, report)

    async def write(tx: Executor) -> None:
        for table, rows in data.items():
            columns = TABLES[table][0]
            marks = ", ".join("?" for _ in columns.split(","))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - constants
            for row in rows:
                await tx.execute(sql, list(row.values()))
            report.rows[table] = len(rows)

    await target.transaction(write)
    return report


async def copy_databases(
    source_url: str, target_url: str, images_to: Path | None = None
) -> CopyReport:
    if source_url == target_url:
        raise CopyRefused("--from and --to name the same database")
    source = await open_url(source_url)
    try:
        target = await open_url(target_url)
        try:
            return await copy_store(source, target, images_to)
        finally:
            await target.close()
    finally:
        await source.close()


async def db_command(settings: Settings, args: argparse.Namespace) -> int:
    """`imaginebot db copy --from URL --to URL [--images-to DIR]`."""
    images_to = Path(args.images_to) if args.images_to else None
    try:
        report = await copy_databases(args.source, args.target, images_to)
    except (CopyRefused, BadDatabaseUrl) as exc:
        raise ConfigError(str(exc)) from None
    except StoreUnavailable:
        raise StartupError(
            "PostgreSQL did not answer at "
            f"{host_of(args.target if 'postgres' in args.target else args.source, 'the URL')}; "
            "start it or fix --from/--to"
        ) from None
    counts = ", ".join(f"{n} {table}" for table, n in report.rows.items())
    print(f"copied {counts}")
    if images_to is not None:
        print(
            f"images: {report.images_copied} copied to {images_to}, {report.images_missing} missing"
        )
    return 0
