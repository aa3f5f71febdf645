"""Thumbnails: WebP within the size, made in worker processes, a dead worker replaced."""

from __future__ import annotations

import asyncio
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest
from PIL import Image

from bot.web.thumbnails import THUMBNAIL_SIZE, Thumbnails


def picture(path: Path, size: tuple[int, int], mode: str = "RGB") -> Path:
    Image.new(mode, size, "red" if mode == "RGB" else 120).save(path)
    return path


@pytest.mark.e2e  # the thumbnail worker is a process
async def test_thumbnails_fit_the_size_keep_the_shape_and_are_webp(tmp_path: Path) -> None:
    thumbs = Thumbnails(tmp_path / "thumbs", workers=1)
    try:
        wide = await thumbs.get("aa", picture(tmp_path / "a.png", (1536, 1024)))
        grey = await thumbs.get("bb", picture(tmp_path / "b.png", (100, 80), "L"))
        with Image.open(wide) as image:
            assert image.format == "WEBP" and image.size == (THUMBNAIL_SIZE, 256)
        with Image.open(grey) as image:
            assert image.format == "WEBP" and image.size == (100, 80)  # never enlarged
        assert sorted(thumbs.cached_ids()) == ["aa", "bb"]
        with pytest.raises(ValueError):
            thumbs.path("../etc/passwd")
    finally:
        await thumbs.close()


@pytest.mark.e2e  # the thumbnail worker is a process
async def test_a_dead_worker_process_is_replaced(tmp_path: Path) -> None:
    thumbs = Thumbnails(tmp_path / "thumbs", workers=1)
    source = picture(tmp_path / "a.png", (64, 64))
    try:
        await thumbs.get("aa", source)
        pool = thumbs._pool
        assert pool is not None
        for worker in list(pool._processes.values()):  # type: ignore[union-attr]
            worker.kill()
        await asyncio.sleep(0.5)
        with pytest.raises(BrokenProcessPool):
            await thumbs.get("bb", source)
        assert (await thumbs.get("bb", source)).exists()
    finally:
        await thumbs.close()
