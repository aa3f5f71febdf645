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

import jsonschema
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


# The Compose Specification's JSON schema, vendored so no test reaches the internet. Source:
# https://github.com/compose-spec/compose-spec/blob/170098ba07d9f53c383a41bfd4c5166b0a4529a6/schema/compose-spec.json
COMPOSE_SCHEMA = ROOT / "tests" / "schemas" / "compose-spec.json"
IMAGINEBOT_SERVICES = ("bot", "worker", "bot-shard-0", "bot-shard-1")
# Modules a worker process runs: every setting they read must reach the worker containers.
WORKER_MODULES = (
    "bot/core/generation/providers",
    "bot/core/generation/worker.py",
    "bot/core/generation/jobs.py",
    "bot/core/generation/queue.py",
    "bot/worker_supervisor.py",
    "bot/http_client.py",
    "bot/health.py",
    "bot/health_checks.py",
    "bot/provider_checks.py",
)


def compose_file() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_the_compose_file_follows_the_compose_specification() -> None:
    validator = jsonschema.Draft7Validator(json.loads(COMPOSE_SCHEMA.read_text()))
    assert [error.message for error in validator.iter_errors(compose_file())] == []
    # The schema notices mistakes of the kind a hand-edited file makes.
    broken = compose_file()
    broken["services"]["worker"]["depends_on"] = {"redis": {"condition": "healthy"}}
    broken["services"]["bot"]["port"] = ["8000:8000"]
    assert len(list(validator.iter_errors(broken))) == 2


def test_redis_and_postgresql_are_waited_for_until_healthy() -> None:
    services = compose_file()["services"]
    for name in IMAGINEBOT_SERVICES:
        needs = services[name]["depends_on"]
        assert "redis" in needs, name
        for dependency, condition in needs.items():
            assert condition == {"condition": "service_healthy"}, (name, dependency)
            assert services[dependency]["healthcheck"]["test"][0] == "CMD", dependency
    assert "postgres" in services["bot-shard-0"]["depends_on"]


def test_one_image_is_built_once_and_run_by_every_imaginebot_service() -> None:
    services = compose_file()["services"]
    assert {services[name]["image"] for name in IMAGINEBOT_SERVICES} == {"imaginebot:local"}
    assert [name for name, spec in services.items() if "build" in spec] == ["bot"]
    for name in IMAGINEBOT_SERVICES[1:]:
        assert services[name]["pull_policy"] == "never", name  # never a registry's image


def test_the_gallery_and_the_webhook_are_published_and_listened_for_on_every_interface(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = filled_example(WEB_PORT="8123", TELEGRAM_WEBHOOK_PORT="8443")
    for name in ("bot", "bot-shard-0", "bot-shard-1"):
        settings = settings_from(service_env(name, text), monkeypatch)
        published = {
            interpolate(mapping, dotenv(text))
            for mapping in compose_file()["services"]["bot"]["ports"]
        }
        assert published == {"8123:8123", "8443:8443"}
        assert settings.web_port == 8123 and settings.telegram_webhook_port == 8443
        assert settings.web_host == "0.0.0.0" and settings.telegram_webhook_listen == "0.0.0.0"
    # Outside the container (no WEB_HOST), the gallery listens on this machine only.
    assert Settings.model_fields["web_host"].default == "127.0.0.1"
    assert image_env()["WEB_HOST"] == "0.0.0.0"


def worker_setting_names() -> set[str]:
    found: set[str] = set()
    for place in WORKER_MODULES:
        path = ROOT / place
        for module in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            found |= {n.upper() for n in re.findall(r"settings\.([a-z_]+)", module.read_text())}
    return found & SETTINGS


def test_every_setting_the_workers_read_reaches_them() -> None:
    env = service_env("worker", EXAMPLE)
    read = worker_setting_names()
    assert {"MAX_IMAGE_BYTES", "MAX_IMAGE_PIXELS", "OPENAI_API_KEY"} <= read  # the scan works
    assert read - set(env) == set()


def test_the_postgresql_password_is_in_the_example_env_file() -> None:
    assert "POSTGRES_PASSWORD" in dotenv((ROOT / ".env.example").read_text())
    postgres = compose_file()["services"]["postgres"]["environment"]
    assert postgres["POSTGRES_PASSWORD"] == "${POSTGRES_PASSWORD:-change-me}"
