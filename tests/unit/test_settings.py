"""Blank means unset, for every setting: `NAME=` in .env or an empty variable keeps the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import ENV_FILE_VARIABLE, Settings, load_settings

NAMES = [name.upper() for name in Settings.model_fields]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv(ENV_FILE_VARIABLE)  # these tests read `.env` as a user's bot does
    monkeypatch.chdir(tmp_path)  # no .env but the test's own


def test_a_blank_line_for_every_setting_is_the_default(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("".join(f"{name}=\n" for name in NAMES), encoding="utf-8")
    blank = load_settings()
    (tmp_path / ".env").unlink()
    assert blank.model_dump() == load_settings().model_dump()
    assert blank.discord_token is None and blank.telegram_token is None
    assert blank.discord_guild_id is None and blank.health_port is None


def test_an_empty_variable_for_every_setting_is_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in NAMES:
        monkeypatch.setenv(name, "")
    assert load_settings().model_dump() == Settings(_env_file=None).model_dump()


def test_daily_limit_per_scope_zero_is_no_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAILY_LIMIT_PER_SCOPE", "0")
    assert load_settings().daily_limit_per_scope is None
    monkeypatch.setenv("DAILY_LIMIT_PER_SCOPE", "")
    assert load_settings().daily_limit_per_scope == 500


def test_imaginebot_env_file_names_the_settings_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from bot.settings import ConfigError

    (tmp_path / ".env").write_text("WEB_PORT=1111\n", encoding="utf-8")
    (tmp_path / "other.env").write_text("WEB_PORT=2222\n", encoding="utf-8")
    assert load_settings().web_port == 1111  # unset: `.env` in the working directory
    monkeypatch.setenv(ENV_FILE_VARIABLE, str(tmp_path / "other.env"))
    assert load_settings().web_port == 2222
    monkeypatch.setenv(ENV_FILE_VARIABLE, "")
    assert load_settings().web_port is None  # empty: no file at all
    monkeypatch.setenv(ENV_FILE_VARIABLE, str(tmp_path / "missing.env"))
    with pytest.raises(ConfigError, match=r"IMAGINEBOT_ENV_FILE names .*missing\.env"):
        load_settings()


def test_prompt_translation_is_off_by_default_and_needs_the_openai_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.settings import ConfigError

    assert load_settings().prompt_translation == "off"
    monkeypatch.setenv("PROMPT_TRANSLATION", "openai")
    with pytest.raises(ConfigError, match="PROMPT_TRANSLATION=openai needs OPENAI_API_KEY"):
        load_settings()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    settings = load_settings()
    assert (settings.prompt_translation, settings.prompt_translation_model) == (
        "openai",
        "gpt-4o-mini",
    )
