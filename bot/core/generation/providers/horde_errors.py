"""How the AI Horde's error answers (`{"message", "rc"}`) sort into provider errors."""

from __future__ import annotations

from typing import Any

from bot.core.errors import (
    HORDE_NO_KUDOS,
    HORDE_REFUSES_BOT,
    ProviderAuthFailed,
    ProviderError,
    ProviderMisconfigured,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    ProviderRefused,
    ProviderRejected,
    ProviderUnavailable,
)

DEFAULT_RETRY_AFTER = 5.0

# The Horde's return codes (`rc`), sorted by whose fault they are.
QUOTA_CODES = {"KudosUpfront", "SharedKeyEmpty"}
SETUP_CODES = {
    "InvalidSize",
    "TooManySteps",
    "UnsupportedSampler",
    "UnsupportedModel",
    "UnexpectedModelName",
    "MissingClientAgent",
}
GONE_CODES = {
    "RequestNotFound",
    "RequestExpired",
    "AbortedGen",
    "NoValidWorkers",
    "MaintenanceMode",
}


def horde_error(status: int, body: dict[str, Any], retry_after: float | None) -> ProviderError:
    """Sort a Horde error answer (`{"message", "rc"}`) into retryable and final errors."""
    message = str(body.get("message") or "")
    code = str(body.get("rc") or "")
    detail = f"horde {status} {code} {message}".strip()
    if code == "CorruptPrompt":
        return ProviderRefused(detail)
    if code in QUOTA_CODES:
        return ProviderQuotaExhausted(
            detail,
            user_message=HORDE_NO_KUDOS,
        )
    if status == 401 or code == "InvalidAPIKey":
        return ProviderAuthFailed(detail)
    if status == 403:
        # AnonForbidden, NotTrusted, TimeoutIP, account flags: the bot's standing, not the user.
        return ProviderAuthFailed(
            detail,
            user_message=HORDE_REFUSES_BOT,
        )
    if status == 429:
        return ProviderRateLimited(detail, retry_after=retry_after or DEFAULT_RETRY_AFTER)
    if status >= 500 or code in GONE_CODES:
        return ProviderUnavailable(detail, retry_after=retry_after)
    fields = body.get("errors")
    if code in SETUP_CODES or (
        # A schema error in the parameters or models: they come from the bot's settings and
        # styles, never from the user's text.
        isinstance(fields, dict)
        and fields
        and all(str(f).startswith(("params", "models")) for f in fields)
    ):
        return ProviderMisconfigured(f"{detail} {fields or ''}".strip())
    return ProviderRejected(detail)
