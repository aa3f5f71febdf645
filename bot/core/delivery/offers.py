"""The follow-up buttons a finished generation offers: decided when it is delivered, and
again when a follow-up is pressed, from what the provider chain can do."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.generation.providers.base import Capabilities
from bot.core.models import FollowUps, Generation, Kind


def edits_possible(capabilities: Mapping[str, Capabilities]) -> tuple[bool, bool, bool]:
    """Which edits (region, outpaint, words) some provider can make: only a provider that
    takes an image can edit one, and the chain falls back to the first that can."""
    usable = [c for c in capabilities.values() if c.image_input]
    return (
        any(c.inpaint for c in usable),
        any(c.outpaint for c in usable),
        any(c.edit_by_words for c in usable),
    )


def follow_ups_for(generation: Generation, capabilities: Mapping[str, Capabilities]) -> FollowUps:
    """The buttons a finished generation offers, from what the provider chain can do."""
    if generation.kind is Kind.DESCRIBE:
        return FollowUps(info=True, delete=True, imagine_suggestions=bool(generation.suggestions))
    upscaler = next((c.upscaler for c in capabilities.values() if c.upscaler), None)
    takes_images = any(c.image_input for c in capabilities.values())
    again = generation.kind is not Kind.UPSCALE  # an upscale is one picture, not a request
    region, outpaint, words = edits_possible(capabilities) if generation.images else (False,) * 3
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
        edit_region=region,
        outpaint=outpaint,
        edit_words=words,
    )
