"""WebP thumbnails, made once per picture with Pillow in worker processes, cached on disk.

Decoding and encoding run in worker processes at a lower priority (started on first use,
"spawn" so the bot's threads are not forked), never on the event loop: in threads, Pillow's work between its
GIL-free stretches still delayed the loop by up to ~50 ms on a busy two-core machine. A
picture asked for twice while its thumbnail is being made is made once. The cache belongs to
the web process (which may run on another machine than the bot), so that process also sweeps
it: a thumbnail whose picture left the gallery (deleted, forgotten, purged by retention) is
never served, since every request checks the row first, and its file goes at the next sweep.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import re
import tempfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from pathlib import Path

from PIL import Image

log = logging.getLogger(__name__)

THUMBNAIL_SIZE = 384
QUALITY = 80
_NAME = re.compile(r"^[0-9a-f]{1,64}$")


def render(source: Path, target: Path) -> None:
    """Decode `source`, shrink it to fit THUMBNAIL_SIZE, write WebP to `target` atomically."""
    with Image.open(source) as opened:
        opened.draft("RGB", (THUMBNAIL_SIZE, THUMBNAIL_SIZE))  # JPEG: decode at reduced size
        opened.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        image: Image.Image = opened
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".webp")
        try:
            with os.fdopen(fd, "wb") as handle:
                image.save(handle, "WEBP", quality=QUALITY, method=4)
            os.replace(tmp, target)  # a crash never leaves half a thumbnail
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


def background_priority() -> None:
    """In each worker process: thumbnails yield the CPU to the process serving the pages."""
    with suppress(OSError):
        os.nice(10)


class Thumbnails:
    def __init__(self, directory: Path, *, workers: int = 2) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._making: dict[str, asyncio.Future[Path]] = {}

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=background_priority,
            )
        return self._pool

    def path(self, generation_id: str) -> Path:
        if not _NAME.match(generation_id):
            raise ValueError("not a generation id")
        return self.directory / f"{generation_id}.webp"

    async def get(self, generation_id: str, source: Path) -> Path:
        """The cached thumbnail, made now if it is not there yet."""
        target = self.path(generation_id)
        if target.exists():
            return target
        pending = self._making.get(generation_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Path] = asyncio.get_running_loop().create_future()
        self._making[generation_id] = future
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._executor(), render, source, target
            )
            future.set_result(target)
        except BaseException as exc:
            if isinstance(exc, BrokenProcessPool):
                self._pool = None  # a worker died (killed, out of memory): a new pool next time
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        finally:
            del self._making[generation_id]
        return target

    def remove(self, generation_id: str) -> None:
        with suppress(FileNotFoundError, ValueError):
            self.path(generation_id).unlink()

    def cached_ids(self) -> list[str]:
        return [p.stem for p in self.directory.glob("*.webp") if _NAME.match(p.stem)]

    async def close(self) -> None:
        if self._pool is not None:
            await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)


async def sweep(thumbnails: Thumbnails, still_there: list[str], cached: list[str]) -> int:
    """Remove the cached thumbnails whose pictures are gone; return how many."""
    keep = set(still_there)
    gone = [gid for gid in cached if gid not in keep]
    for gid in gone:
        thumbnails.remove(gid)
    if gone:
        log.info("removed %d thumbnail(s) of pictures no longer in the gallery", len(gone))
    return len(gone)
