"""The one shared HTTP client of a process (providers, moderation); every call has a timeout."""

from __future__ import annotations

import httpx

from bot import __version__
from bot.settings import Settings


def http_client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.openai_timeout_seconds, connect=10.0),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        headers={"User-Agent": f"imaginebot/{__version__}"},
        follow_redirects=False,
    )
