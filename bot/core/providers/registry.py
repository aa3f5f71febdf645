"""Builds the configured provider chain from settings."""

from __future__ import annotations

import httpx

from bot.core.providers.base import ImageProvider
from bot.core.providers.openai_images import OpenAIImagesProvider
from bot.settings import ConfigError, Settings


def build_providers(settings: Settings, http: httpx.AsyncClient) -> dict[str, ImageProvider]:
    """The providers of `IMAGE_PROVIDERS`, in order. Fails with a message naming what to set."""
    providers: dict[str, ImageProvider] = {}
    for provider_id in settings.providers:
        if provider_id == "openai":
            if settings.openai_api_key is None:
                raise ConfigError(
                    "IMAGE_PROVIDERS lists openai but OPENAI_API_KEY is not set: set OPENAI_API_KEY "
                    "(and OPENAI_BASE_URL for an OpenAI-compatible server)"
                )
            providers["openai"] = OpenAIImagesProvider(
                api_key=settings.openai_api_key.get_secret_value(),
                model=settings.openai_image_model,
                base_url=settings.openai_base_url,
                timeout=settings.openai_timeout_seconds,
                http=http,
                max_image_bytes=settings.max_image_bytes,
            )
        else:
            raise ConfigError(
                f"IMAGE_PROVIDERS: provider {provider_id!r} is not available in this build; "
                "set OPENAI_API_KEY to use OpenAI"
            )
    if not providers:
        raise ConfigError("no image provider configured: set OPENAI_API_KEY")
    return providers
