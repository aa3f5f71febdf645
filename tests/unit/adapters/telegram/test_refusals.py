"""The quiet period after a refusal in a group, and the webhook secret's choice and format."""

from __future__ import annotations

import pytest

from bot.adapters.telegram.refusals import RefusalGate
from bot.adapters.telegram.webhook import webhook_secret
from bot.core.language import CATALOGUES
from bot.settings import ConfigError, Settings, load_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_refusal_per_person_per_chat_per_quiet_period() -> None:
    clock = Clock()
    gate = RefusalGate(60, clock)
    assert gate.allow(-1, "12") is True
    assert gate.allow(-1, "12") is False
    assert gate.allow(-1, "13") is True  # another person in the same group
    assert gate.allow(-2, "12") is True  # the same person in another group
    clock.now += 59.9
    assert gate.allow(-1, "12") is False
    clock.now += 0.2
    assert gate.allow(-1, "12") is True
    # The note is a catalogue text, its wait worded for each reader.
    assert "60 seconds" in CATALOGUES.render(gate.note, "en")
    assert "60 секунд" in CATALOGUES.render(gate.note, "ru")


def test_zero_quiet_seconds_answers_every_refusal() -> None:
    gate = RefusalGate(0, Clock())
    assert all(gate.allow(-1, "12") for _ in range(5))


def test_blank_webhook_secret_is_generated_fresh_and_valid() -> None:
    blank = load_settings(_env_file=None, telegram_webhook_secret="")
    assert blank.telegram_webhook_secret is None
    first, second = webhook_secret(blank), webhook_secret(blank)
    assert first != second and len(first) >= 43
    assert all(c.isalnum() or c in "_-" for c in first)
    given = Settings(_env_file=None, telegram_webhook_secret="abc_DEF-123")  # type: ignore[call-arg]
    assert webhook_secret(given) == "abc_DEF-123"


def test_a_webhook_secret_telegram_would_refuse_fails_at_start() -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        load_settings(_env_file=None, telegram_webhook_secret="has spaces!")
