"""Which providers of the chain can serve a request, and what each can do, in plain words.

The chain (`IMAGE_PROVIDERS`, in order) is filtered by what a request needs: an aspect ratio,
an input image, an upscaler, a describe, and how many images. A count is never a reason to
skip a provider (a provider that makes one image per call makes four in four parallel calls);
it only decides how many calls are made. When no provider is left, the user is told before
anything is queued (`NoCapableProvider`). Style reference pictures are never a reason to
skip a provider either: the ones that follow references are asked first (`references_first`),
and the rest stay behind them as the fallback, making the picture from the prompt alone.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field

from bot.core.errors import NoCapableProvider
from bot.core.generation.providers.base import Capabilities
from bot.core.language import Text
from bot.core.models import MAX_COUNT, AspectRatio, Frozen


class Needs(Frozen):
    """What a request asks of a provider."""

    aspect: AspectRatio | None = None
    count: int = Field(default=1, ge=1, le=MAX_COUNT)
    image_input: bool = False
    upscale: bool = False
    describe: bool = False
    inpaint: bool = False
    outpaint: bool = False
    edit_by_words: bool = False


def missing(caps: Capabilities, needs: Needs) -> str | None:
    """Why a provider with these capabilities cannot serve the request, or None."""
    if needs.describe and not caps.describe:
        return "describe pictures"
    if needs.upscale and not caps.upscale:
        return "upscale pictures"
    if needs.image_input and not caps.image_input:
        return "start from a picture"
    if needs.inpaint and not caps.inpaint:
        return "repaint part of a picture"
    if needs.outpaint and not caps.outpaint:
        return "extend a picture"
    if needs.edit_by_words and not caps.edit_by_words:
        return "edit a picture by words"
    if needs.aspect is not None and not needs.describe and not needs.upscale:
        if needs.aspect not in caps.aspects:
            return f"make {needs.aspect} pictures"
    return None


def capable(capabilities: Mapping[str, Capabilities], needs: Needs) -> list[str]:
    """The providers, in chain order, that can serve the request."""
    return [pid for pid, caps in capabilities.items() if missing(caps, needs) is None]


def select(capabilities: Mapping[str, Capabilities], needs: Needs) -> list[str]:
    """`capable`, or a plain-words refusal naming what none of them can do."""
    chosen = capable(capabilities, needs)
    if chosen:
        return chosen
    reasons = {missing(caps, needs) for caps in capabilities.values()} - {None}
    what = sorted(r for r in reasons if r)[0] if reasons else ""
    names = ", ".join(capabilities) or "-"
    raise NoCapableProvider(_cannot(what, names, needs))


def _cannot(what: str, names: str, needs: Needs) -> Text:
    """The refusal for `what` (a reason `missing` gave) as one sentence per reason."""
    if what == "describe pictures":
        return Text(
            "None of the image services this bot uses ({names}) can describe pictures, "
            "so nothing was queued.",
            names=names,
        )
    if what == "upscale pictures":
        return Text(
            "None of the image services this bot uses ({names}) can upscale pictures, "
            "so nothing was queued.",
            names=names,
        )
    if what == "start from a picture":
        return Text(
            "None of the image services this bot uses ({names}) can start from a picture, "
            "so nothing was queued.",
            names=names,
        )
    if what == "repaint part of a picture":
        return Text(
            "None of the image services this bot uses ({names}) can repaint part of a "
            "picture, so nothing was queued.",
            names=names,
        )
    if what == "extend a picture":
        return Text(
            "None of the image services this bot uses ({names}) can extend a picture, "
            "so nothing was queued.",
            names=names,
        )
    if what == "edit a picture by words":
        return Text(
            "None of the image services this bot uses ({names}) can edit a picture by "
            "words, so nothing was queued.",
            names=names,
        )
    if what.startswith("make ") and needs.aspect is not None:
        return Text(
            "None of the image services this bot uses ({names}) can make {aspect} "
            "pictures, so nothing was queued.",
            names=names,
            aspect=needs.aspect,
        )
    return Text(
        "None of the image services this bot uses ({names}) can do this, so nothing was queued.",
        names=names,
    )


def references_first(
    capabilities: Mapping[str, Capabilities], chain: list[str] | tuple[str, ...]
) -> tuple[str, ...]:
    """The chain with the providers that follow style references first, each part in the
    operator's order."""
    follow = [pid for pid in chain if capabilities[pid].style_references]
    return (*follow, *(pid for pid in chain if pid not in follow))


def operations(caps: Capabilities) -> list[str]:
    """What a provider can do beyond one text-to-image picture, as short words."""
    ops = [f"up to {caps.images_per_request} per call"]
    if caps.image_input:
        ops.append("image to image")
    if caps.upscaler:
        ops.append(f"upscale ({caps.upscaler})")
    if caps.describe:
        ops.append("describe")
    ops.extend(name for name, can in _edits(caps) if can)
    if caps.style_references:
        ops.append("style references")
    return ops


def _edits(caps: Capabilities) -> tuple[tuple[str, bool], ...]:
    return (
        ("inpaint", caps.inpaint),
        ("outpaint", caps.outpaint),
        ("edit by words", caps.edit_by_words),
    )


def capability_rows(capabilities: Mapping[str, Capabilities]) -> list[dict[str, str]]:
    """One row per provider for `imaginebot providers`: batch, image input, upscaler,
    describe and the sizes it makes."""
    rows = []
    for pid, caps in capabilities.items():
        sizes = ", ".join(
            f"{aspect} {w}x{h}" if (w, h) != (0, 0) else aspect
            for aspect in caps.aspects
            for w, h in [caps.sizes.get(aspect, (0, 0))]
        )
        rows.append(
            {
                "provider": pid,
                "batch": str(caps.images_per_request),
                "image_input": "yes" if caps.image_input else "no",
                "upscaler": caps.upscaler or "none",
                "describe": "yes" if caps.describe else "no",
                "edits": ", ".join(name for name, can in _edits(caps) if can) or "none",
                "sizes": sizes,
            }
        )
    return rows
