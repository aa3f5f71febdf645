"""Two bot processes on PostgreSQL and Redis (Discord shards 0 and 1 of 2, one Telegram bot),
one SIGKILLed in the middle of a batch: every request is delivered exactly once, the survivor
takes over Telegram polling and the dead process's pending events (`tests/support/scale_out.py`;
`benchmarks/failover.py` runs it with 200)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fakes.openai_images import FakeOpenAI
from tests.support.scale_out import run_scenario

pytestmark = pytest.mark.e2e

REQUESTS = int(os.environ.get("SCALE_OUT_REQUESTS", "40"))


@pytest.mark.timeout(300)
def test_a_killed_bot_process_loses_and_doubles_nothing(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.delay = 0.3  # requests are still on their way when the poller dies
    outcome = run_scenario(tmp_path, fake_openai, REQUESTS)
    assert outcome.delivered_rows == REQUESTS
    assert outcome.discord_shards == [(0, 2), (1, 2)]
    # Telegram: one picture per request, each edited into its own status reply.
    assert outcome.photo_messages == outcome.telegram_requests
    assert outcome.photo_sends == 0
    assert sorted(set(outcome.per_request.values())) == [1]
    assert len(outcome.per_request) == outcome.telegram_requests
    # Discord, on both shards: one image upload per interaction.
    assert len(outcome.discord_images) == outcome.discord_requests == REQUESTS // 2
    assert sorted(set(outcome.discord_images.values())) == [1]
    assert outcome.failover_seconds < 10
