"""A provider nobody answers at is said as what it is: "cannot be reached", with its own stored
code, never "busy". `imaginebot run` (Telegram, embedded queue) as a subprocess against the fake
Bot API, with AI Horde (the no-key default) at an address where nothing listens."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.telegram_api import TelegramDriver
from tests.support import base_env, free_port, process, rows, wait_for

pytestmark = pytest.mark.e2e

ALICE = 11


def test_an_unreachable_provider_is_told_as_unreachable_in_the_chat_and_the_row(
    tmp_path: Path, telegram: TelegramDriver
) -> None:
    env = base_env(
        tmp_path / "data",
        HORDE_API_URL=f"http://127.0.0.1:{free_port()}/api/v2",  # connection refused
        JOB_MAX_TRIES="2",
        **telegram.env(),
    )
    telegram.add_user(ALICE, "alice")
    db = tmp_path / "data" / "imaginebot.sqlite3"
    with process(["run"], env, tmp_path, tmp_path / "bot.log"):
        wait_for(telegram.polling, 30, message="long polling")
        command = telegram.send(ALICE, ALICE, "/imagine a lighthouse in fog")

        def settled() -> dict[str, object] | None:
            found = rows(db, "SELECT * FROM generations") if db.exists() else []
            return found[0] if found and found[0]["status"] == "failed" else None

        row = wait_for(settled, 60, message=(tmp_path / "bot.log").read_text()[-3000:])
        expected = (
            "The image service cannot be reached right now (no connection). Please try again later."
        )
        assert row["failure_code"] == "unreachable" and row["failure_reason"] == expected
        wait_for(
            lambda: any(expected in m.get("text", "") for m in telegram.replies_to(command)),
            20,
            message=lambda: f"the failure in the chat: {telegram.replies_to(command)}",
        )
    said = " ".join(
        str(c.params.get("text", ""))
        for c in telegram.fake.calls
        if c.method.startswith(("send", "edit"))
    )
    assert "busy" not in said
