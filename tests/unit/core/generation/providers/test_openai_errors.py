from __future__ import annotations

import httpx
import openai
import pytest

from bot.core.errors import (
    ProviderAuthFailed,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    ProviderRefused,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from bot.core.generation.providers.openai_images import (
    map_openai_error,
    max_prompt_chars_for_model,
    sizes_for_model,
)


def test_sizes_per_model_family() -> None:
    assert sizes_for_model("gpt-image-1") == {
        "1:1": "1024x1024",
        "3:2": "1536x1024",
        "2:3": "1024x1536",
    }
    assert sizes_for_model("dall-e-3") == {
        "1:1": "1024x1024",
        "16:9": "1792x1024",
        "9:16": "1024x1792",
    }
    assert set(sizes_for_model("dall-e-2")) == {"1:1"}
    assert max_prompt_chars_for_model("gpt-image-1") == 32000
    assert max_prompt_chars_for_model("dall-e-3") == 4000


def _status_error(
    status: int, code: str | None, headers: dict[str, str] | None = None
) -> openai.APIStatusError:
    request = httpx.Request("POST", "http://127.0.0.1/v1/images/generations")
    response = httpx.Response(status, headers=headers or {}, request=request)
    body = {"error": {"message": "x", "type": "t", "code": code}}
    cls = {
        400: openai.BadRequestError,
        401: openai.AuthenticationError,
        429: openai.RateLimitError,
    }.get(status, openai.InternalServerError if status >= 500 else openai.APIStatusError)
    return cls("x", response=response, body=body)


@pytest.mark.parametrize(
    ("status", "code", "expected", "retryable"),
    [
        (400, "moderation_blocked", ProviderRefused, False),
        (400, "content_policy_violation", ProviderRefused, False),
        (400, "invalid_value", ProviderRejected, False),
        (401, "invalid_api_key", ProviderAuthFailed, False),
        (429, "insufficient_quota", ProviderQuotaExhausted, False),
        (429, "rate_limit_exceeded", ProviderRateLimited, True),
        (500, None, ProviderUnavailable, True),
        (503, None, ProviderUnavailable, True),
    ],
)
def test_error_classes(status: int, code: str | None, expected: type, retryable: bool) -> None:
    error = _status_error(status, code, {"retry-after": "7"})
    mapped = map_openai_error(error)
    assert type(mapped) is expected
    assert mapped.retryable is retryable
    if expected is ProviderRateLimited:
        assert mapped.retry_after == 7.0


def test_timeouts_and_connection_errors_are_retryable() -> None:
    request = httpx.Request("POST", "http://127.0.0.1/")
    assert isinstance(map_openai_error(openai.APITimeoutError(request=request)), ProviderTimeout)
    mapped = map_openai_error(openai.APIConnectionError(request=request))
    assert isinstance(mapped, ProviderUnavailable) and mapped.retryable
