"""The follow-up buttons a finished generation offers: decided when it is delivered, and
again when a follow-up is pressed, from what the provider chain can do."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.generation.providers.base import Capabilities
from bot.core.models import FollowUps, Generation, Kind


def follow_ups_for(generation: Generation, capabilities: Mapping[str, Capabilities]) -> FollowUps:
    """The buttons a finished generation offers, from what the provider chain can do."""
    if generation.kind is Kind.DESCRIBE:
        return FollowUps(info=True, delete=True, imagine_suggestions=bool(generation.suggestions))
    upscaler = next((c.upscaler for c in capabilities.values() if c.upscaler), None)
    takes_images = any(c.image_input for c in capabilities.values())
    again = generation.kind is not Kind.UPSCALE  # an upscale is one picture, not a request
    return FollowUps(
        upscale=again,
        upscaler=upscaler,
        vary=takes_images,
        remix=True,
        reroll=again,
        restyle=again,
        info=True,
        delete=True,
        share=True,
    )
