"""Crash windows hit on purpose: the bot kills itself (SIGKILL, through the test-only
`IMAGINEBOT_FAULT` hook in bot/core/faults.py) at an exact point of a delivery, and a second
bot process must finish the request with exactly one picture in the chat.

(a) after_deliver: the platform accepted the picture, the row still says `done`. Safe because
    delivery edits the acknowledgement message (editing twice leaves one picture; on Discord
    the restart looks at the message first and does not upload again), and the fallbacks
    that send a new message mark the attempt before sending.
(b) before_ack:done: the completion event was handled (row `delivered`) but not acknowledged
    on the Redis stream, so the next bot reads it again and must not post again.

Each runs on Discord and on Telegram: `imaginebot run` (in-process worker) on a private Redis,
the fake OpenAI images API and the platform's fake. Pictures are counted in the fake's
messages (what a user would see), not in calls.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.discord_gateway import DiscordDriver
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.telegram_api import TelegramDriver
from tests.support import RedisServer, base_env, process, rows, wait_for

pytestmark = pytest.mark.e2e

GROUP, ALICE = -100400500, 21


class DiscordSide:
    name = "discord"

    def __init__(self) -> None:
        self.driver = DiscordDriver().start()
        self.command: Any = None

    def env(self) -> dict[str, str]:
        return self.driver.env()

    def ready(self) -> bool:
        return self.driver.connected()

    def gone(self) -> bool:
        return not self.driver.connected()

    def ask(self, prompt: str) -> None:
        self.command = self.driver.slash("imagine", prompt=prompt)

    def acknowledged(self) -> bool:
        return bool(self.driver.writes(self.command))

    def break_edits(self) -> None:
        """The interaction token expires: delivery must post a new channel message."""
        record = self.driver.fake.interactions[self.command.id]
        self.driver.server.run_sync(setattr, record, "expired", True)

    def row(self, db: Path) -> dict[str, Any] | None:
        found = rows(
            db,
            "SELECT * FROM generations WHERE json_extract(handle, '$.interaction_id') = ?",
            (self.command.id,),
        )
        return found[0] if found else None

    def pictures(self) -> int:
        """Images on the channel's messages as they stand now."""

        def count() -> int:
            return sum(
                len(m.attachments)
                for m in self.driver.fake.messages.values()
                if m.channel_id == self.driver.channel_id and not m.deleted
            )

        return self.driver.server.run_sync(count)

    def uploads(self) -> int:
        """Writes to the interaction's messages that carried a file."""
        return sum(1 for w in self.driver.writes(self.command) if w.files)

    def stop(self) -> None:
        self.driver.stop()


class TelegramSide:
    name = "telegram"

    def __init__(self) -> None:
        self.driver = TelegramDriver().start()
        self.driver.add_user(ALICE, "alice")
        self.driver.add_group(GROUP, {ALICE: "member"})
        self.command: dict[str, Any] = {}

    def env(self) -> dict[str, str]:
        return self.driver.env()

    def ready(self) -> bool:
        return self.driver.polling()

    def gone(self) -> bool:
        return True  # long polling needs no session to close

    def ask(self, prompt: str) -> None:
        self.command = self.driver.send(GROUP, ALICE, f"/imagine {prompt}")

    def acknowledged(self) -> bool:
        return bool(self.driver.replies_to(self.command))

    def break_edits(self) -> None:
        """A Bot API server that cannot turn the text status into a photo: send a new one."""
        self.driver.fake.media_into_text = False

    def row(self, db: Path) -> dict[str, Any] | None:
        found = [
            r
            for r in rows(db, "SELECT * FROM generations")
            if r["reply_to_message_id"] == str(self.command["message_id"])
        ]
        return found[0] if found else None

    def pictures(self) -> int:
        """Messages in the group that show a photo, as they stand now."""
        fake = self.driver.fake

        def count() -> int:
            return sum(
                1 for (chat, _mid), m in fake.messages.items() if chat == GROUP and "photo" in m
            )

        return self.driver.server.run_sync(count)

    def stop(self) -> None:
        self.driver.stop()


@pytest.fixture(params=["discord", "telegram"])
def side(request: pytest.FixtureRequest) -> Iterator[DiscordSide | TelegramSide]:
    made = DiscordSide() if request.param == "discord" else TelegramSide()
    yield made
    made.stop()


def logs(root: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(root.glob("*.log")))


def pending_events(redis: RedisServer) -> int:
    client = redis.client()
    try:
        return sum(
            int(client.xpending(key, "bot")["pending"])
            for key in client.scan_iter("imaginebot:events:*")
        )
    finally:
        client.close()


