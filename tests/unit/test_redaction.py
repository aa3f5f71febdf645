"""The log filter masks configured secrets and token shapes, in messages and tracebacks."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.redaction import MASK, RedactingFilter, install, redact, remember, secret_values
from bot.settings import Settings

# Shaped like real tokens, made up here (built from parts so no token-shaped literal is committed).
TELEGRAM = "7712345678:" + "AA" + "Hx" * 16 + "k"
DISCORD = "MTA5ODc2NTQzMjEwOTg3NjU0" + ".GhIjKl." + "abcdefghijklmnopqrstuvwxyz0123"
OPENAI = "sk-" + "proj-abcdefghijklmnop1234"
INTERACTION = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OTpxd2VydHl1aW9w"


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    install(["configured-secret-value"], [handler])
    yield stream
    logger.removeHandler(handler)


def test_configured_secrets_and_token_shapes_are_masked(output: io.StringIO) -> None:
    log = logging.getLogger("test.redaction")
    log.info("The token `%s` was rejected by the server.", TELEGRAM)
    log.debug("POST https://api.telegram.org/bot%s/getMe", TELEGRAM)
    log.debug("PATCH https://discord.com/api/v10/webhooks/123456/%s/messages/@original", "x" * 70)
    log.debug("POST /api/v10/interactions/987/%s/callback", INTERACTION)
    log.info("Authorization: Bot %s", DISCORD)
    log.warning("openai said: Incorrect API key provided: %s", OPENAI)
    log.debug("params (%r,)", '{"token": "anything-at-all", "channel_id": "5"}')
    log.error("with configured-secret-value inside")
    text = output.getvalue()
    for secret in (TELEGRAM, TELEGRAM.split(":")[1], DISCORD, INTERACTION, "x" * 70):
        assert secret not in text
    assert OPENAI not in text and "anything-at-all" not in text
    assert "configured-secret-value" not in text
    assert text.count(MASK) >= 8
    # What is not secret stays readable.
    assert "/webhooks/123456/" in text and "/callback" in text and '"channel_id": "5"' in text


def test_tracebacks_are_masked_too(output: io.StringIO) -> None:
    log = logging.getLogger("test.redaction")
    try:
        raise RuntimeError(f"The token `{TELEGRAM}` was rejected")
    except RuntimeError:
        log.exception("start failed")
    text = output.getvalue()
    assert "RuntimeError" in text and "start failed" in text and TELEGRAM not in text


def test_secret_values_are_every_set_secret_setting_but_public_defaults(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        telegram_token=TELEGRAM,
        discord_token=DISCORD,
        openai_api_key="sk-abc",
    )  # type: ignore[call-arg]
    values = secret_values(settings)
    assert set(values) == {TELEGRAM, TELEGRAM.split(":")[1], DISCORD, "sk-abc"}
    assert "0000000000" not in values  # the AI Horde's anonymous key is public


def test_a_secret_made_at_run_time_is_masked_from_then_on() -> None:
    filter_ = RedactingFilter()
    remember("generated-webhook-secret-123")
    record = logging.LogRecord(
        "x", logging.INFO, "f", 1, "secret is %s", ("generated-webhook-secret-123",), None
    )
    filter_.filter(record)
    assert record.getMessage() == f"secret is {MASK}"
    assert redact("nothing here") == "nothing here"
