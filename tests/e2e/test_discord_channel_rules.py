"""Discord channels where the bot may not do everything, end to end.

`imaginebot run --no-worker` and `imaginebot worker` as subprocesses, a private Redis, the
fake OpenAI images API and the fake Discord, which holds bot-token messages to the channel's
permissions for the bot (View Channel, Send Messages or Send Messages in Threads, Read
Message History, Attach Files), to the server's own upload limit, and can cut a connection.
What is asserted is what reached the fake (the message, its channel, the uploaded bytes) or
what the bot wrote to SQLite.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from tests.fakes.discord_api import Interaction, Message, Write
from tests.fakes.discord_gateway import (
    ATTACH_FILES,
    BOT_DEFAULT,
    SEND_IN_THREADS,
    DiscordDriver,
)
from tests.fakes.openai_images import FakeOpenAI
from tests.support import free_port, wait_for
from tests.support.discord_stack import Stack, running_discord_stack

pytestmark = pytest.mark.e2e

NITRO_LIMIT = 500 * 1024 * 1024  # what a Nitro user's interactions allow
SERVER_LIMIT = 10 * 1024 * 1024  # an unboosted server's own limit


class Channels:
    def __init__(self, driver: DiscordDriver) -> None:
        fake = driver.fake
        self.thread = fake.add_thread(driver.channel_id)
        self.no_files = fake.add_channel(driver.guild_id)
        fake.bot_permissions[self.no_files] = BOT_DEFAULT & ~ATTACH_FILES
        self.quiet_thread = fake.add_thread(driver.channel_id)
        fake.bot_permissions[self.quiet_thread] = BOT_DEFAULT & ~SEND_IN_THREADS


def add_channels(driver: DiscordDriver) -> None:
    driver.channels = Channels(driver)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, openai: FakeOpenAI) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("discord-channels")
    port = free_port()  # a web gallery, where a picture made smaller is kept at full size
    with running_discord_stack(
        root,
        openai=openai,
        prepare=add_channels,
        WEB_PORT=str(port),
        PUBLIC_URL=f"http://127.0.0.1:{port}",
    ) as built:
        yield built


def channels(stack: Stack) -> Channels:
    found: Channels = stack.discord.channels  # type: ignore[attr-defined]
    return found


def expire(stack: Stack, command: Interaction) -> None:
    """Once the command is acknowledged, its token stops working (as after 15 minutes)."""
    d = stack.discord
    wait_for(lambda: d.writes(command), 10, message="the acknowledgement")
    d.server.run_sync(setattr, d.fake.interactions[command.id], "expired", True)


def posted_for(stack: Stack, generation_id: str) -> list[Write]:
    """Bot-token messages (channel or DM) that carry this request's picture."""
    return [
        w
        for w in stack.discord.fake.writes
        if w.kind == "channel_message"
        and any(f.filename.startswith(generation_id) for f in w.files)
    ]


def message_of(stack: Stack, write: Write) -> Message:
    message: Message = stack.discord.fake.messages[str(write.message_id)]
    return message


def shown_texts(stack: Stack, command: Interaction) -> list[str]:
    """Every text the command's response showed, in order."""
    return [
        str(w.body["content"])
        for w in stack.discord.writes(command)
        if w.kind in ("edit_original", "followup") and w.body.get("content")
    ]


def slow(stack: Stack, seconds: float) -> Any:
    class Slow:
        def __enter__(self) -> None:
            stack.openai.delay = seconds

        def __exit__(self, *exc: object) -> None:
            stack.openai.delay = 0.0

    return Slow()


def test_a_command_in_a_thread_is_answered_there_and_its_late_picture_posted_there(
    stack: Stack,
) -> None:
    d, thread = stack.discord, channels(stack).thread
    with slow(stack, 1.0):
        command = d.slash("imagine", user="tess", channel=thread, prompt="a thread of lanterns")
        expire(stack, command)
        row = stack.delivered_row(command)
    assert row["status"] == "delivered" and row["chat_id"] == thread
    (post,) = posted_for(stack, row["id"])
    assert message_of(stack, post).channel_id == thread
    assert post.files[0].data == stack.openai.images[-1]


@pytest.mark.parametrize("where", ["no-attach-files", "thread-without-send-in-threads"])
def test_where_the_late_picture_cannot_be_posted_the_ack_says_so_and_it_comes_by_dm(
    stack: Stack, where: str
) -> None:
    d, found = stack.discord, channels(stack)
    channel = found.no_files if where == "no-attach-files" else found.quiet_thread
    missing = "Attach Files" if where == "no-attach-files" else "Send Messages in Threads"
    user = f"dm-{where}"
    with slow(stack, 2.0):
        command = d.slash("imagine", user=user, channel=channel, prompt="a sealed room")
        acknowledged = wait_for(lambda: shown_texts(stack, command), 10, message="queued text")
        expire(stack, command)
        row = stack.delivered_row(command)
    # Read from the interaction's app_permissions, told at acknowledgement time.
    assert missing in acknowledged[0] and "15 minutes" in acknowledged[0]
    assert row["status"] == "delivered", row["failure_reason"]
    (post,) = posted_for(stack, row["id"])
    dm = d.dm_channel(user)
    assert message_of(stack, post).channel_id == dm
    assert post.files[0].data == stack.openai.images[-1]
    # Nothing was tried in the channel that would have refused it.
    assert not [e for e in d.fake.errors if f"/channels/{channel}/" in e]


