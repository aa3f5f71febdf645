"""Reading a style's per-provider hints (`styles.yaml`, `providers: <id>: {...}`).

Hints are the operator's data: a wrong type is a setup problem reported as such (and the next
provider is tried), never a crash of the job.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.errors import ProviderMisconfigured
from bot.core.generation.providers.base import HintValue


def _bad(provider: str, key: str, value: HintValue, kind: str) -> ProviderMisconfigured:
    return ProviderMisconfigured(
        f"styles.yaml: {provider} hint {key}={value!r} is not {kind}",
    )


def hint_int(hints: Mapping[str, HintValue], key: str, default: int, provider: str) -> int:
    value = hints.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise _bad(provider, key, value, "a whole number")
    return int(value)


def hint_float(hints: Mapping[str, HintValue], key: str, default: float, provider: str) -> float:
    value = hints.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(provider, key, value, "a number")
    return float(value)


def hint_str(hints: Mapping[str, HintValue], key: str, provider: str) -> str | None:
    value = hints.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _bad(provider, key, value, "a name")
    return value
