"""Image files under DATA_DIR/images, named by generation id only (never by user input).

One request's files all start with its generation id: `<id>.<ext>` is what the chat got
(the one image, or the grid of several; the gallery reads it), `<id>-<k>.<ext>` image k of a
grid, `<id>-input.<ext>` the cleaned picture it started from (an edit's canvas),
`<id>-mask.png` an edit's mask, and `<id>-ref1.<ext>` ... `<id>-ref4.<ext>` the cleaned style
reference pictures it follows. Removing any of them removes
them all, so retention and forget-me, which know one path of a row, leave nothing behind.
"""

from __future__ import annotations

import os
import re
import tempfile
from contextlib import suppress
from pathlib import Path

from bot.core.images.pixels import file_type, inspect

_GENERATION_ID = re.compile(r"[0-9a-f]{8,64}")
_GENERATION_FILE = re.compile(
    r"^([0-9a-f]{8,64})(?:-(?:[1-4]|input|mask|ref[1-4]))?\.(?:png|jpg|webp)$"
)


class ImageFiles:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def write(
        self, generation_id: str, data: bytes, *, part: str | None = None
    ) -> tuple[Path, int, int]:
        """Store a checked picture as `<id>[-<part>].<ext>`; `part` is an image index
        ("1"-"4") or "input". Raises BadImage for what is not a picture within the limits."""
        info = inspect(data)  # raises BadImage: over the pixel limit, or not a picture
        extension = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}.get(info.format, "png")
        stem = generation_id if part is None else f"{generation_id}-{part}"
        path = self.directory / f"{stem}.{extension}"
        self._put(path, data)
        return path, info.width, info.height

    def write_inputs(
        self, generation_id: str, picture: bytes | None, mask: bytes | None
    ) -> str | None:
        """What a request starts from: its input picture (an edit's canvas) as
        `<id>-input.<ext>` and an edit's checked mask (`canvases`) as `<id>-mask.png`, both
        named by the generation id, so forget-me and retention remove them with the rest.
        Returns the input's path."""
        if mask is not None:
            self._put(self.directory / f"{generation_id}-mask.png", mask)
        if picture is None:
            return None
        path, _width, _height = self.write(generation_id, picture, part="input")
        return str(path)

    def read_mask(self, generation_id: str) -> bytes | None:
        """An edit's mask, or None when it has none (an edit by words)."""
        if not _GENERATION_ID.fullmatch(generation_id):
            return None
        try:
            return (self.directory / f"{generation_id}-mask.png").read_bytes()
        except FileNotFoundError:
            return None

    def write_references(self, generation_id: str, pictures: tuple[bytes, ...]) -> None:
        """A request's checked style reference pictures, `<id>-ref1` to `<id>-ref4`, named by
        the generation id like its input picture (removed with it)."""
        for number, picture in enumerate(pictures[:4], start=1):
            self.write(generation_id, picture, part=f"ref{number}")

    def references(self, generation_id: str) -> list[Path]:
        """The files of the request's style reference pictures, in the order given."""
        if not _GENERATION_ID.fullmatch(generation_id):
            return []
        found = []
        for path in self.directory.glob(f"{generation_id}-ref[1-4].*"):
            match = _GENERATION_FILE.match(path.name)
            if match is not None and match.group(1) == generation_id:
                found.append(path)
        return sorted(found, key=lambda p: p.name)

    def read_references(self, generation_id: str) -> tuple[bytes, ...]:
        """The request's style reference pictures in the order given (none: empty)."""
        return tuple(path.read_bytes() for path in self.references(generation_id))

    def write_grid(self, generation_id: str, data: bytes) -> Path:
        """The grid the chat shows, a JPEG made by the bot itself."""
        extension, _mime = file_type(data)
        path = self.directory / f"{generation_id}.{extension}"
        self._put(path, data)
        return path

    def _put(self, path: Path, data: bytes) -> None:
        # Write-then-rename: a crash never leaves half a file, and storing twice overwrites.
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)

    def read(self, path: str) -> bytes:
        """A stored file's bytes; only files in this directory are read."""
        candidate = Path(path)
        if candidate.parent.resolve() != self.directory.resolve():
            raise FileNotFoundError(path)
        return candidate.read_bytes()

    def remove(self, path: str | None) -> None:
        """Remove a stored file and every other file of the same request."""
        if not path:
            return
        candidate = Path(path)
        if candidate.parent.resolve() != self.directory.resolve():
            return
        match = _GENERATION_FILE.match(candidate.name)
        if match is None:
            with suppress(FileNotFoundError):
                candidate.unlink()
            return
        self.remove_generation(match.group(1))

    def remove_generation(self, generation_id: str) -> None:
        for found in self.directory.glob(f"{generation_id}*"):
            match = _GENERATION_FILE.match(found.name)
            if match is not None and match.group(1) == generation_id:
                with suppress(FileNotFoundError):
                    found.unlink()