def test_with_dms_closed_the_late_picture_fails_with_a_reason_history_shows(
    stack: Stack,
) -> None:
    d, channel = stack.discord, channels(stack).no_files
    d.server.run_sync(d.fake.closed_dms.add, d.user("hermit")["id"])
    with slow(stack, 1.0):
        command = d.slash("imagine", user="hermit", channel=channel, prompt="a closed door")
        expire(stack, command)
        row = stack.delivered_row(command)
    assert row["status"] == "failed"
    assert "Attach Files" in row["failure_reason"]
    assert "DMs are closed" in row["failure_reason"]
    assert posted_for(stack, row["id"]) == []
    history = d.slash("history", user="hermit")
    text = wait_for(
        lambda: next(
            (w.body.get("content") for w in d.writes(history) if w.body.get("content")), None
        ),
        10,
        message="the history answer",
    )
    assert "Attach Files" in text and "DMs are closed" in text


def test_shortly_before_the_token_ends_the_response_says_still_working(stack: Stack) -> None:
    """A command whose 15 minutes are nearly over (it was made 13 minutes ago, as a busy
    queue makes them) in a channel the late picture could not be posted to: the response
    says "still working" before the token ends, and the picture still replaces it."""
    d, channel = stack.discord, channels(stack).no_files
    with slow(stack, 8.0):
        command = d.slash(
            "imagine", user="patient", channel=channel, prompt="a long wait", age=15 * 60 - 125
        )
        still = wait_for(
            lambda: next((t for t in shown_texts(stack, command) if "Still working" in t), None),
            15,
            message=lambda: f"the still-working edit\n{stack.log()}",
        )
        row = stack.delivered_row(command)
    assert "direct messages" in still
    assert row["status"] == "delivered"
    original = d.server.run_sync(d.fake.original, command.id)
    assert original is not None and len(original.attachments) == 1
    assert posted_for(stack, row["id"]) == []


def test_the_late_picture_fits_the_servers_upload_limit_not_the_users(stack: Stack) -> None:
    """A Nitro user's interaction allows far more than the server itself: the response takes
    the original, the late channel message only what the server allows, made to fit."""
    d = stack.discord
    stack.openai.script[:] = ["noise:2048x2048", "noise:2048x2048"]
    in_time = d.slash("imagine", user="nitro", prompt="static", size_limit=NITRO_LIMIT)
    first = stack.delivered_row(in_time)
    original = d.server.run_sync(d.fake.original, in_time.id)
    assert first["status"] == "delivered" and original is not None
    big = original.attachments[0][1].data
    assert len(big) > SERVER_LIMIT and big in stack.openai.images

    with slow(stack, 1.0):
        late = d.slash("imagine", user="nitro", prompt="more static", size_limit=NITRO_LIMIT)
        expire(stack, late)
        row = stack.delivered_row(late)
    assert row["status"] == "delivered", row["failure_reason"]
    (post,) = posted_for(stack, row["id"])
    sent = post.files[0].data
    assert len(sent) <= SERVER_LIMIT
    with Image.open(io.BytesIO(sent)) as picture:
        assert picture.format == "JPEG"
    assert "full size" in post.body["content"].lower() and "gallery" in post.body["content"]


@pytest.mark.parametrize(
    "after", [False, True, "5xx"], ids=["before-posting", "answer-lost", "5xx-after-posting"]
)
def test_a_connection_cut_during_the_fallback_posts_the_picture_exactly_once(
    stack: Stack, after: bool | str
) -> None:
    """The REST connection drops on the late channel message: before Discord handled it
    (nothing posted), or after (posted, the answer lost: the bot's retry must carry the
    first attempt's nonce); or Discord posted it and a 502 came back, which discord.py
    answers by sending the same request again (with the nonce it made for it). The row is
    `delivered` only once the picture is in the channel, and it is there once."""
    d = stack.discord
    d.server.run_sync(lambda: d.fake.cut("channel_message", 1, after=after))
    with slow(stack, 1.0):
        command = d.slash("imagine", user=f"cut-{after}", prompt="a storm over the wires")
        expire(stack, command)
        row = stack.delivered_row(command)
    expected = {False: "(before)", True: "(after)", "5xx": "(5xx)"}[after]
    assert d.fake.cut_requests[-1].endswith(expected)
    assert row["status"] == "delivered", row["failure_reason"]
    pictures = [
        m
        for m in d.fake.messages.values()
        if not m.deleted and any(up.filename.startswith(row["id"]) for _, up in m.attachments)
    ]
    assert len(pictures) == 1 and pictures[0].channel_id == d.channel_id
    handle = json.loads(row["handle"])
    assert handle["fallback_message_id"] == pictures[0].id
    # A cut cost one attempt, retried after it; discord.py retried the 502 itself.
    assert row["delivery_attempts"] == (0 if after == "5xx" else 1)


def test_a_picture_over_the_interactions_limit_is_made_to_fit_with_a_note(stack: Stack) -> None:
    """Without Nitro the command's response takes 10 MiB a file (`attachment_size_limit`;
    Discord answers 413 over it): a bigger picture is re-encoded to fit and says so."""
    d = stack.discord
    stack.openai.script[:] = ["noise:2048x2048"]
    command = d.slash("imagine", user="plain", prompt="static again", size_limit=SERVER_LIMIT)
    row = stack.delivered_row(command)
    assert row["status"] == "delivered", row["failure_reason"]
    assert len(stack.openai.images[-1]) > SERVER_LIMIT
    original = d.server.run_sync(d.fake.original, command.id)
    assert original is not None and len(original.attachments) == 1
    sent = original.attachments[0][1].data
    assert len(sent) <= SERVER_LIMIT
    with Image.open(io.BytesIO(sent)) as picture:
        assert picture.format == "JPEG"
    assert "full size: see the gallery" in original.content
