"""The README and .env.example document every setting the code reads."""

from __future__ import annotations

import re

from bot.settings import Settings
from tests.support import ROOT

SETTINGS = {name.upper() for name in Settings.model_fields}


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", readme, flags=re.MULTILINE))
    assert SETTINGS - documented == set()
    assert documented - SETTINGS == set()


def test_env_example_lists_every_setting_and_no_secret() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    names = dict(re.findall(r"^([A-Z0-9_]+)=(.*)$", example, flags=re.MULTILINE))
    # Settings the Docker image sets itself are listed commented out: an env file line, even
    # a blank one, would override the image's value.
    commented = set(re.findall(r"^# ([A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert commented == {"DATA_DIR", "HEALTH_PORT", "WEB_HOST"}
    # Besides the settings: what docker-compose.yml reads from .env for itself.
    assert set(names) | commented == SETTINGS | {"POSTGRES_PASSWORD"}
    for secret in (
        "DISCORD_TOKEN",
        "TELEGRAM_TOKEN",
        "OPENAI_API_KEY",
        "TELEGRAM_WEBHOOK_SECRET",
        "WEB_SECRET",
        "POSTGRES_PASSWORD",
    ):
        assert names[secret] == ""
