"""A community style's preview: the same four sample prompts, one seed, one labelled grid.

Creating or editing a style queues four ordinary requests (one per sample prompt, the same
seed, the style's aspect) through admission, so they pass the same checks and count against
the scope's limits (per picture) under requesters of their own, `preview:<scope id>:<tile>`:
never the admin's. Their rows' handle names the style (`STYLE_PREVIEW`), so the delivery sends them
here, not to a chat; when the fourth picture is in, this composes the labelled grid (off the
event loop), stores it under a name the bot makes and records it on the style. The rows are
hidden from the gallery's members (the grid is what shows the style).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from pathlib import Path

from bot.core.images.files import ImageFiles
from bot.core.images.pixels import labelled_grid
from bot.core.models import (
    MAX_SEED,
    PREVIEWS,
    STYLE_PREVIEW,
    Generation,
    ImagineCommand,
    ReplyTarget,
    Requester,
    Scope,
    StatusUpdate,
    Style,
)
from bot.core.requests.admission import Admission
from bot.core.requests.community_styles import CommunityStyles
from bot.core.store import Store

log = logging.getLogger(__name__)

SAMPLES = (
    "a lighthouse on a cliff at dusk",
    "a portrait of an old fisherman",
    "a bowl of fruit on a wooden table",
    "a city street after rain",
)
BATCH = "preview_batch"
INDEX = "preview_index"
WINDOW_SECONDS = 24 * 3600.0  # a batch's rows are looked for among this recent past


def preview_requester(scope: Scope, tile: int) -> Requester:
    """Who tile `tile` of a scope's previews is made for: the scope itself, never the admin."""
    return Requester(
        platform=scope.platform, user_id=f"preview:{scope.id}:{tile}", display_name="preview"
    )


class StylePreviews:
    """Queues previews, and is the result channel their rows are delivered to."""

    platform = PREVIEWS

    def __init__(
        self, admission: Admission, store: Store, files: ImageFiles, community: CommunityStyles
    ) -> None:
        self._admission = admission
        self._store = store
        self._files = files
        self._community = community

    async def request(self, scope: Scope, style: Style) -> str:
        """Queue the four pictures of `style`'s preview; returns the batch. Raises the
        core's refusal (a limit reached, a hidden style) in plain words."""
        batch = secrets.token_hex(8)
        seed = secrets.randbelow(MAX_SEED + 1)
        # The four checked together first (the scope's limits, as one request of four
        # pictures), then each: nothing is queued unless all four may be. Each tile has a
        # requester of its own, so one person's waiting limit never holds the preview up.
        together = ImagineCommand(prompt=SAMPLES[0], style=style.code, count=len(SAMPLES))
        await self._admission.prepare(preview_requester(scope, 1), scope, together)
        prepared = [
            await self._admission.prepare(
                preview_requester(scope, index),
                scope,
                ImagineCommand(prompt=sample, style=style.code, seed=seed, count=1),
            )
            for index, sample in enumerate(SAMPLES, start=1)
        ]
        for index, one in enumerate(prepared, start=1):
            target = ReplyTarget(
                platform=scope.platform,
                chat_id=f"preview:{scope.id}",
                nsfw_ok=False,
                handle={STYLE_PREVIEW: style.id, BATCH: batch, INDEX: index},
            )
            await self._admission.submit(one, target)
        log.info(
            "scope %s:%s: preview %s of style %s queued",
            *scope.model_dump().values(),
            batch,
            style.id,
        )
        return batch

    # -- the result channel ---------------------------------------------------------------------

    async def show_status(self, generation: Generation, update: StatusUpdate) -> None:
        return None

    async def report_failure(self, generation: Generation) -> None:
        log.info(
            "generation %s: a preview picture of style %s failed (%s)",
            generation.id,
            generation.handle.get(STYLE_PREVIEW),
            generation.failure_code,
        )

    async def deliver(self, generation: Generation, image_path: Path) -> None:
        """One picture of a preview is in; with all four, the grid is made and recorded."""
        await self._store.execute(
            "UPDATE generations SET hidden = 1 WHERE id = ?", (generation.id,)
        )
        batch = str(generation.handle.get(BATCH, ""))
        rows = await self._store.fetch(
            "SELECT id, handle, image_path, status FROM generations "
            "WHERE platform = ? AND scope_id = ? AND user_id LIKE ? AND created_at > ?",
            (
                generation.platform,
                generation.scope_id,
                f"preview:{generation.scope_id}:%",
                time.time() - WINDOW_SECONDS,
            ),
        )
        tiles: dict[int, str] = {}
        for row in rows:
            handle = json.loads(row["handle"] or "{}")
            done = row["status"] in ("done", "delivered") or row["id"] == generation.id
            if handle.get(BATCH) == batch and done and row["image_path"]:
                tiles[int(handle.get(INDEX, 0))] = str(row["image_path"])
        if sorted(tiles) != list(range(1, len(SAMPLES) + 1)):
            return
        await self._record(generation, batch, [tiles[i] for i in sorted(tiles)])

    async def _record(self, generation: Generation, batch: str, paths: list[str]) -> None:
        def compose() -> str:
            pictures = [self._files.read(p) for p in paths]
            return str(self._files.write_grid(batch, labelled_grid(pictures, SAMPLES)))

        path = await asyncio.to_thread(compose)
        scope = Scope(platform=generation.platform, id=generation.scope_id)
        style_id = str(generation.handle.get(STYLE_PREVIEW))
        old = await self._store.community_style(scope.platform, scope.id, style_id)
        if old is None:  # deleted or renamed meanwhile: this preview shows nothing now
            self._files.remove(path)
            return
        await self._store.set_style_preview(scope.platform, scope.id, style_id, path)
        if old["preview_path"] and old["preview_path"] != path:
            self._files.remove(old["preview_path"])
        await self._community.changed(scope)
        log.info("scope %s:%s: preview of style %s made", scope.platform, scope.id, style_id)
