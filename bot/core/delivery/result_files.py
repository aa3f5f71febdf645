"""A finished request's files: each image on its own, and the grid the chat shows.

One image is stored as `<id>.<ext>` and is itself what the chat shows; several are stored
as `<id>-1.<ext>` ... `<id>-4.<ext>`, byte for byte as the provider made them, and the grid
(`images.compose_grid`, a JPEG with tile numbers) as `<id>.jpg`. The worker composes the
grid and sends it with the images; only a done event without one (from a worker of an older
release) has it composed here. Runs in a thread: it reads picture headers, writes files and
may compose. Storing again overwrites, so a replayed event changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.images.files import ImageFiles
from bot.core.images.pixels import compose_grid, inspect
from bot.core.messages import Done
from bot.core.models import StoredImage


@dataclass(frozen=True)
class StoredResult:
    images: tuple[StoredImage, ...]
    path: str | None  # what the chat shows: the one image or the grid (None: a describe)
    width: int | None
    height: int | None


def store_result(files: ImageFiles, generation_id: str, event: Done) -> StoredResult:
    pictures = event.pictures
    seeds = [image.seed for image in event.images] or [event.seed]
    if not pictures:
        return StoredResult((), None, None, None)
    if len(pictures) == 1:
        path, width, height = files.write(generation_id, pictures[0])
        image = StoredImage(index=1, path=str(path), width=width, height=height, seed=seeds[0])
        return StoredResult((image,), str(path), width, height)
    images = []
    for index, (data, seed) in enumerate(zip(pictures, seeds, strict=True), start=1):
        path, width, height = files.write(generation_id, data, part=str(index))
        images.append(
            StoredImage(index=index, path=str(path), width=width, height=height, seed=seed)
        )
    if event.grid:
        info = inspect(event.grid)  # the worker's JPEG, checked like any picture it sends
        grid, width, height = event.grid, info.width, info.height
    else:
        composed = compose_grid(pictures)
        grid, width, height = composed.data, composed.width, composed.height
    grid_path = files.write_grid(generation_id, grid)
    return StoredResult(tuple(images), str(grid_path), width, height)
