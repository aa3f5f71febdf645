"""Image files under DATA_DIR/images, named by generation id only (never by user input)."""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from pathlib import Path

from bot.core.images import inspect


class ImageFiles:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def write(self, generation_id: str, data: bytes) -> tuple[Path, int, int]:
        info = inspect(data)  # raises BadImage: over the pixel limit, or not a picture
        width, height = info.width, info.height
        extension = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}.get(info.format, "png")
        path = self.directory / f"{generation_id}.{extension}"
        # Write-then-rename: a crash never leaves half a file, and storing twice overwrites.
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
        return path, width, height

    def remove(self, path: str | None) -> None:
        if path:
            candidate = Path(path)
            if candidate.parent.resolve() == self.directory.resolve():
                with suppress(FileNotFoundError):
                    candidate.unlink()
