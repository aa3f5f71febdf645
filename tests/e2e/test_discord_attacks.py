"""Forged custom ids on a foreign message, and honest deletes, on Discord: the real bot
process and discord.py against the fake Discord (issue 26.1, issue 25.6).

Alice puts the custom ids of her own picture's buttons (and of her forget-me confirmation)
on Bob's picture, in the same server: each must be refused, and Bob's message, the rows and
the files must stay as they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.discord_api import Interaction
from tests.fakes.discord_gateway import MODERATOR, DiscordDriver
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.server import ServerThread
from tests.support import RedisServer, process, rows, wait_for
from tests.support.discord_stack import Stack, delivered, ephemeral_answer, row, start_bot

pytestmark = pytest.mark.e2e

NOT_THIS = "does not belong to this message"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("discord-forged")
    fake = FakeOpenAI()
    openai_server = ServerThread(fake.app()).start()
    fake.base_url = openai_server.url
    redis = RedisServer(root / "redis").start()
    driver = DiscordDriver().start()
    stack = Stack(root, driver, fake, redis.url)
    try:
        with process(["worker"], stack.env, root, root / "worker.log"), start_bot(stack):
            wait_for(driver.connected, 30, message=lambda: f"gateway connection\n{stack.log()}")
            yield stack
    finally:
        driver.stop()
        redis.stop()
        openai_server.stop()


def forged_modal(stack: Stack, message: Any, custom_id: str, user: str) -> Interaction:
    """A Remix modal submit that says it came from `message`."""
    d = stack.discord
    text = {"type": 4, "custom_id": "prompt", "value": "a forged remix"}
    return d._send(
        5,
        {"custom_id": custom_id, "components": [{"type": 1, "components": [text]}]},
        user=d.user(user),
        channel_id=message.channel_id,
        guild_id=d.guild_id,
        permissions=MODERATOR,
        message=message,
    )


def test_every_button_kind_forged_onto_another_members_picture_is_refused(
    stack: Stack,
) -> None:
    d = stack.discord
    alices, _ = delivered(stack, d.slash("imagine", user="alice", prompt="a paper lantern"))
    bobs, bobs_message = delivered(stack, d.slash("imagine", user="bob", prompt="a tin boat"))
    before = (bobs_message.content, list(bobs_message.attachments), bobs_message.components)
    rows_before = {r["id"] for r in rows(stack.db, "SELECT id FROM generations")}
    gid = alices["id"]
    for custom_id in (
        f"ib:delete:{gid}",
        f"ib:reroll:{gid}",
        f"ib:restyle:{gid}",
        f"ib:remix:{gid}",
        f"ib:info:{gid}",
        f"ib:upscale:{gid}:1",
        f"ib:vary:{gid}:1",
        f"ib:imagine-this:{gid}:1",
        "ib:forget:" + str(d.user("alice")["id"]),
        "ib:forget-no:" + str(d.user("alice")["id"]),
    ):
        # Alice is a moderator here: even her Delete must not reach Bob's message.
        forged = d.forge(bobs_message, custom_id, user="alice", permissions=MODERATOR)
        assert NOT_THIS in ephemeral_answer(stack, forged), custom_id
    for custom_id in (f"ib:restyle-pick:{gid}", "ib:show:history"):
        forged = d._send(
            3,
            {"custom_id": custom_id, "component_type": 3, "values": ["anime"]},
            user=d.user("alice"),
            channel_id=bobs_message.channel_id,
            guild_id=d.guild_id,
            permissions=MODERATOR,
            message=bobs_message,
        )
        assert NOT_THIS in ephemeral_answer(stack, forged), custom_id
    modal = forged_modal(stack, bobs_message, f"ib:remix-submit:{gid}", "alice")
    assert NOT_THIS in ephemeral_answer(stack, modal)

    current = d.server.run_sync(d.fake.messages.get, bobs_message.id)
    assert current is not None and not current.deleted
    assert (current.content, list(current.attachments), current.components) == before
    assert {r["id"] for r in rows(stack.db, "SELECT id FROM generations")} == rows_before
    assert row(stack, bobs["id"]) is not None and row(stack, gid) is not None
    assert Path(bobs["image_path"]).is_file() and Path(alices["image_path"]).is_file()


def test_delete_of_a_message_already_gone_removes_the_row_and_says_so(stack: Stack) -> None:
    d = stack.discord
    mine, message = delivered(stack, d.slash("imagine", user="alice", prompt="a vanishing kite"))
    assert row(stack, mine["id"])["handle"].count(message.id) == 1  # type: ignore[index]
    d.server.run_sync(setattr, message, "deleted", True)  # someone removed it in Discord
    press = d.forge(message, f"ib:delete:{mine['id']}", user="alice")
    wait_for(lambda: row(stack, mine["id"]) is None, 15, message=lambda: f"the row\n{stack.log()}")
    followups = wait_for(
        lambda: [w for w in d.writes(press) if w.kind == "followup"], 15, message="the answer"
    )
    assert "already gone" in followups[0].body["content"]
    assert not Path(mine["image_path"]).exists()


def test_own_delete_removes_the_message_then_the_row(stack: Stack) -> None:
    d = stack.discord
    mine, message = delivered(stack, d.slash("imagine", user="alice", prompt="a paper boat"))
    press = d.click(message, f"ib:delete:{mine['id']}", user="alice")
    wait_for(lambda: row(stack, mine["id"]) is None, 15, message=lambda: f"the row\n{stack.log()}")
    assert message.deleted
    kinds = [w.kind for w in d.writes(press)]
    assert kinds == ["callback", "delete"], kinds


def test_altered_custom_ids_get_a_plain_answer(stack: Stack) -> None:
    """Issue 26.8: a superscript digit in a tile index (`isdigit()` true, `int()` raises)
    crashed the router and the press was never acknowledged."""
    d = stack.discord
    mine, message = delivered(stack, d.slash("imagine", user="alice", prompt="a clay pot"))
    rows_before = len(rows(stack.db, "SELECT id FROM generations"))
    for custom_id in (
        f"ib:upscale:{mine['id']}:\u00b2",
        f"ib:upscale:{mine['id']}:\u0663",  # Arabic-Indic three
        f"ib:vary:{mine['id']}:9999999999999999999999",
        f"ib:reroll:{mine['id']}\u00a0",
        "ib:" + "x" * 200,
        "ib:delete:",
    ):
        forged = d.forge(message, custom_id, user="alice")
        assert "no longer supported" in ephemeral_answer(stack, forged), custom_id
    assert len(rows(stack.db, "SELECT id FROM generations")) == rows_before
    assert "Traceback" not in stack.log()
