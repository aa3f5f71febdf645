"""Numbers read from outside text: button data, custom ids, command options, query strings.

Python's own tests accept more than a user would call a number: `"²".isdigit()` is True and
`int("²")` raises; `int("٣")` and `float("１.５")` read Arabic-Indic and fullwidth digits;
`float("1e999")` is infinity and `int("9" * 30)` overflows SQLite's 64-bit integers. These
readers take ASCII digits only (at most 20 of them), check the range, and answer None for
anything else, so a caller always has a plain answer to give and nothing raises.
"""

from __future__ import annotations

import math
import re

_WHOLE = re.compile(r"[0-9]{1,20}")
_DECIMAL = re.compile(r"[0-9]{1,20}(?:\.[0-9]{1,20})?|\.[0-9]{1,20}")
INT64_MAX = 2**63 - 1


def whole_number(text: str, low: int, high: int) -> int | None:
    """`text` as an int in [low, high] when it is ASCII digits only; else None."""
    if not _WHOLE.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def decimal(text: str, low: float, high: float) -> float | None:
    """`text` as a finite float in [low, high] when it is ASCII digits with at most one
    point (no sign, exponent, spaces or other scripts' digits); else None."""
    if not _DECIMAL.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) and low <= value <= high else None
