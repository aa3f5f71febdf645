"""Provider selection across the real pipeline: fallback past an outage, no shopping around a
refusal, and a burst against a provider that allows only 4 concurrent calls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.bootstrap import BotApp
from bot.core.models import ImagineCommand, ReplyTarget, Requester, Scope
from bot.settings import Settings
from tests.fakes.comfyui_api import FakeComfyUI
from tests.fakes.horde_api import FakeHorde
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.sdwebui_api import FakeSDWebUI
from tests.fakes.server import ServerThread
from tests.support import RedisServer, base_env, rows, run_cli
from tests.support.channels import RecordingChannel

pytestmark = pytest.mark.e2e


@pytest.fixture
def horde() -> Iterator[tuple[FakeHorde, str]]:
    fake = FakeHorde(checks_before_done=0)
    server = ServerThread(fake.app()).start()
    yield fake, f"{server.url}/api/v2"
    server.stop()


def chain_env(tmp_path: Path, openai: FakeOpenAI, horde_url: str) -> dict[str, str]:
    return base_env(
        tmp_path / "data",
        IMAGE_PROVIDERS="openai,horde",
        OPENAI_API_KEY=openai.api_key,
        OPENAI_BASE_URL=f"{openai.base_url}/v1",
        HORDE_API_URL=horde_url,
        JOB_MAX_TRIES="1",
    )


def test_an_outage_moves_the_request_to_the_next_provider(
    tmp_path: Path, fake_openai: FakeOpenAI, horde: tuple[FakeHorde, str]
) -> None:
    fake_horde, url = horde
    fake_openai.script = ["500"]
    result = run_cli(
        ["imagine", "a harbour", "-o", str(tmp_path / "out.png")],
        chain_env(tmp_path, fake_openai, url),
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert [c.outcome for c in fake_openai.calls] == ["500"] and len(fake_horde.jobs) == 1
    (row,) = rows(tmp_path / "data" / "imaginebot.sqlite3", "SELECT * FROM generations")
    assert (
        row["status"] == "delivered" and row["provider"] == "horde" and row["provider_calls"] == 2
    )
    assert "horde" in result.stdout  # the result names the provider that made it


def test_a_refusal_is_final_and_not_shopped_around(
    tmp_path: Path, fake_openai: FakeOpenAI, horde: tuple[FakeHorde, str]
) -> None:
    fake_horde, url = horde
    result = run_cli(["imagine", "REFUSE_ME now"], chain_env(tmp_path, fake_openai, url), tmp_path)
    assert result.returncode == 1 and "content policy" in result.stderr
    assert len(fake_openai.calls) == 1 and fake_horde.jobs == {}


def test_quota_exhausted_falls_back_too(
    tmp_path: Path, fake_openai: FakeOpenAI, horde: tuple[FakeHorde, str]
) -> None:
    fake_horde, url = horde
    fake_openai.script = ["quota"]
    result = run_cli(["imagine", "a mill"], chain_env(tmp_path, fake_openai, url), tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(fake_horde.jobs) == 1


def test_a_provider_that_failed_for_good_is_not_asked_again_on_retry(
    tmp_path: Path, fake_openai: FakeOpenAI, horde: tuple[FakeHorde, str]
) -> None:
    fake_horde, url = horde
    fake_openai.script = ["quota"]
    fake_horde.submit_errors.append((503, "MaintenanceMode", "maintenance", None))
    env = chain_env(tmp_path, fake_openai, url)
    env["JOB_MAX_TRIES"] = "2"
    result = run_cli(["imagine", "a windmill", "-o", str(tmp_path / "out.png")], env, tmp_path)
    assert result.returncode == 0, result.stderr
    # Try 1: OpenAI out of credit (final), the Horde in maintenance (may recover).
    # Try 2: only the Horde.
    assert len(fake_openai.calls) == 1 and len(fake_horde.jobs) == 1
    (row,) = rows(tmp_path / "data" / "imaginebot.sqlite3", "SELECT * FROM generations")
    assert row["provider"] == "horde" and row["provider_calls"] == 3


def test_a_provider_slower_than_the_job_ends_in_a_clear_failure(
    tmp_path: Path, horde: tuple[FakeHorde, str]
) -> None:
    """The Horde's queue outlasts the job: the user is told, and the Horde request is
    cancelled instead of being left in its queue (and nothing waits for ARQ to kill it)."""
    fake_horde, url = horde
    fake_horde.checks_before_done = 10_000
    env = base_env(tmp_path / "data", HORDE_API_URL=url, JOB_TIMEOUT_SECONDS="7", JOB_MAX_TRIES="1")
    started = time.monotonic()
    result = run_cli(["imagine", "a slow boat"], env, tmp_path)
    assert result.returncode == 1 and "took too long" in result.stderr
    assert time.monotonic() - started < 20
    (job,) = fake_horde.jobs.values()
    assert job.cancelled
    (row,) = rows(tmp_path / "data" / "imaginebot.sqlite3", "SELECT * FROM generations")
    assert row["status"] == "failed" and row["failure_code"] == "timeout"


async def test_a_burst_against_four_concurrent_slots_delivers_everything(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    fake_openai.max_concurrency = 4
    fake_openai.delay = 0.3
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        redis_url=redis_server.url,
        openai_api_key=fake_openai.api_key,
        openai_base_url=f"{fake_openai.base_url}/v1",
        openai_max_concurrency=4,
        worker_max_jobs=16,
        max_pending_per_user=1000,
        daily_limit_per_user=1000,
        daily_limit_per_scope=None,
    )
    app = await BotApp.create(settings)
    channel = RecordingChannel("bench")
    app.register(channel)
    await app.start(resume=False, worker=True, serve_health=False)
    try:
        started = time.monotonic()
        for i in range(40):
            requester = Requester(platform="bench", user_id=str(i % 10), display_name="u")
            await app.service.imagine(
                requester,
                Scope(platform="bench", id="s"),
                ReplyTarget(platform="bench", chat_id="c", nsfw_ok=False),
                ImagineCommand(prompt=f"burst {i}"),
            )
        await channel.settled_count(40, 60)
        elapsed = time.monotonic() - started
    finally:
        await app.close()
    ideal = 40 * 0.3 / 4
    print(
        f"\n40 requests, 4 slots: {elapsed:.2f}s (ideal {ideal:.1f}s), 429s={fake_openai.rejected_for_concurrency}, peak={fake_openai.peak_in_flight}"
    )
    assert len(channel.delivered) == 40 and channel.failed == {}
    # All four slots were used at once (never more): the burst ran in parallel up to the
    # provider's limit. How fast that is belongs to benchmarks/, not to a timing assertion
    # that a loaded machine breaks.
    assert fake_openai.peak_in_flight == 4
    assert fake_openai.rejected_for_concurrency <= 2


async def test_requests_wait_for_a_slot_in_the_queue_not_inside_their_time(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    """Ten requests, two slots, each call 1 s: the last ones wait about 4 s, longer than a
    job may run (3 s) and than a job may wait for a slot (0.5 s). All are delivered because
    the waiting happens while they are still queued: the worker starts a job only with a
    slot, so it never runs more jobs than slots."""
    fake_openai.max_concurrency = 2
    fake_openai.delay = 1.0
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        redis_url=redis_server.url,
        openai_api_key=fake_openai.api_key,
        openai_base_url=f"{fake_openai.base_url}/v1",
        openai_max_concurrency=2,
        worker_max_jobs=16,
        job_timeout_seconds=3,
        provider_wait_seconds=0.5,
        job_max_tries=1,
        max_pending_per_user=1000,
        daily_limit_per_user=1000,
        daily_limit_per_scope=None,
    )
    app = await BotApp.create(settings)
    channel = RecordingChannel("bench")
    app.register(channel)
    await app.start(resume=False, worker=True, serve_health=False)
    running_jobs: list[int] = []

    async def sample_running() -> None:
        while True:
            running_jobs.append(len(await app.redis.keys("arq:in-progress:*")))
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample_running())
    try:
        for i in range(10):
            await app.service.imagine(
                Requester(platform="bench", user_id=str(i), display_name="u"),
                Scope(platform="bench", id="s"),
                ReplyTarget(platform="bench", chat_id="c", nsfw_ok=False),
                ImagineCommand(prompt=f"patient {i}"),
            )
        await channel.settled_count(10, 60)
    finally:
        sampler.cancel()
        await app.close()
    assert channel.failed == {} and len(channel.delivered) == 10
    assert fake_openai.peak_in_flight == 2 and fake_openai.rejected_for_concurrency == 0
    # The others stayed queued (without admission all ten start at once): two calling the
    # provider, and at most one more that gave its slot back and is still reporting.
    assert 2 <= max(running_jobs) <= 3
    assert fake_openai.successful_calls == 10


def test_providers_command_checks_each_provider(
    tmp_path: Path, fake_openai: FakeOpenAI, horde: tuple[FakeHorde, str]
) -> None:
    _, url = horde
    env = chain_env(tmp_path, fake_openai, url)
    ok = run_cli(["providers"], env, tmp_path)
    assert ok.returncode == 0, ok.stderr
    lines = ok.stdout.splitlines()
    assert lines[1].split()[:2] == ["openai", "ok"] and "gpt-image-1" in lines[1]
    assert lines[2].split()[:2] == ["horde", "ok"] and "Anonymous" in lines[2]
    env["OPENAI_API_KEY"] = "sk-wrong"
    failing = run_cli(["providers"], env, tmp_path)
    assert failing.returncode == 1
    assert failing.stdout.splitlines()[1].split()[:2] == ["openai", "FAIL"]
    # The failing line names the URL it asked, so the operator sees which setting to check.
    assert f"(asked {fake_openai.base_url}/v1)" in failing.stdout.splitlines()[1]


def test_providers_table_for_self_hosted_servers(
    tmp_path: Path, horde: tuple[FakeHorde, str]
) -> None:
    sd = FakeSDWebUI(auth=("op", "pw"))
    comfy = FakeComfyUI()
    servers = [ServerThread(sd.app()).start(), ServerThread(comfy.app()).start()]
    _, url = horde
    env = base_env(
        tmp_path / "data",
        IMAGE_PROVIDERS="sdwebui,comfyui,horde",
        SDWEBUI_URL=servers[0].url,
        SDWEBUI_USER="op",
        SDWEBUI_PASSWORD="wrong",
        COMFYUI_URL=servers[1].url,
        HORDE_API_URL=url,
        HORDE_MODELS="Deliberate",
    )
    try:
        result = run_cli(["providers"], env, tmp_path)
    finally:
        for server in servers:
            server.stop()
    assert result.returncode == 1, result.stderr
    checks, capabilities = result.stdout.strip().split("\n\n")
    header, *lines = checks.splitlines()
    assert header.split() == ["provider", "status", "detail"]
    table = {line.split()[0]: line for line in lines}
    assert table["sdwebui"].split()[1] == "FAIL" and "SDWEBUI_USER" in table["sdwebui"]
    assert table["comfyui"].split()[1] == "ok" and "v1-5-pruned-emaonly" in table["comfyui"]
    assert table["horde"].split()[1] == "ok" and "Deliberate: 3 workers" in table["horde"]
    assert "wrong" not in result.stdout + result.stderr  # the password is never printed
    # Columns line up under the header.
    assert {line.index(line.split()[1]) for line in lines} == {header.index("status")}
    # Then what each can do: images per call, image input, upscaler, describe, sizes.
    caps_header, *cap_lines = capabilities.splitlines()
    assert caps_header.split()[:3] == ["provider", "per", "call"]
    caps = {line.split()[0]: line for line in cap_lines}
    assert caps["sdwebui"].split()[1:4] == ["4", "yes", "R-ESRGAN"]
    assert "1:1 1024x1024" in caps["sdwebui"] and "16:9" in caps["sdwebui"]
    assert caps["comfyui"].split()[1:3] == ["4", "yes"] and " no " in caps["comfyui"]
    assert "RealESRGAN_x4plus" in caps["horde"]
    # The edits each can make (the Edit menu offers what some provider of the chain can).
    assert caps_header.split()[7] == "edits"
    assert "inpaint, outpaint " in caps["sdwebui"] and "inpaint, outpaint " in caps["horde"]
    assert "edit by words" not in capabilities
