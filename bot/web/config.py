"""Where the gallery listens, where its links point, and where its files are."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.web.links import GalleryLinks
from bot.web.queries import GalleryStore
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
    host: str = "127.0.0.1"  # WEB_HOST: the Docker image listens on 0.0.0.0
    # postgresql://... when the bot's store is PostgreSQL; None: the SQLite file above.
    database_url: str | None = field(default=None, repr=False)  # may carry a password

    @property
    def thumbnails_dir(self) -> Path:
        return self.data_dir / "thumbnails"

    def signer(self) -> Signer:
        return Signer(load_key(self.secret, self.data_dir))

    def links(self) -> GalleryLinks:
        return GalleryLinks(self.signer(), self.public_url, self.link_hours)

    async def open_store(self) -> GalleryStore:
        """The gallery's queries on the bot's store: PostgreSQL or the SQLite file."""
        if self.database_url is not None:
            from bot.web.postgres import PostgresGallery

            return await PostgresGallery.open(self.database_url)
        from bot.web.sqlite import SqliteGallery

        return await SqliteGallery.open(self.database_path)
