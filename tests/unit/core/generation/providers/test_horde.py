"""The AI Horde provider through its real HTTP client against the fake Horde."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from PIL import Image

from bot.core.errors import (
    ProviderAuthFailed,
    ProviderMisconfigured,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    ProviderRefused,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from bot.core.generation.providers.base import ProviderRequest
from bot.core.generation.providers.horde import HordeProvider
from bot.core.models import StatusUpdate
from tests.fakes.horde_api import FakeHorde
from tests.fakes.server import ServerThread


@pytest.fixture
def horde() -> Iterator[tuple[FakeHorde, str]]:
    fake = FakeHorde()
    server = ServerThread(fake.app()).start()
    yield fake, f"{server.url}/api/v2"
    server.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def provider(http: httpx.AsyncClient, url: str, **kw: object) -> HordeProvider:
    options: dict[str, object] = {
        "api_key": "0000000000",
        "models": [],
        "deadline_seconds": 5.0,
        "check_interval": 0.05,
    }
    options.update(kw)
    return HordeProvider(http=http, api_url=url, **options)  # type: ignore[arg-type]


REQUEST = ProviderRequest(
    generation_id="g1", prompt="a fox", negative_prompt="blurry", aspect="3:2", seed=42
)


async def test_success_returns_the_image_and_reports_queue_position(
    horde: tuple[FakeHorde, str], http: httpx.AsyncClient
) -> None:
    fake, url = horde
    updates: list[StatusUpdate] = []

    async def progress(update: StatusUpdate) -> None:
        updates.append(update)

    image = await provider(http, url).generate(REQUEST, progress)
    (job,) = fake.jobs.values()
    assert job.payload["prompt"] == "a fox ### blurry"
    assert job.payload["params"]["seed"] == "42" and (
        job.payload["params"]["width"],
        job.payload["params"]["height"],
    ) == (576, 384)
    assert job.payload["r2"] is False and job.payload["censor_nsfw"] is True
    assert fake.agents[0].startswith("imaginebot:")
    with Image.open(io.BytesIO(image.data)) as got, Image.open(io.BytesIO(job.image)) as served:
        assert got.format == "PNG" and got.size == served.size
        assert got.convert("RGB").tobytes() == served.convert("RGB").tobytes()
    assert image.seed == 42
    assert [u.position for u in updates] == [2, 1]
    assert updates[0].eta_seconds == 10 and updates[0].detail == "in the AI Horde queue"


async def test_checks_at_most_once_a_second_by_default(
    horde: tuple[FakeHorde, str], http: httpx.AsyncClient
) -> None:
    fake, url = horde
    fake.checks_before_done = 2

    async def progress(update: StatusUpdate) -> None:
        return None

    await provider(http, url, check_interval=1.0).generate(REQUEST, progress)
    (job,) = fake.jobs.values()
    gaps = [b - a for a, b in zip(job.checks, job.checks[1:], strict=False)]
    assert gaps and min(gaps) >= 0.95


async def nothing(update: StatusUpdate) -> None:
    return None


@pytest.mark.parametrize(
    ("error", "expected", "retryable"),
    [
        ((401, "InvalidAPIKey", "Invalid API Key", None), ProviderAuthFailed, False),
        ((403, "TimeoutIP", "IP in timeout", None), ProviderAuthFailed, False),
        ((429, "TooManyPrompts", "Too many concurrent", "7"), ProviderRateLimited, True),
        ((503, "MaintenanceMode", "Horde is in maintenance", None), ProviderUnavailable, True),
        (
            (400, "CorruptPrompt", "This prompt appears to violate our terms of service", None),
            ProviderRefused,
            False,
        ),
        ((403, "KudosUpfront", "requires upfront kudos", None), ProviderQuotaExhausted, False),
        ((400, "UnsupportedSampler", "sampler unsupported", None), ProviderMisconfigured, False),
        ((400, "InvalidPromptSize", "Prompt is too large", None), ProviderRejected, False),
    ],
)
async def test_errors_are_sorted(
    horde: tuple[FakeHorde, str],
    http: httpx.AsyncClient,
    error: tuple[int, str, str, str | None],
    expected: type,
    retryable: bool,
) -> None:
    fake, url = horde
    fake.submit_errors.append(error)
    with pytest.raises(expected) as caught:
        await provider(http, url).generate(REQUEST, nothing)
    assert caught.value.retryable is retryable
    assert error[1] in caught.value.detail  # the Horde's own code reaches the logs
    if error[3]:
        assert caught.value.retry_after == float(error[3])


async def test_schema_errors_from_settings_are_the_operators_not_the_users(
    horde: tuple[FakeHorde, str], http: httpx.AsyncClient
) -> None:
    fake, url = horde
    bad_style = REQUEST.model_copy(update={"hints": {"sampler": "Euler a"}})  # an A1111 name
    with pytest.raises(ProviderMisconfigured, match="sampler_name"):
        await provider(http, url).generate(bad_style, nothing)
    assert fake.jobs == {}


async def test_a_style_model_without_workers_falls_back_to_any_model(
    horde: tuple[FakeHorde, str], http: httpx.AsyncClient
) -> None:
    fake, url = horde
    fake.checks_before_done = 0
    request = REQUEST.model_copy(update={"hints": {"model": "Retired Model"}})
    image = await provider(http, url).generate(request, nothing)
    first, second = fake.jobs.values()
    assert first.payload["models"] == ["Retired Model"] and first.cancelled
    assert "models" not in second.payload and not second.cancelled
    assert image.model == "AlbedoBase XL"  # what the fake's worker reported
    fake.models_online = {}
    with pytest.raises(ProviderUnavailable, match="no worker"):
        await provider(http, url, models=["AlbedoBase XL"]).generate(REQUEST, nothing)


async def test_a_worker_drawing_it_is_shown(
    horde: tuple[FakeHorde, str], http: httpx.AsyncClient
) -> None:
    fake, url = horde
    fake.checks_before_done, fake.processing_checks = 1, 1
    updates: list[StatusUpdate] = []

    async def progress(update: StatusUpdate) -> None:
        updates.append(update)

    await provider(http, url).generate(REQUEST, progress)
    assert [(u.position, u.detail) for u in updates] == [
        (1, "in the AI Horde queue"),
        (None, "an AI Horde worker is drawing it"),
    ]


async def test_image_links_are_only_followed_over_https(
    horde: tuple[FakeHorde, str], http: httpx.AsyncClient
) -> None:
    """Had the Horde answered with a storage link (its default, r2=true) on plain http, the
    bot would not fetch it."""
    fake, url = horde
    fake.base_url = url.removesuffix("/api/v2")
    original = HordeProvider._payload

    def with_r2(self: HordeProvider, request: ProviderRequest, models: list[str]) -> dict:  # type: ignore[type-arg]
        return {**original(self, request, models), "r2": True}

    p = provider(http, url)
    p._payload = with_r2.__get__(p)  # type: ignore[method-assign]
    with pytest.raises(ProviderUnavailable, match="non-https"):
        await p.generate(REQUEST, nothing)


async def test_faulted_censored_and_impossible(
    horde: tuple[FakeHorde, str], http: httpx.AsyncClient
) -> None:
    fake, url = horde
    fake.script = ["faulted", "censored", "impossible"]
    with pytest.raises(ProviderUnavailable, match="faulted"):
        await provider(http, url).generate(REQUEST, nothing)
    censored = await provider(http, url).generate(REQUEST, nothing)
    assert censored.censored is True
    with pytest.raises(ProviderUnavailable, match="no worker") as impossible:
        await provider(http, url).generate(REQUEST, nothing)
    assert impossible.value.retryable  # workers come and go; another provider may serve it
    assert [j.cancelled for j in fake.jobs.values()] == [True, False, True]


async def test_gives_up_and_cancels_at_the_deadline(
    horde: tuple[FakeHorde, str], http: httpx.AsyncClient
) -> None:
    fake, url = horde
    fake.checks_before_done = 1000
    with pytest.raises(ProviderTimeout):
        await provider(http, url, deadline_seconds=0.3).generate(REQUEST, nothing)
    (job,) = fake.jobs.values()
    assert job.cancelled


async def test_anonymous_sizes_are_accepted_for_every_aspect(
    horde: tuple[FakeHorde, str], http: httpx.AsyncClient
) -> None:
    fake, url = horde
    fake.checks_before_done = 0
    p = provider(http, url)
    for aspect in p.capabilities.aspects:
        await p.generate(REQUEST.model_copy(update={"aspect": aspect}), nothing)
    assert len(fake.jobs) == 5


async def test_check_reports_the_user_and_the_models(
    horde: tuple[FakeHorde, str], http: httpx.AsyncClient
) -> None:
    fake, url = horde
    anonymous = await provider(http, url).check()
    assert (
        anonymous.ok
        and "Anonymous" in anonymous.detail
        and "3 models have workers" in (anonymous.detail)
    )
    chosen = await provider(http, url, models=["Deliberate", "Gone"]).check()
    assert chosen.ok and "Deliberate: 3 workers" in chosen.detail and "Gone: 0" in chosen.detail
    fake.models_online = {"Deliberate": 0}
    assert not (await provider(http, url, models=["Deliberate"]).check()).ok
    bad = await provider(http, url, api_key="nope").check()
    assert not bad.ok and "401" in bad.detail and "InvalidAPIKey" in bad.detail
