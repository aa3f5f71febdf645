"""One request's images in the store: each image's own row, a result's crop note and
suggestions, and the per-image counts the daily limits are rebuilt from."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.core.models import Generation, StoredImage
from bot.core.store.executor import Executor


class ImageQueries(Executor):
    async def record_images(
        self,
        generation_id: str,
        images: Sequence[StoredImage],
        *,
        crop_note: str | None = None,
        suggestions: Sequence[str] = (),
    ) -> None:
        """Each image's row and the result's details; storing again overwrites, so a
        replayed completion event changes nothing."""
        await self.execute(
            "UPDATE generations SET crop_note = CAST(? AS TEXT), suggestions = ? WHERE id = ?",
            (crop_note, json.dumps(list(suggestions)), generation_id),
        )
        if not images:
            return
        marks = ", ".join("(?, ?, ?, ?, ?, CAST(? AS BIGINT))" for _ in images)
        params: list[Any] = []
        for image in images:
            params += [
                generation_id,
                image.index,
                image.path,
                image.width,
                image.height,
                image.seed,
            ]
        await self.execute(
            f"INSERT INTO generation_images (generation_id, idx, path, width, height, seed) "  # noqa: S608 - marks are ours
            f"VALUES {marks} ON CONFLICT (generation_id, idx) DO UPDATE SET path = excluded.path, "
            "width = excluded.width, height = excluded.height, seed = excluded.seed",
            params,
        )

    async def images(self, generation_id: str) -> tuple[StoredImage, ...]:
        rows = await self.fetch(
            "SELECT idx, path, width, height, seed FROM generation_images "
            "WHERE generation_id = ? ORDER BY idx",
            (generation_id,),
        )
        return tuple(
            StoredImage(index=r[0], path=r[1], width=r[2], height=r[3], seed=r[4]) for r in rows
        )

    async def with_images(self, generation: Generation) -> Generation:
        """The row with its images (rows made before per-image storage have none here)."""
        images = await self.images(generation.id)
        return generation.model_copy(update={"images": images}) if images else generation

    async def accepted_images_since(self, since: float) -> list[tuple[str, str, str, int]]:
        """(platform, user_id, scope_id, images) per request accepted since `since`: each
        image counts against the daily limits."""
        rows = await self.fetch(
            "SELECT platform, user_id, scope_id, count FROM generations WHERE created_at >= ? "
            "AND COALESCE(failure_code, '') != 'queue_unavailable'",
            (float(since),),
        )
        return [(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]
