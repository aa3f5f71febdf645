"""The shape checks of a command, each refusal in plain words naming the numbers involved."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.errors import EmptyPrompt, PromptTooLong, UnsupportedAspect
from bot.core.generation.providers.base import Capabilities
from bot.core.models import ASPECT_RATIOS


def check_negative_prompt(negative: str | None, limit: int) -> None:
    if negative and len(negative) > limit:
        raise PromptTooLong(
            f"Your negative prompt is {len(negative):,} characters long; the limit is {limit:,}."
        )


def check_aspect(aspect: str, capabilities: Mapping[str, Capabilities]) -> None:
    """Any ratio both platforms show well (`ASPECT_RATIOS`) is made by every provider: at the
    provider's nearest size, then centre-cropped to the exact ratio. Others are refused."""
    if aspect not in ASPECT_RATIOS or not capabilities:
        names = ", ".join(capabilities) or "none"
        raise UnsupportedAspect(
            f"The image service ({names}) cannot make {aspect} pictures. "
            f"Choose one of: {', '.join(ASPECT_RATIOS)}."
        )


def check_prompt(
    prompt: str,
    rendered: str,
    limit: int,
    capabilities: Mapping[str, Capabilities],
) -> None:
    """The user's words against the bot's limit; with the style around them, against what
    the providers accept (the most generous of them: the others are skipped in the chain)."""
    if not prompt:
        raise EmptyPrompt(
            "Your prompt is empty. Describe the picture you want, for example: a lighthouse at dusk."
        )
    if len(prompt) > limit:
        raise PromptTooLong(
            f"Your prompt is {len(prompt):,} characters long; the limit is {limit:,}. "
            "Please shorten it."
        )
    provider_limit = max((c.max_prompt_chars for c in capabilities.values()), default=0)
    if len(rendered) > provider_limit:
        raise PromptTooLong(
            f"With this style your prompt becomes {len(rendered):,} characters, more than the "
            f"image service accepts ({provider_limit:,}). Please shorten it."
        )
