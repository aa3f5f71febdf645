"""Discord user installs, end to end: `imaginebot run --no-worker` and `imaginebot worker` as
subprocesses against the fake Discord, which knows places the bot is not a member of (a DM
between two users, a server that never added the bot) and answers any bot-token call there
with 50001 Missing Access. What is asserted is what reached the fake and the rows in SQLite."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.fakes.discord_api import Interaction, Write
from tests.fakes.discord_gateway import SERVER_MANAGER, DiscordDriver
from tests.fakes.openai_images import FakeOpenAI
from tests.support import rows, wait_for
from tests.support.discord_stack import Stack, delivered, running_discord_stack
from tests.support.discord_stack import row as stack_row

pytestmark = pytest.mark.e2e

CHANNEL_POST = re.compile(r"^POST /api/v10/channels/\d+/messages:")


def add_places(driver: DiscordDriver) -> None:
    fake = driver.fake
    alice, bob = driver.user("alice")["id"], driver.user("bob")["id"]
    driver.between = fake.add_private_channel([alice, bob])  # type: ignore[attr-defined]
    driver.elsewhere, _ = fake.add_guild("No Bot Here", with_bot=False)  # type: ignore[attr-defined]
    strict, _ = fake.add_guild("Strict", with_bot=False)
    fake.external_apps_restricted.add(strict)
    driver.strict = strict  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, openai: FakeOpenAI) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("discord-user-install")
    with running_discord_stack(root, openai=openai, prepare=add_places) as running:
        yield running


def channel_posts(stack: Stack) -> list[Write | str]:
    """Channel messages the bot sent, and those it tried that Discord refused."""
    fake = stack.discord.fake
    refused = [e for e in fake.errors if CHANNEL_POST.match(e)]
    return [*(w for w in fake.writes if w.kind == "channel_message"), *refused]


def count_rows(stack: Stack) -> int:
    return int(rows(stack.db, "SELECT COUNT(*) AS n FROM generations")[0]["n"])


def shown_texts(stack: Stack, command: Interaction) -> list[str]:
    return [
        str(w.body["content"])
        for w in stack.discord.writes(command)
        if w.kind in ("edit_original", "followup") and w.body.get("content")
    ]


def test_commands_are_synced_for_user_installs_and_admin_ones_are_not(stack: Stack) -> None:
    d = stack.discord
    synced = {c["name"]: c for c in d.fake.commands["global"]}
    for name in ("imagine", "share", "history", "describe"):
        assert synced[name]["integration_types"] == [0, 1], name
        assert synced[name]["contexts"] == [0, 1, 2], name
    assert synced["settings"]["integration_types"] == [0]
    with pytest.raises(LookupError):
        d.slash("settings show", user="alice", install="user", guild=d.elsewhere)  # type: ignore[attr-defined]


def test_imagine_in_a_dm_between_users_comes_through_the_interaction_with_buttons(
    stack: Stack,
) -> None:
    d = stack.discord
    before = len(channel_posts(stack))
    command = d.slash(
        "imagine",
        user="alice",
        install="user",
        private=d.between,  # type: ignore[attr-defined]
        prompt="two friends at a lighthouse",
    )
    row, message = delivered(stack, command)
    assert row["scope_id"] == f"user:{d.user('alice')['id']}"
    assert any("not a member here" in t for t in shown_texts(stack, command))
    assert message.attachments and message.attachments[0][1].data == stack.openai.images[-1]
    # A button on it comes back as an interaction, and its result comes through it too.
    reroll = next(
        c["custom_id"]
        for row_ in message.components
        for c in row_["components"]
        if c["custom_id"].startswith("ib:reroll:")
    )
    again = d.click(message, reroll, user="alice")
    second, shown = delivered(stack, again)
    assert second["parent_id"] == row["id"] and second["scope_id"] == row["scope_id"]
    assert shown.attachments
    # Bob, in the same DM, cannot press Alice's buttons: her pictures are her own.
    refused = d.click(shown, reroll.replace(row["id"], second["id"]), user="bob")
    wait_for(lambda: d.writes(refused), 15, message="Bob's answer")
    # Delete works there too: the message goes through the interaction, then the row.
    d.click(shown, f"ib:delete:{second['id']}", user="alice")
    wait_for(lambda: d.fake.messages[shown.id].deleted, 15, message="the deleted message")
    wait_for(lambda: stack_row(stack, second["id"]) is None, 15, message="the row erased")
    assert len(channel_posts(stack)) == before  # never a channel message (Discord: 50001)


def test_a_server_without_the_bot_gets_a_personal_scope_and_one_with_it_keeps_its_own(
    stack: Stack,
) -> None:
    d = stack.discord
    alice = d.user("alice")["id"]
    away = d.slash(
        "imagine",
        user="alice",
        install="user",
        guild=d.elsewhere,  # type: ignore[attr-defined]
        prompt="a quiet shore",
    )
    row, _ = delivered(stack, away)
    assert row["scope_id"] == f"user:{alice}"

    cap = d.slash("settings limits", user="admin", permissions=SERVER_MANAGER, **{"per-request": 1})
    wait_for(lambda: d.writes(cap), 15, message="the limits answer")
    # Alice's own install, in the server that has the bot: the server's rules still hold.
    home = d.slash("imagine", user="alice", install="user", prompt="two boats", count=2)
    wait_for(lambda: d.writes(home), 15, message="the refusal")
    answer = d.server.run_sync(d.fake.original, home.id)
    assert answer is not None and "1 is the most per request here" in answer.content
    reset = d.slash("settings limits", user="admin", permissions=SERVER_MANAGER, reset=True)
    wait_for(lambda: d.writes(reset), 15, message="the reset")


def test_share_reposts_a_picture_anywhere_without_a_new_request(stack: Stack) -> None:
    d = stack.discord
    made = d.slash("imagine", user="alice", prompt="a red kite")
    row, result = delivered(stack, made)
    # The Share button under it tells its owner how, privately; nobody else.
    how = d.click(result, f"ib:share:{row['id']}", user="alice")
    wait_for(lambda: d.writes(how), 15, message="the Share answer")
    told = d.server.run_sync(d.fake.original, how.id)
    assert told is not None and told.ephemeral and "/share" in told.content
    not_bobs = d.click(result, f"ib:share:{row['id']}", user="bob")
    wait_for(lambda: d.writes(not_bobs), 15, message="Bob's Share answer")
    refused = d.server.run_sync(d.fake.original, not_bobs.id)
    assert refused is not None and "/share" not in refused.content
    rows_before = count_rows(stack)
    calls = len(stack.openai.images)
    shared = d.slash(
        "share",
        user="alice",
        install="user",
        guild=d.elsewhere,  # type: ignore[attr-defined]
        picture=row["id"],
    )
    message = wait_for(
        lambda: (m := d.server.run_sync(d.fake.original, shared.id)) and m.attachments and m,
        15,
        message="the shared picture",
    )
    assert message.attachments[0][1].filename.startswith(row["id"])
    assert len(stack.openai.images) == calls and count_rows(stack) == rows_before
    # Someone else cannot share Alice's picture.
    stolen = d.slash("share", user="bob", install="user", picture=row["id"])
    wait_for(lambda: d.writes(stolen), 15, message="Bob's answer")
    answer = d.server.run_sync(d.fake.original, stolen.id)
    assert answer is not None and answer.ephemeral and not answer.attachments


def test_where_external_apps_are_restricted_the_user_still_sees_the_picture(
    stack: Stack,
) -> None:
    d = stack.discord
    command = d.slash(
        "imagine",
        user="alice",
        install="user",
        guild=d.strict,  # type: ignore[attr-defined]
        prompt="a private sunset",
    )
    row, message = delivered(stack, command)
    assert message.ephemeral and message.attachments
    assert row["status"] == "delivered"


def test_a_picture_later_than_the_token_is_told_up_front_and_kept_never_posted(
    stack: Stack,
) -> None:
    """The command was made almost 15 minutes ago (a busy queue): the response says at once
    that it cannot wait, the picture comes too late for the token, and it is kept in the
    history; no channel message is attempted."""
    d = stack.discord
    before = len(channel_posts(stack))
    stack.openai.delay = 4.0
    try:
        command = d.slash(
            "imagine",
            user="alice",
            install="user",
            private=d.between,  # type: ignore[attr-defined]
            prompt="a slow tide",
            age=15 * 60 - 63,
        )
        note = wait_for(
            lambda: next(
                (t for t in shown_texts(stack, command) if "Not ready in time" in t), None
            ),
            15,
            message=lambda: f"the honest note\n{stack.log()}",
        )
        row = stack.delivered_row(command)
    finally:
        stack.openai.delay = 0.0
    assert "/history" in note and "/share" in note
    assert '"kept_after_token_at"' in row["handle"]
    original = d.server.run_sync(d.fake.original, command.id)
    assert original is not None and not original.attachments
    assert len(channel_posts(stack)) == before
