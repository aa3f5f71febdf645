"""docs/configuration.md and .env.example document every setting the code reads; the README
keeps the promises of its quick start and stays a front door."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import ENV_FILE_VARIABLE, Settings
from tests.support import ROOT

SETTINGS = {name.upper() for name in Settings.model_fields}
README = ROOT / "README.md"


def test_the_configuration_page_documents_every_setting() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", page, flags=re.MULTILINE))
    assert SETTINGS | {ENV_FILE_VARIABLE} == documented


def test_the_readme_is_a_front_door_and_keeps_its_quick_start_promises() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.encode()) <= 12 * 1024
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert quick.index("cp .env.example .env") < quick.index("imaginebot run")
    assert "AI Horde" in quick and "over the internet" in quick and "anonymously" in quick
    # What the quick start says the no-key default does.
    default = Settings(_env_file=None)
    assert default.providers == ("horde",)
    assert default.horde_api_url.startswith("https://aihorde.net/")
    assert default.horde_api_key.get_secret_value() == "0000000000" and "`0000000000`" in quick
    assert default.data_dir == Path("data")
    # Every picture it links exists, and every local link points at a file.
    for target in re.findall(r"\]\(((?:docs/)?[^):#]+)(?:#[^)]*)?\)", text):
        assert (ROOT / target).exists(), target


def test_the_telegram_member_commands_include_describe() -> None:
    text = README.read_text(encoding="utf-8")
    telegram = text.split("- **Telegram**", 1)[1].split("\n\n", 1)[0]
    for command in ("/describe", "/styles", "/mystyle", "/history", "/gallery", "/forget_me"):
        assert command in telegram, command


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


def test_every_test_the_docs_name_exists() -> None:
    """A sentence that says 'this test proves it' must name a test that is there."""
    import ast

    missing = []
    for doc in sorted((ROOT / "docs").glob("*.md")):
        for path, name in re.findall(r"(tests/[\w/]+\.py)::(\w+)", doc.read_text(encoding="utf-8")):
            source = ROOT / path
            if not source.is_file():
                missing.append(f"{doc.name}: {path}")
                continue
            defined = {
                node.name
                for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            }
            if name not in defined:
                missing.append(f"{doc.name}: {path}::{name}")
    assert missing == []
