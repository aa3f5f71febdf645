"""Pixel sizes for Stable Diffusion style providers: an area, a ratio, multiples of 64."""

from __future__ import annotations

import math
from collections.abc import Iterable

from bot.core.models import AspectRatio

RATIOS: dict[AspectRatio, tuple[int, int]] = {
    "1:1": (1, 1),
    "3:2": (3, 2),
    "2:3": (2, 3),
    "16:9": (16, 9),
    "9:16": (9, 16),
}


def dimensions(aspect: AspectRatio, base: int) -> tuple[int, int]:
    """About base x base pixels in total, in the given ratio, each side a multiple of 64."""
    w, h = RATIOS[aspect]
    scale = (base * base / (w * h)) ** 0.5
    return max(64, round(w * scale / 64) * 64), max(64, round(h * scale / 64) * 64)


def nearest_aspect(ratio: tuple[int, int], offered: Iterable[AspectRatio]) -> AspectRatio:
    """The offered aspect closest to `ratio` (by how much the picture would be cut), so a
    ratio a provider cannot make is made at its nearest size and centre-cropped to the exact
    ratio (`bot.core.images.pixels.crop_to_aspect`)."""
    wanted = math.log(ratio[0] / ratio[1])
    choices = list(offered)
    if not choices:
        raise ValueError("no aspect ratio offered")
    return min(choices, key=lambda a: abs(math.log(RATIOS[a][0] / RATIOS[a][1]) - wanted))
