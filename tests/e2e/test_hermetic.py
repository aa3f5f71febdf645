"""The suite is hermetic: a developer's `.env` in the checkout (the quick start's first step)
reaches no test, neither the subprocesses the helpers start nor the Settings tests build."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import ENV_FILE_VARIABLE, Settings
from tests.fakes.openai_images import FakeOpenAI
from tests.support import ROOT, base_env, rows, run_cli

pytestmark = pytest.mark.e2e

# Everything a filled-in .env could say that would break a test reading it: tokens of platforms
# that are not running, ports, a store and a queue that do not answer, another provider.
HOSTILE = {
    "DISCORD_TOKEN": "hostile.discord.token",
    "TELEGRAM_TOKEN": "123456:hostile",
    "OPENAI_API_KEY": "sk-hostile",
    "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
    "IMAGE_PROVIDERS": "comfyui",
    "COMFYUI_URL": "http://127.0.0.1:9",
    "WEB_PORT": "9",
    "HEALTH_PORT": "9",
    "PUBLIC_URL": "https://hostile.example.org",
    "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/nowhere",
    "REDIS_URL": "redis://127.0.0.1:9/0",
    "DATA_DIR": "/nonexistent/hostile",
    "LOG_LEVEL": "DEBUG",
}


@pytest.fixture
def hostile_env_file() -> Iterator[Path]:
    """A hostile `.env` in the project root; a developer's own `.env` is set aside, then put back.

    One test at a time holds the checkout's `.env` (a lock beside it): tests of this module
    running in two pytest-xdist workers must not set aside each other's files."""
    target = ROOT / ".env"
    lock = os.open(ROOT / ".env.test-lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    saved = ROOT / f".env.saved-by-test-{os.getpid()}"
    had_one = target.exists()
    try:
        if had_one:
            target.rename(saved)
        target.write_text("".join(f"{k}={v}\n" for k, v in HOSTILE.items()), encoding="utf-8")
        try:
            yield target
        finally:
            target.unlink()
            if had_one:
                saved.rename(target)
    finally:
        os.close(lock)


def test_the_hostile_file_is_what_an_unprotected_process_reads(hostile_env_file: Path) -> None:
    # Without the suite's protection, a process started in the checkout reads every line:
    # the tests below would break if the protection did not hold.
    env = {k: v for k, v in base_env(Path("/tmp")).items() if k != ENV_FILE_VARIABLE}
    env.pop("DATA_DIR")
    probe = "from bot.settings import Settings; s = Settings(); print(s.web_port, s.redis_url)"
    seen = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert seen.stdout.split() == ["9", "redis://127.0.0.1:9/0"], seen.stderr


def test_the_subprocess_helpers_ignore_a_hostile_env_file_in_the_checkout(
    tmp_path: Path, hostile_env_file: Path, fake_openai: FakeOpenAI
) -> None:
    env = base_env(
        tmp_path / "data",
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=f"{fake_openai.base_url}/v1",
    )
    out = tmp_path / "out.png"
    made = run_cli(["imagine", "a quiet harbour", "-o", str(out)], env, cwd=ROOT)
    assert made.returncode == 0, made.stdout + made.stderr
    assert out.read_bytes() == fake_openai.images[0]
    found = rows(tmp_path / "data" / "imaginebot.sqlite3", "SELECT status FROM generations")
    assert found == [{"status": "delivered"}]
    # The .env's WEB_PORT and PUBLIC_URL are not seen either: the commands say what is missing.
    web = run_cli(["web"], base_env(tmp_path / "data"), cwd=ROOT)
    assert web.returncode == 2 and "WEB_PORT" in web.stderr
    link = run_cli(
        ["gallery", "link", "--platform", "discord", "--scope", "1"],
        base_env(tmp_path / "data"),
        cwd=ROOT,
    )
    assert link.returncode == 2 and "PUBLIC_URL" in link.stderr


def test_settings_built_in_the_tests_ignore_it(
    hostile_env_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    built = Settings()
    assert built.web_port is None and built.redis_url is None and built.database_url is None
    assert built.discord_token is None and built.telegram_token is None
    assert built.providers == ("horde",) and built.data_dir == Path("./data")
