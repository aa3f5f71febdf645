"""With no provider settings at all the bot uses the AI Horde: `imaginebot imagine` end to end."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from tests.fakes.horde_api import FakeHorde
from tests.fakes.server import ServerThread
from tests.support import base_env, rows, run_cli

pytestmark = pytest.mark.e2e


def test_no_key_no_settings_gets_a_horde_image(tmp_path: Path) -> None:
    fake = FakeHorde(checks_before_done=1)
    server = ServerThread(fake.app()).start()
    try:
        env = base_env(tmp_path / "data", HORDE_API_URL=f"{server.url}/api/v2")
        out = tmp_path / "out.png"
        result = run_cli(
            [
                "imagine",
                "a lighthouse at dusk",
                "--style",
                "anime",
                "--aspect",
                "16:9",
                "-o",
                str(out),
            ],
            env,
            tmp_path,
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    # The Horde's queue position reached the status the requester sees.
    assert "position 1" in result.stdout and "in the AI Horde queue" in result.stdout
    (job,) = fake.jobs.values()
    assert (
        job.payload["prompt"].startswith("a lighthouse at dusk, anime style")
        and " ### " in job.payload["prompt"]
    )
    with Image.open(out) as got, Image.open(io.BytesIO(job.image)) as served:
        assert got.size == served.size == (640, 384)
        assert got.convert("RGB").tobytes() == served.convert("RGB").tobytes()
    (row,) = rows(tmp_path / "data" / "imaginebot.sqlite3", "SELECT * FROM generations")
    assert row["status"] == "delivered" and row["provider"] == "horde"


def test_a_censored_result_is_reported_never_saved(tmp_path: Path) -> None:
    fake = FakeHorde(checks_before_done=0, script=["censored"])
    server = ServerThread(fake.app()).start()
    try:
        env = base_env(tmp_path / "data", HORDE_API_URL=f"{server.url}/api/v2")
        out = tmp_path / "out.png"
        result = run_cli(["imagine", "a beach", "-o", str(out)], env, tmp_path)
    finally:
        server.stop()
    assert result.returncode == 1 and "blocked the result as unsafe" in result.stderr
    assert not out.exists() and len(fake.jobs) == 1  # not shopped around, not retried
    (row,) = rows(tmp_path / "data" / "imaginebot.sqlite3", "SELECT * FROM generations")
    assert row["status"] == "failed" and row["failure_code"] == "censored"
    assert row["image_path"] is None
