"""`/healthz` and `/metrics` on HEALTH_PORT, for the bot and for workers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[bool]]


class HealthServer:
    """Serves named checks; /healthz is 200 when every check passes, 503 naming the failing
    ones otherwise."""

    def __init__(
        self,
        port: int,
        checks: dict[str, Check],
        before_scrape: Callable[[], Awaitable[None]] | None = None,
        host: str = "0.0.0.0",  # noqa: S104 - probes come from outside the container
    ) -> None:
        self.port = port
        self.host = host
        self.checks = checks
        self.before_scrape = before_scrape
        self._runner: web.AppRunner | None = None

    async def healthz(self, _request: web.Request) -> web.Response:
        results: dict[str, bool] = {}
        for name, check in self.checks.items():
            try:
                results[name] = bool(await check())
            except Exception:
                results[name] = False
        failing = [name for name, ok in results.items() if not ok]
        body = {"ok": not failing, "checks": results, "failing": failing}
        return web.json_response(body, status=503 if failing else 200)

    async def metrics(self, _request: web.Request) -> web.Response:
        if self.before_scrape is not None:
            try:
                await self.before_scrape()
            except Exception:
                log.debug("metrics refresh failed", exc_info=True)
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        log.info("health and metrics on port %d", self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
