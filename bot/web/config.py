"""Where the gallery listens, where its links point, and where its files are."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.web.links import GalleryLinks
from bot.web.signing import Signer, load_key


@dataclass(frozen=True)
class WebConfig:
    port: int
    public_url: str
    secret: str | None
    link_hours: float
    data_dir: Path
    database_path: Path
    images_dir: Path
    host: str = "0.0.0.0"  # noqa: S104 - a reverse proxy or the users reach it from outside

    @property
    def thumbnails_dir(self) -> Path:
        return self.data_dir / "thumbnails"

    def signer(self) -> Signer:
        return Signer(load_key(self.secret, self.data_dir))

    def links(self) -> GalleryLinks:
        return GalleryLinks(self.signer(), self.public_url, self.link_hours)
