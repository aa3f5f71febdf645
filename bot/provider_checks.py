"""Every configured image provider asked whether it answers: for `imaginebot providers`, and
logged at the start of a process that generates."""

from __future__ import annotations

import asyncio
import logging

from bot.core.generation.providers.base import Capabilities, ImageProvider
from bot.core.generation.providers.registry import build_providers
from bot.http_client import http_client
from bot.settings import Settings

log = logging.getLogger("bot.cli")


OPENAI_DEFAULT_URL = "https://api.openai.com/v1"


def provider_url(settings: Settings, provider_id: str) -> str:
    """The address a provider is reached at, as configured (named when its check fails)."""
    urls = {
        "openai": settings.openai_base_url or OPENAI_DEFAULT_URL,
        "horde": settings.horde_api_url,
        "sdwebui": settings.sdwebui_url,
        "comfyui": settings.comfyui_url,
    }
    return urls.get(provider_id) or "(no URL set)"


async def check_providers(settings: Settings) -> list[tuple[str, bool, str]]:
    """(provider, ok, detail) for every configured provider, in chain order; a failing one's
    detail names the URL that was asked."""

    async def one(provider_id: str, provider: ImageProvider) -> tuple[str, bool, str]:
        try:
            check = await provider.check()
        except Exception as exc:  # one broken provider must not hide the others' results
            check_ok, detail = False, f"check failed: {exc.__class__.__name__}"
        else:
            check_ok, detail = check.ok, check.detail
        finally:
            await provider.aclose()
        if not check_ok:
            detail = f"{detail} (asked {provider_url(settings, provider_id)})"
        return provider_id, check_ok, detail

    async with http_client(settings) as http:
        built = build_providers(settings, http)
        # Side by side: a slow provider's timeout does not add to the others'.
        return list(await asyncio.gather(*(one(p, provider) for p, provider in built.items())))


async def capabilities_of(settings: Settings) -> dict[str, Capabilities]:
    """What each configured provider declares it can do (no provider is called)."""
    async with http_client(settings) as http:
        built = build_providers(settings, http)
        try:
            return {pid: provider.capabilities for pid, provider in built.items()}
        finally:
            for provider in built.values():
                await provider.aclose()


async def log_provider_checks(settings: Settings) -> None:
    try:
        for provider_id, ok, detail in await check_providers(settings):
            level = logging.INFO if ok else logging.WARNING
            log.log(level, "provider %s: %s (%s)", provider_id, "ok" if ok else "FAILING", detail)
    except Exception:
        log.warning("provider checks failed", exc_info=True)
