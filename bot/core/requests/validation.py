"""The shape checks of a command, each refusal in plain words naming the numbers involved."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.errors import EmptyPrompt, PromptTooLong, UnsupportedAspect
from bot.core.generation.providers.base import Capabilities
from bot.core.language import Number, Text, UserText
from bot.core.models import ASPECT_RATIOS


def check_negative_prompt(negative: str | None, limit: int) -> None:
    if negative and len(negative) > limit:
        raise PromptTooLong(
            Text(
                "Your negative prompt is {length} characters long; the limit is {limit}.",
                length=Number(len(negative)),
                limit=Number(limit),
            )
        )


def check_aspect(aspect: str, capabilities: Mapping[str, Capabilities]) -> None:
    """Any ratio both platforms show well (`ASPECT_RATIOS`) is made by every provider: at the
    provider's nearest size, then centre-cropped to the exact ratio. Others are refused."""
    if aspect not in ASPECT_RATIOS or not capabilities:
        raise UnsupportedAspect(
            Text(
                "The image service ({names}) cannot make {aspect} pictures. "
                "Choose one of: {choices}.",
                names=", ".join(capabilities) or "-",
                aspect=UserText(aspect),
                choices=", ".join(ASPECT_RATIOS),
            )
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
            Text(
                "Your prompt is empty. Describe the picture you want, "
                "for example: a lighthouse at dusk."
            )
        )
    if len(prompt) > limit:
        raise PromptTooLong(
            Text(
                "Your prompt is {length} characters long; the limit is {limit}. Please shorten it.",
                length=Number(len(prompt)),
                limit=Number(limit),
            )
        )
    provider_limit = max((c.max_prompt_chars for c in capabilities.values()), default=0)
    if len(rendered) > provider_limit:
        raise PromptTooLong(
            Text(
                "With this style your prompt becomes {length} characters, more than the "
                "image service accepts ({limit}). Please shorten it.",
                length=Number(len(rendered)),
                limit=Number(provider_limit),
            )
        )
