"""Files named by generation id: a request's style reference pictures are written, read back
in the order given and removed with the rest of the request."""

from __future__ import annotations

from pathlib import Path

from bot.core.images.files import ImageFiles
from tests.fakes.openai_images import make_png

GID = "0123456789abcdef"


def test_references_come_back_in_order_and_go_with_the_request(tmp_path: Path) -> None:
    files = ImageFiles(tmp_path)
    looks = (make_png(8, 8, "one"), make_png(9, 9, "two"), make_png(10, 10, "three"))
    files.write_references(GID, looks)
    path, _w, _h = files.write(GID, make_png(16, 16, "result"))
    assert files.read_references(GID) == looks
    assert files.read_references("fedcba9876543210") == ()
    assert files.read_references("../etc") == ()  # not a generation id: nothing is read
    files.remove(str(path))  # what retention and forget-me call with the row's path
    assert list(tmp_path.iterdir()) == []
