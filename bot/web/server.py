"""Running the gallery: in `imaginebot web` on its own, or beside the bot in `imaginebot run`."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from aiohttp import web

from bot.core.requests.styles import load_catalogue
from bot.web.app import Gallery
from bot.web.config import WebConfig
from bot.web.edit_orders import EditorSetup
from bot.web.routes import build_app
from bot.web.thumbnails import Thumbnails, sweep

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60.0


class GalleryServer:
    """The gallery's HTTP server and its thumbnail sweeper. `start`, then `stop`."""

    def __init__(
        self,
        config: WebConfig,
        *,
        sweep_seconds: float = SWEEP_SECONDS,
        edits: EditorSetup | None = None,
    ) -> None:
        self.config = config
        self.edits = edits
        self.sweep_seconds = sweep_seconds
        self.gallery: Gallery | None = None
        self._runner: web.AppRunner | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self.port = config.port

    async def start(self) -> None:
        config = self.config
        store = await config.open_store()
        self.gallery = Gallery(
            store=store,
            signer=config.signer(),
            thumbnails=Thumbnails(config.thumbnails_dir),
            images_dir=config.images_dir,
            styles=load_catalogue(),
            secure_cookies=config.public_url.startswith("https://"),
        )
        # No access log: a link's query string is its token, and tokens are never logged.
        self._runner = web.AppRunner(
            build_app(self.gallery, self.edits), handle_signals=False, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, config.host, config.port)
        await site.start()
        if config.port == 0:  # tests ask for any free port
            self.port = self._runner.addresses[0][1]
        self._sweeper = asyncio.create_task(self._sweep_forever())
        log.info("gallery on port %d, links point to %s", self.port, config.public_url)

    async def sweep_once(self) -> int:
        assert self.gallery is not None
        cached = self.gallery.thumbnails.cached_ids()
        still_there = await self.gallery.store.existing(cached)
        return await sweep(self.gallery.thumbnails, sorted(still_there), cached)

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("thumbnail sweep failed; trying again later")
            await asyncio.sleep(self.sweep_seconds)

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with suppress(asyncio.CancelledError):
                await self._sweeper
        if self._runner is not None:
            await self._runner.cleanup()
        if self.gallery is not None:
            await self.gallery.thumbnails.close()
            await self.gallery.store.close()