def crash_then_restart(
    tmp_path: Path,
    side: DiscordSide | TelegramSide,
    openai: FakeOpenAI,
    redis: RedisServer,
    fault: str,
    *,
    fallback: bool = False,
    between: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[dict[str, Any], int, dict[str, Any]]:
    """Run one request into `fault`; return its row as the crash left it, the events then
    unacknowledged, and the row as it ended. `between` runs while no bot is up."""
    env = base_env(
        tmp_path / "data",
        OPENAI_API_KEY=openai.api_key,
        OPENAI_BASE_URL=f"{openai.base_url}/v1",
        REDIS_URL=redis.url,
        **side.env(),
    )
    db = tmp_path / "data" / "imaginebot.sqlite3"
    if fallback:
        openai.delay = 1.0  # time to break the edit path after the acknowledgement
    with process(
        ["run"], {**env, "IMAGINEBOT_FAULT": fault}, tmp_path, tmp_path / "bot1.log"
    ) as bot:
        wait_for(side.ready, 30, message=lambda: f"{side.name} connection\n{logs(tmp_path)}")
        side.ask("a lantern in the fog")
        if fallback:
            wait_for(side.acknowledged, 10, message="the acknowledgement")
            side.break_edits()
        code = bot.wait(30)
    assert code == -signal.SIGKILL, logs(tmp_path)
    crashed = side.row(db)
    assert crashed is not None
    unacknowledged = pending_events(redis)
    openai.delay = 0.0
    wait_for(side.gone, 15, message="the old session to close")
    if between is not None:
        between(crashed)
    with process(["run"], env, tmp_path, tmp_path / "bot2.log"):
        wait_for(side.ready, 30, message=lambda: f"{side.name} after restart\n{logs(tmp_path)}")
        final = wait_for(
            lambda: (r := side.row(db)) and r["status"] in ("delivered", "failed") and r,
            30,
            message=lambda: f"the request to settle\n{logs(tmp_path)}",
        )
        wait_for(lambda: pending_events(redis) == 0, 15, message="the stream to be acknowledged")
    # One request, handled once: the restart did not take the command in a second time.
    assert len(rows(db, "SELECT id FROM generations")) == 1
    return crashed, unacknowledged, final


@pytest.mark.parametrize("fallback", [False, True], ids=["edit", "new-message"])
def test_killed_after_the_platform_took_the_picture_posts_it_once(
    tmp_path: Path,
    side: DiscordSide | TelegramSide,
    fake_openai: FakeOpenAI,
    redis_server: RedisServer,
    fallback: bool,
) -> None:
    crashed, _unacknowledged, final = crash_then_restart(
        tmp_path, side, fake_openai, redis_server, "after_deliver", fallback=fallback
    )
    # The window was hit: the picture had reached the chat, the row did not say so yet.
    assert crashed["status"] == "done"
    if fallback:
        assert json.loads(crashed["handle"])["fallback_sent_at"]
    assert final["status"] == "delivered"
    assert side.pictures() == 1
    assert len(fake_openai.calls) == 1  # the restart delivered the stored image; no new call
    if isinstance(side, DiscordSide) and not fallback:
        # The restart looked at the response first and did not upload the picture again.
        # (The Bot API cannot show a message, so on Telegram the restart edits it again.)
        assert side.uploads() == 1


def test_killed_after_handling_an_event_before_acknowledging_it_posts_once(
    tmp_path: Path,
    side: DiscordSide | TelegramSide,
    fake_openai: FakeOpenAI,
    redis_server: RedisServer,
) -> None:
    crashed, unacknowledged, final = crash_then_restart(
        tmp_path, side, fake_openai, redis_server, "before_ack:done"
    )
    # The window was hit: delivered, yet the event was still unacknowledged when the bot died.
    assert crashed["status"] == "delivered" and unacknowledged == 1
    assert final["status"] == "delivered" and final["delivered_at"] == crashed["delivered_at"]
    assert side.pictures() == 1
    assert len(fake_openai.calls) == 1


def test_a_late_message_deleted_while_the_bot_was_down_is_posted_again(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    """The late channel message was posted and its id stored, then the bot died before the row
    said `delivered`, and a moderator deleted the message meanwhile. The restart reads the
    stored message back instead of trusting the marker: it is gone, so the picture is posted
    again, and the row says `delivered` only once it is in the channel."""
    side = DiscordSide()
    fake = side.driver.fake

    def delete_it(crashed: dict[str, Any]) -> None:
        stored = json.loads(crashed["handle"])["fallback_message_id"]
        side.driver.server.run_sync(setattr, fake.messages[stored], "deleted", True)

    try:
        crashed, _, final = crash_then_restart(
            tmp_path,
            side,
            fake_openai,
            redis_server,
            "after_deliver",
            fallback=True,
            between=delete_it,
        )
        assert crashed["status"] == "done" and final["status"] == "delivered"
        assert side.pictures() == 1
        again = json.loads(final["handle"])["fallback_message_id"]
        assert again != json.loads(crashed["handle"])["fallback_message_id"]
        assert not fake.messages[again].deleted
    finally:
        side.stop()
