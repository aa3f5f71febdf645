"""The Docker files as Docker would read them (no Docker engine here): each service's effective
environment from the image's ENV, `env_file` and `environment` (with `${VAR:-default}` taken
from the project's .env), then the settings imaginebot would load from it."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import Settings
from tests.support import ROOT, RedisServer, base_env, free_port, process, wait_for

SETTINGS = {name.upper() for name in Settings.model_fields}
CHAT = ("DISCORD_", "TELEGRAM_")


def dotenv(text: str) -> dict[str, str]:
    """Compose's env file format: NAME=value lines; `#` comments; NAME= sets an empty value."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(value: str, project_env: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(3) or ""
        return project_env.get(name) or default  # `:-`: unset or empty takes the default

    return re.sub(r"\$\{([A-Z0-9_]+)(:-([^}]*))?\}", one, value)


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("ENV "):
            env.update(dict(part.split("=", 1) for part in shlex.split(line[4:])))
    return env


def service_env(service: str, dot_env_text: str) -> dict[str, str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    spec: dict[str, Any] = compose["services"][service]
    project_env = dotenv(dot_env_text)
    env = image_env()
    env_files = spec.get("env_file", [])
    for name in [env_files] if isinstance(env_files, str) else env_files:
        assert name == ".env"
        env.update(project_env)
    for name, value in (spec.get("environment") or {}).items():
        env[name] = interpolate(str(value), project_env)
    return env


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


def filled_example(**values: str) -> str:
    text = (ROOT / ".env.example").read_text()
    for name, value in values.items():
        text = re.sub(rf"^{name}=.*$", f"{name}={value}", text, flags=re.MULTILINE)
    return text


EXAMPLE = filled_example(
    DISCORD_TOKEN="discord-token", TELEGRAM_TOKEN="1:telegram-token", OPENAI_API_KEY="sk-key"
)


def test_bot_keeps_the_images_data_dir_and_health_port(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from(service_env("bot", EXAMPLE), monkeypatch)
    assert settings.data_dir == Path("/data")  # the volume, owned by the image's user
    assert settings.health_port == 8080
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.discord_token is not None and settings.telegram_token is not None
    assert settings.openai_api_key is not None
    # The image alone (`docker run --env-file .env`) keeps /data too.
    env = image_env()
    env.update(dotenv(EXAMPLE))
    assert settings_from(env, monkeypatch).data_dir == Path("/data")


def test_workers_get_their_settings_and_no_chat_token(monkeypatch: pytest.MonkeyPatch) -> None:
    text = filled_example(
        DISCORD_TOKEN="discord-token",
        TELEGRAM_TOKEN="1:telegram-token",
        OPENAI_API_KEY="sk-key",
        HORDE_MODELS="a,b",
        WORKER_MAX_JOBS="7",
    )
    env = service_env("worker", text)
    assert [name for name in env if name.startswith(CHAT)] == []
    assert "discord-token" not in env.values() and "1:telegram-token" not in env.values()
    # Every setting the generating side reads reaches it from .env.
    for name in SETTINGS:
        if name.startswith(("OPENAI_", "HORDE_", "SDWEBUI_", "COMFYUI_", "JOB_", "WORKER_")):
            assert name in env, name
    settings = settings_from(env, monkeypatch)
    assert settings.openai_api_key is not None
    assert settings.openai_api_key.get_secret_value() == "sk-key"
    assert settings.horde_models == ["a", "b"] and settings.worker_max_jobs == 7
    assert settings.redis_url == "redis://redis:6379/0" and settings.health_port == 8080
    assert settings.providers == ("openai",)


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)(s|m)", duration)
    assert match, duration
    return int(match.group(1)) * (60 if match.group(2) == "m" else 1)


def test_stop_grace_period_outlasts_the_worker_shutdown_grace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for service in ("bot", "worker"):
        grace = settings_from(service_env(service, EXAMPLE), monkeypatch)
        period = seconds(compose["services"][service]["stop_grace_period"])
        assert period > grace.worker_shutdown_grace_seconds + 5, service


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    patterns = set((ROOT / ".dockerignore").read_text().splitlines())
    assert {".env", ".git", ".venv", "data"} <= patterns


def healthcheck_command() -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.startswith("HEALTHCHECK"))
    command: list[str] = json.loads(line.split(" CMD ", 1)[1])
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


@pytest.mark.e2e
def test_healthcheck_asks_healthz_on_health_port(tmp_path: Path, redis_server: RedisServer) -> None:
    port = free_port()
    env = base_env(tmp_path / "data", REDIS_URL=redis_server.url, HEALTH_PORT=str(port))
    env["HORDE_API_URL"] = f"http://127.0.0.1:{free_port()}"  # never the internet
    del env["DATA_DIR"]  # a worker needs no data directory (and no chat token: none is set)

    def healthy() -> bool:
        return subprocess.run(healthcheck_command(), env=env, capture_output=True).returncode == 0

    assert not healthy()  # nothing listens yet
    with process(["worker"], env, tmp_path, tmp_path / "worker.log"):
        wait_for(healthy, 30, message="a healthy worker")
        redis_server.stop()  # /healthz answers 503 without Redis
        wait_for(lambda: not healthy(), 30, message="the check to fail without Redis")
    assert not (tmp_path / "data").exists()


def test_the_scale_profile_runs_two_bot_processes_on_postgresql_with_a_shard_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    scaled = [name for name, spec in compose["services"].items() if "bot-shard" in name]
    assert len(scaled) == 2
    assert all(compose["services"][name]["profiles"] == ["scale"] for name in scaled)
    assert compose["services"]["postgres"]["profiles"] == ["scale"]
    assert "profiles" not in compose["services"]["bot"]  # the default shape is unchanged
    shards: list[int] = []
    for name in scaled:
        settings = settings_from(service_env(name, EXAMPLE), monkeypatch)
        url = settings.database_url.get_secret_value() if settings.database_url else ""
        assert url.startswith("postgresql://imaginebot:") and url.endswith(
            "@postgres:5432/imaginebot"
        )
        assert settings.redis_url == "redis://redis:6379/0" and settings.bot_instance == "main"
        assert settings.data_dir == Path("/data") and settings.discord_shard_count == 2
        shards += settings.shard_ids or []
        assert compose["services"][name]["volumes"] == ["bot-data:/data"]  # the same images
    assert sorted(shards) == [0, 1]  # every shard run once
