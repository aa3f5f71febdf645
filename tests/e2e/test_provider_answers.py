"""Provider answers are bounded: `imaginebot imagine` (real openai SDK, embedded worker) against
the fake images API answering a b64_json body without end, or a decompression-bomb PNG."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.fakes.openai_images import FakeOpenAI
from tests.support import IMAGINEBOT
from tests.support.cli import only_row, openai_env

pytestmark = pytest.mark.e2e

MAX_IMAGE_BYTES = 2 * 1024 * 1024


def imagine(tmp_path: Path, fake: FakeOpenAI, **env: str) -> tuple[int, str, int]:
    """Run one `imaginebot imagine`; (exit code, stderr, peak resident memory in MB)."""
    environment = openai_env(
        tmp_path, fake, MAX_IMAGE_BYTES=str(MAX_IMAGE_BYTES), JOB_MAX_TRIES="1", **env
    )
    errors = tmp_path / "stderr.txt"
    with errors.open("wb") as stderr:
        proc = subprocess.Popen(
            [*IMAGINEBOT, "imagine", "a harmless picture", "-o", str(tmp_path / "out.png")],
            env=environment,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            # wait4 gives this child's own peak RSS (kilobytes on Linux).
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            proc.returncode = 0  # reaped above; keep Popen from waiting again
    return os.waitstatus_to_exitcode(status), errors.read_text(), usage.ru_maxrss // 1024


# What holding the answer would add at least (400 MB of base64, or a 144-megapixel picture
# decoded: 432 MB), measured against an ordinary run of the same command on the same machine
# at the same moment, whose peak moves by tens of MB with the machine's load.
HELD_WOULD_ADD_MB = 100


def ordinary_peak_mb(tmp_path: Path, fake: FakeOpenAI) -> int:
    """The peak resident memory of `imaginebot imagine` answered with a small picture."""
    folder = tmp_path / "ordinary"
    folder.mkdir()
    fake.script = ["ok"]
    code, stderr, peak_mb = imagine(folder, fake)
    assert code == 0, stderr
    return peak_mb


def test_an_endless_b64_answer_is_cut_at_the_cap(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    ordinary = ordinary_peak_mb(tmp_path, fake_openai)
    fake_openai.script = ["huge:400000000"]  # 400 MB of base64
    code, stderr, peak_mb = imagine(tmp_path, fake_openai)
    assert code == 1, stderr
    row = only_row(tmp_path)
    assert row["status"] == "failed" and row["failure_code"] == "bad_output"
    assert row["failure_reason"] == (
        "The image service sent back more than 4 MB, more than this bot accepts, "
        "so nothing was posted."
    )
    assert str(row["failure_reason"]) in stderr
    # The reader stopped near the cap (2 MB as base64 plus 1 MB): the rest was never sent,
    # and the process never held the answer.
    assert fake_openai.huge_bytes_sent < 40 * 1024 * 1024
    assert peak_mb < ordinary + HELD_WOULD_ADD_MB, (peak_mb, ordinary)
    assert not (tmp_path / "out.png").exists()


def test_a_decompression_bomb_is_refused_from_its_header(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    # 144 million pixels in about 20 kB: over MAX_IMAGE_PIXELS, under twice Pillow's default
    # limit (where Pillow would only have warned).
    ordinary = ordinary_peak_mb(tmp_path, fake_openai)
    fake_openai.script = ["bomb:12000x12000"]
    code, stderr, peak_mb = imagine(tmp_path, fake_openai, MAX_IMAGE_PIXELS="40000000")
    assert code == 1, stderr
    row = only_row(tmp_path)
    assert row["status"] == "failed" and row["failure_code"] == "bad_output"
    assert row["failure_reason"] == (
        "The image service sent back a picture the bot will not open "
        "(the picture has more than 40,000,000 pixels)."
    )
    assert row["image_path"] is None
    assert list((tmp_path / "data" / "images").glob("*")) == []
    assert peak_mb < ordinary + HELD_WOULD_ADD_MB, (peak_mb, ordinary)
