"""The gallery inside the bot process: links for `/gallery`, and the server when WEB_PORT is set
(with the brush editor: its links for the 🖌 buttons, and the chat desks its edits go to)."""

from __future__ import annotations

import logging

from bot.settings import Settings
from bot.web.access import GalleryAccess, StoreGalleryAccess
from bot.web.commands import web_config
from bot.web.edit_orders import EditorSetup
from bot.web.links import EditorLinks
from bot.web.queries import GalleryStore

log = logging.getLogger(__name__)


class EmbeddedGallery:
    def __init__(self, settings: Settings, access: GalleryAccess, store: GalleryStore) -> None:
        self.settings = settings
        self.access = access
        self._store = store
        self._server: object | None = None
        # The editor is served only here, beside the bot: only this process can queue an edit
        # and post it back. The bootstrap fills in the desks once the adapters exist.
        self.editor_links: EditorLinks | None = None
        self.edits: EditorSetup | None = None
        if settings.web_port is not None:
            config = web_config(settings)
            self.editor_links = EditorLinks(
                config.signer(),
                config.public_url,
                settings.editor_link_hours,
                settings.telegram_webapp_name,
            )

    @classmethod
    async def open(cls, settings: Settings) -> EmbeddedGallery | None:
        """None when neither PUBLIC_URL nor WEB_PORT is set: `/gallery` then says so."""
        if settings.gallery_url is None:
            return None
        config = web_config(settings)
        store = await config.open_store()
        return cls(settings, StoreGalleryAccess(config.links(), store), store)

    async def start(self) -> None:
        if self.settings.web_port is None:
            return  # links point to a gallery served elsewhere (`imaginebot web`)
        from bot.web.server import GalleryServer

        server = GalleryServer(web_config(self.settings), edits=self.edits)
        await server.start()
        self._server = server

    async def close(self) -> None:
        from bot.web.server import GalleryServer

        if isinstance(self._server, GalleryServer):
            await self._server.stop()
        await self._store.close()
