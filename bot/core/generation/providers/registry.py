"""Builds the configured provider chain from settings.

Each provider's module is imported only when IMAGE_PROVIDERS names it, so a process carries
the code (and libraries) of the providers it uses and no others.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.settings import ConfigError, Settings

if TYPE_CHECKING:
    import httpx

    from bot.core.generation.providers.base import Capabilities, ImageOperations, ImageProvider


def _openai(settings: Settings, http: httpx.AsyncClient) -> ImageOperations:
    if settings.openai_api_key is None:
        raise ConfigError(
            "IMAGE_PROVIDERS lists openai but OPENAI_API_KEY is not set: set OPENAI_API_KEY "
            "(and OPENAI_BASE_URL for an OpenAI-compatible server)"
        )
    from bot.core.generation.providers.openai_images import OpenAIImagesProvider

    return OpenAIImagesProvider(
        api_key=settings.openai_api_key.get_secret_value(),
        model=settings.openai_image_model,
        base_url=settings.openai_base_url,
        timeout=settings.openai_timeout_seconds,
        max_image_bytes=settings.max_image_bytes,
        http=http,
        vision_model=settings.openai_vision_model or None,
    )


def build_provider(
    provider_id: str, settings: Settings, http: httpx.AsyncClient
) -> ImageOperations:
    if provider_id == "openai":
        return _openai(settings, http)
    if provider_id == "horde":
        from bot.core.generation.providers.horde import HordeProvider

        return HordeProvider(
            http=http,
            api_url=settings.horde_api_url,
            api_key=settings.horde_api_key.get_secret_value(),
            models=settings.horde_models,
            deadline_seconds=settings.provider_deadline_seconds,
            max_image_bytes=settings.max_image_bytes,
        )
    if provider_id == "sdwebui":
        if not settings.sdwebui_url:
            raise ConfigError("IMAGE_PROVIDERS lists sdwebui but SDWEBUI_URL is not set")
        auth = None
        if settings.sdwebui_user:
            password = (
                settings.sdwebui_password.get_secret_value() if settings.sdwebui_password else ""
            )
            auth = (settings.sdwebui_user, password)
        from bot.core.generation.providers.sdwebui import SDWebUIProvider

        return SDWebUIProvider(
            http=http,
            url=settings.sdwebui_url,
            auth=auth,
            base_size=settings.sdwebui_base_size,
            timeout=settings.provider_deadline_seconds,
            # The image arrives base64-encoded inside JSON: 4/3 of its size, plus the info.
            max_response_bytes=settings.max_image_bytes * 4 // 3 + 1024 * 1024,
            reference_model=settings.sdwebui_reference_model,
            reference_module=settings.sdwebui_reference_module,
        )
    if provider_id == "comfyui":
        if not settings.comfyui_url:
            raise ConfigError("IMAGE_PROVIDERS lists comfyui but COMFYUI_URL is not set")
        from bot.core.generation.providers.comfyui import ComfyUIProvider, load_workflow

        try:
            workflow = load_workflow(settings.comfyui_workflow)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"COMFYUI_WORKFLOW: {exc}") from None
        return ComfyUIProvider(
            reference_workflow=_reference_workflow(settings),
            http=http,
            url=settings.comfyui_url,
            workflow=workflow,
            model=settings.comfyui_model,
            base_size=settings.comfyui_base_size,
            deadline_seconds=settings.provider_deadline_seconds,
            max_image_bytes=settings.max_image_bytes,
        )
    raise ConfigError(f"IMAGE_PROVIDERS: unknown provider {provider_id!r}")


def _reference_workflow(settings: Settings) -> dict[str, Any] | None:
    """COMFYUI_REFERENCE_WORKFLOW: "shipped" for workflows/reference.json, a path, or none."""
    from bot.core.generation.providers.comfyui_workflow import load_workflow

    chosen = settings.comfyui_reference_workflow
    if not chosen:
        return None
    try:
        path = None if chosen == "shipped" else Path(chosen)
        return load_workflow(path, "reference")
    except (OSError, ValueError) as exc:
        raise ConfigError(f"COMFYUI_REFERENCE_WORKFLOW: {exc}") from None


def build_providers(settings: Settings, http: httpx.AsyncClient) -> dict[str, ImageProvider]:
    """The providers of `IMAGE_PROVIDERS`, in order. Fails with a message naming what to set.

    Every process that receives pictures builds its providers here, so this is also where
    Pillow's pixel limit for the process is set (MAX_IMAGE_PIXELS)."""
    from bot.core.images.pixels import limit_pixels

    limit_pixels(settings.max_image_pixels)
    return {pid: build_provider(pid, settings, http) for pid in settings.providers}


def provider_capabilities(providers: Mapping[str, ImageProvider]) -> dict[str, Capabilities]:
    """What each provider of the chain declares, in chain order: for `chain.select` and, with
    `chain.capability_rows`, for `imaginebot providers`."""
    return {pid: provider.capabilities for pid, provider in providers.items()}
