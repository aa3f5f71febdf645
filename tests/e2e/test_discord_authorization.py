"""Discord buttons are checked against the history row, through the real bot process and
discord.py against the fake Discord with two servers: a button press naming a picture of
another server (or of a DM) is refused and changes nothing, even for a moderator; the same
buttons where the picture was made act.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.discord_gateway import MODERATOR, DiscordDriver
from tests.support import rows, wait_for
from tests.support.discord_stack import (
    Stack,
    delivered,
    ephemeral_answer,
    row,
    running_discord_stack,
)

pytestmark = pytest.mark.e2e

ELSEWHERE = "belongs to a picture from another chat"


def add_other_guild(driver: DiscordDriver) -> None:
    driver.other_guild, _ = driver.fake.add_guild("Other Server")  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("discord-auth")
    with running_discord_stack(root, prepare=add_other_guild) as built:
        yield built


def test_a_button_naming_another_servers_picture_is_refused(stack: Stack) -> None:
    d = stack.discord
    other = d.other_guild  # type: ignore[attr-defined]
    mine, my_message = delivered(stack, d.slash("imagine", user="alice", prompt="a private fox"))
    _, their_message = delivered(
        stack, d.slash("imagine", user="mallory", guild=other, prompt="a tower")
    )
    dm_row, dm_message = delivered(
        stack, d.slash("imagine", user="bob", dm=True, prompt="bob's own note")
    )
    rows_before = len(rows(stack.db, "SELECT id FROM generations"))

    # A moderator of the other server, and a member in a DM, name Alice's picture.
    for message, action, user in (
        (their_message, "delete", "mallory"),
        (their_message, "reroll", "mallory"),
        (their_message, "restyle", "mallory"),
        (dm_message, "reroll", "bob"),
        (dm_message, "delete", "bob"),
    ):
        forged = d.forge(message, f"ib:{action}:{mine['id']}", user=user, permissions=MODERATOR)
        assert ELSEWHERE in ephemeral_answer(stack, forged), action
    # And a DM picture from inside a server.
    forged = d.forge(my_message, f"ib:reroll:{dm_row['id']}", user="alice")
    assert ELSEWHERE in ephemeral_answer(stack, forged)

    assert row(stack, mine["id"]) is not None and row(stack, dm_row["id"]) is not None
    assert len(rows(stack.db, "SELECT id FROM generations")) == rows_before
    assert not my_message.deleted

    # Where the picture was made, the buttons act: a reroll by anyone, a moderator's delete.
    reroll = d.click(my_message, f"ib:reroll:{mine['id']}", user="bob")
    child = stack.delivered_row(reroll)
    assert child["parent_id"] == mine["id"] and child["prompt"] == mine["prompt"]
    assert child["scope_id"] == d.guild_id
    delete = d.click(my_message, f"ib:delete:{mine['id']}", user="mod", permissions=MODERATOR)
    wait_for(
        lambda: row(stack, mine["id"]) is None, 15, message=lambda: f"the deletion\n{stack.log()}"
    )
    wait_for(lambda: my_message.deleted, 15, message="the message to go")
    assert [w.kind for w in d.writes(delete)] == ["callback", "delete"]
