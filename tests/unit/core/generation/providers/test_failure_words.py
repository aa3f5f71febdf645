"""Each way a provider can fail has its own code and plain words: unreachable (DNS failure,
connection refused), rate limited, busy, timed out, refused. Where the transport and the
OpenAI SDK's errors are sorted (the end-to-end test of an unreachable provider is in
tests/e2e/test_provider_unreachable.py)."""

from __future__ import annotations

import httpx
import openai
import pytest

from bot.core.errors import (
    RETRYING_WORDS,
    ProviderError,
    ProviderRateLimited,
    ProviderRefused,
    ProviderTimeout,
    ProviderUnavailable,
    ProviderUnreachable,
    retrying_detail,
    retrying_words,
)
from bot.core.generation.providers.openai_images import map_openai_error
from bot.core.generation.providers.transport import capped_request

CODES = {
    ProviderUnreachable: "unreachable",
    ProviderRefused: "refused",
    ProviderRateLimited: "rate_limited",
    ProviderUnavailable: "busy",
    ProviderTimeout: "timeout",
}


def test_every_kind_has_its_own_code_and_words() -> None:
    assert {kind.code for kind in CODES} == set(CODES.values())
    assert len({kind().user_message for kind in CODES}) == len(CODES)
    for kind in CODES:  # "busy" is said only of a service that is busy
        assert ("busy" in kind().user_message) == (kind is ProviderUnavailable)


def raising(exc: Exception) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("raised", "kind"),
    [
        (httpx.ConnectError("[Errno -2] Name or service not known"), ProviderUnreachable),
        (httpx.ConnectError("[Errno 111] Connection refused"), ProviderUnreachable),
        (httpx.ReadTimeout("timed out"), ProviderTimeout),
        (httpx.RemoteProtocolError("Server disconnected"), ProviderUnavailable),
    ],
)
async def test_the_transport_sorts_connection_failures(
    raised: Exception, kind: type[ProviderError]
) -> None:
    async with httpx.AsyncClient(transport=raising(raised)) as http:
        with pytest.raises(ProviderError) as caught:
            await capped_request(
                http,
                "GET",
                "https://aihorde.net/api/v2/status/heartbeat",
                name="horde",
                seconds=5,
                max_bytes=1000,
            )
    assert type(caught.value) is kind


def status_error(status: int) -> openai.APIStatusError:
    request = httpx.Request("POST", "https://api.openai.com/v1/images/generations")
    response = httpx.Response(status, request=request, json={"error": {"code": None}})
    return openai.APIStatusError("x", response=response, body=None)


def test_the_openai_sdk_errors_are_sorted_the_same_way() -> None:
    request = httpx.Request("POST", "https://api.openai.com/v1/images/generations")
    no_name = openai.APIConnectionError(request=request)
    no_name.__cause__ = httpx.ConnectError("[Errno -3] Temporary failure in name resolution")
    assert type(map_openai_error(no_name)) is ProviderUnreachable
    cut = openai.APIConnectionError(request=request)
    cut.__cause__ = httpx.RemoteProtocolError("Server disconnected")
    assert type(map_openai_error(cut)) is ProviderUnavailable
    assert type(map_openai_error(openai.APITimeoutError(request=request))) is ProviderTimeout
    assert type(map_openai_error(status_error(429))) is ProviderRateLimited
    assert type(map_openai_error(status_error(503))) is ProviderUnavailable


def test_the_wait_before_another_try_is_said_by_its_cause() -> None:
    said = {code: retrying_words(retrying_detail(code)) for code in RETRYING_WORDS}
    assert said["unreachable"] == "The image service cannot be reached; trying again…"
    assert said["busy"] == "The image service is busy; trying again…"
    assert len(set(said.values())) == len(said)
    assert retrying_words("position 3") is None and retrying_words(None) is None
