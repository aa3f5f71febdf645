"""Discord end to end: `imaginebot run --no-worker` and `imaginebot worker` as subprocesses,
a private Redis, the fake OpenAI images API, and the fake Discord (REST + gateway).

Everything asserted here is what reached the fake Discord (uploaded bytes, message JSON,
allowed_mentions) or what the bot wrote to SQLite.
"""

from __future__ import annotations

import io
import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.fakes.discord_api import ComponentRefused, Message
from tests.fakes.discord_gateway import MEMBER, SERVER_MANAGER, VIEW_CHANNEL, DiscordDriver
from tests.fakes.openai_images import FakeOpenAI
from tests.support import RedisServer, base_env, process, rows, wait_for
from tests.support.discord_stack import Stack, final_image, running_discord_stack, start_bot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, openai: FakeOpenAI) -> Iterator[Stack]:
    with running_discord_stack(tmp_path_factory.mktemp("discord-e2e"), openai=openai) as stack:
        yield stack


def test_guild_imagine_delivers_the_provider_png_then_reroll_makes_another(shared: Stack) -> None:
    # Pictures are matched by the prompt they were made for, not by their place in the fake's
    # list: a job the queue ran again (at-least-once) makes another picture, and then the row
    # must count the second paid call (checked at the end) rather than the test guessing.
    d, prompt = shared.discord, "a lighthouse at dusk"
    command = d.slash("imagine", prompt=prompt, aspect="3:2")

    image = final_image(shared, command)
    assert image.kind == "edit_original"
    assert image.files[0].data in shared.openai.made_for(prompt)
    assert image.files[0].filename == f"{shared.row_for(command)['id']}.png"  # type: ignore[index]
    row = shared.delivered_row(command)
    assert row["status"] == "delivered" and row["aspect"] == "3:2"
    assert Image.open(io.BytesIO(image.files[0].data)).size == (1536, 1024)
    # Acknowledged (deferred, public) first, well inside Discord's 3 seconds.
    first = d.writes(command)[0]
    assert first.kind == "callback" and first.callback_type == 5
    assert first.at - d.fake.interactions[command.id].dispatched_at < 3.0
    original = d.server.run_sync(d.fake.original, command.id)
    assert original is not None and len(original.attachments) == 1 and not original.ephemeral
    buttons = [[c["custom_id"] for c in row_["components"]] for row_ in original.components]
    # One picture: Upscale and Vary (the OpenAI model takes an image) share the first row.
    gid = row["id"]
    assert buttons == [
        [f"ib:upscale:{gid}:1", f"ib:vary:{gid}:1"],
        [f"ib:{a}:{gid}" for a in ("reroll", "restyle", "remix", "edit", "info")],
        [f"ib:delete:{gid}", f"ib:share:{gid}"],
    ]

    reroll = d.click(original, f"ib:reroll:{row['id']}", user="bob")
    second = final_image(shared, reroll)
    assert d.writes(reroll)[0].callback_type == 5  # a new message, not an edit of the first
    made = shared.openai.made_for(prompt)
    assert second.files[0].data in made and second.files[0].data != image.files[0].data
    assert made.index(second.files[0].data) > made.index(image.files[0].data)
    second_row = shared.delivered_row(reroll)
    assert second_row["status"] == "delivered" and second_row["parent_id"] == row["id"]
    assert second_row["seed"] != row["seed"] and second_row["prompt"] == row["prompt"]
    # Every picture the provider made for the two is a call the rows count: none is hidden.
    assert row["provider_calls"] + second_row["provider_calls"] == len(made)
    # The first picture is untouched: still exactly one image on its message, one upload each.
    assert len(d.server.run_sync(d.fake.original, command.id).attachments) == 1  # type: ignore[union-attr]
    assert len(shared.image_writes(command)) == 1 and len(shared.image_writes(reroll)) == 1


def test_settings_are_for_admins_and_the_default_applies(shared: Stack) -> None:
    d = shared.discord
    refused = d.slash("settings default-style", user="mallory", permissions=MEMBER, style="anime")
    wait_for(lambda: d.writes(refused), 10, message="an answer")
    answer = d.server.run_sync(d.fake.original, refused.id)
    assert answer is not None and answer.ephemeral
    assert "Only server admins" in answer.content
    assert rows(shared.db, "SELECT * FROM scope_settings WHERE scope_id = ?", (d.guild_id,)) == []

    accepted = d.slash(
        "settings default-style", user="admin", permissions=SERVER_MANAGER, style="anime"
    )
    wait_for(lambda: d.writes(accepted), 10, message="an answer")
    answer = d.server.run_sync(d.fake.original, accepted.id)
    assert answer is not None and answer.ephemeral and "Anime" in answer.content

    before = len(shared.openai.calls)
    command = d.slash("imagine", user="carol", prompt="a quiet harbour")
    final_image(shared, command)
    row = shared.delivered_row(command)
    assert row["style"] == "anime" and row["status"] == "delivered"
    assert "anime style" in shared.openai.calls[before].body["prompt"]

    reset = d.slash(
        "settings default-style", user="admin", permissions=SERVER_MANAGER, style="none"
    )
    wait_for(lambda: d.writes(reset), 10, message="an answer")


def test_everyone_in_a_prompt_pings_nobody(shared: Stack) -> None:
    d = shared.discord
    command = d.slash("imagine", prompt="@everyone look @here <@&123> <@456>")
    final_image(shared, command)
    shared.delivered_row(command)
    writes = [w for w in d.writes(command) if w.kind != "callback"]
    assert writes
    for write in writes:
        assert write.body["allowed_mentions"] == {"parse": []}
    message = d.server.run_sync(d.fake.original, command.id)
    assert message is not None
    assert message.pinged == {"everyone": False, "users": [], "roles": []}
    assert "@everyone look" in message.embeds[0]["description"]


def test_expired_token_posts_once_in_the_channel_pinging_only_the_requester(
    shared: Stack,
) -> None:
    d, before = shared.discord, len(shared.openai.images)
    shared.openai.delay = 1.0
    try:
        command = d.slash("imagine", user="dave", prompt="a slow painting")
        wait_for(lambda: d.writes(command), 10, message="the acknowledgement")
        d.server.run_sync(setattr, d.fake.interactions[command.id], "expired", True)
        row = shared.delivered_row(command)
    finally:
        shared.openai.delay = 0.0
    assert row["status"] == "delivered"
    posted = [
        w for w in d.fake.writes if w.kind == "channel_message" and row["id"] in json.dumps(w.body)
    ]
    assert len(posted) == 1
    requester = d.user("dave")["id"]
    assert posted[0].files[0].data == shared.openai.images[before]
    mentions = posted[0].body["allowed_mentions"]
    assert mentions["parse"] == [] and [str(u) for u in mentions["users"]] == [requester]
    message: Message = d.fake.messages[str(posted[0].message_id)]
    assert message.pinged == {"everyone": False, "users": [requester], "roles": []}
    assert json.loads(row["handle"])["fallback_sent_at"]


def test_no_permission_for_the_fallback_is_recorded(shared: Stack) -> None:
    """The bot could post in the channel when the command came (its app_permissions said
    so), and lost Send Messages before the late picture: Discord answers 50013, and the
    history row says why nothing was posted."""
    d = shared.discord
    shared.openai.delay = 1.0
    try:
        command = d.slash("imagine", user="erin", prompt="a locked room")
        wait_for(lambda: d.writes(command), 10, message="the acknowledgement")
        d.server.run_sync(d.fake.bot_permissions.__setitem__, d.channel_id, VIEW_CHANNEL)
        d.server.run_sync(setattr, d.fake.interactions[command.id], "expired", True)
        row = shared.delivered_row(command)
    finally:
        shared.openai.delay = 0.0
        d.server.run_sync(d.fake.bot_permissions.pop, d.channel_id)
    assert row["status"] == "failed"
    assert "missing permission to post in this channel" in row["failure_reason"]


def test_bot_killed_before_completion_delivers_exactly_once_after_restart(
    tmp_path: Path, discord: DiscordDriver, redis_server: RedisServer, fake_openai: FakeOpenAI
) -> None:
    stack = Stack(tmp_path, discord, fake_openai, redis_server.url)
    fake_openai.delay = 2.0
    with process(["worker"], stack.env, tmp_path, tmp_path / "worker.log"):
        with start_bot(stack) as bot:
            wait_for(discord.connected, 30, message=lambda: f"gateway\n{stack.log()}")
            command = discord.slash("imagine", prompt="a kite over the dunes")
            wait_for(lambda: stack.row_for(command), 10, message="the queued row")
            bot.send_signal(signal.SIGKILL)
            bot.wait(10)
        assert stack.row_for(command)["status"] in ("queued", "running")  # type: ignore[index]
        wait_for(
            lambda: fake_openai.images, 30, message=lambda: f"the worker's image\n{stack.log()}"
        )
        wait_for(lambda: not discord.connected(), 10, message="the old session to close")
        with start_bot(stack):
            row = stack.delivered_row(command)
            assert row["status"] == "delivered"
    images = stack.image_writes(command)
    assert len(images) == 1 and images[0].files[0].data == fake_openai.images[0]
    original = discord.server.run_sync(discord.fake.original, command.id)
    assert original is not None and len(original.attachments) == 1
    assert not [w for w in discord.fake.writes if w.kind == "channel_message"]
    # The command definitions did not change, so the second start did not sync again.
    assert discord.fake.command_syncs == ["global"]


def test_auto_sharding_connects_every_shard_and_serves_commands(
    tmp_path: Path, discord: DiscordDriver, fake_openai: FakeOpenAI
) -> None:
    discord.fake.gateway.recommended_shards = 2
    env = base_env(
        tmp_path / "data",
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=f"{fake_openai.base_url}/v1",
        DISCORD_SHARDS="auto",
        **discord.env(),
    )
    stack = Stack(tmp_path, discord, fake_openai, "")
    with process(["run"], env, tmp_path, tmp_path / "bot.log"):
        wait_for(
            lambda: len(discord.fake.gateway.sessions) == 2,
            30,
            message=lambda: f"2 shards\n{stack.log()}",
        )
        shards = sorted(s.shard for s in discord.fake.gateway.sessions)
        assert shards == [(0, 2), (1, 2)]
        command = discord.slash("imagine", prompt="a sharded fox")
        assert final_image(stack, command).files[0].data == fake_openai.images[0]


def test_markdown_and_bidi_in_a_prompt_show_as_typed(shared: Stack) -> None:
    from bot.core.text import clean_text
    from tests.fakes.discord_markdown import displayed

    d = shared.discord
    typed = "[free nitro](https://evil.example) # big **bold** ||x|| \u202eevil <@123> 1. one"
    command = d.slash("imagine", user="frank", prompt=typed)
    assert shared.delivered_row(command)["status"] == "delivered"
    message = d.server.run_sync(d.fake.original, command.id)
    assert message is not None
    # What Discord would show: the prompt as typed (less the bidi control), nothing live.
    assert displayed(message.embeds[0]["description"]) == clean_text(typed)

    history = d.slash("history", user="frank")
    text = wait_for(
        lambda: next(
            (w.body.get("content") for w in d.writes(history) if w.body.get("content")), None
        ),
        10,
        message="the history answer",
    )
    assert displayed(text.split("\n> ", 1)[1]) == clean_text(typed)


def is_upload(request: Any) -> bool:
    return str(request.content_type).startswith("multipart/")


def test_429s_on_edits_and_channel_posts_lose_nothing_and_double_nothing(shared: Stack) -> None:
    """Discord answers 429s: shared-scope ones on picture edits (first more than discord.py's
    five tries, so the bot's own delivery retry runs; then a few absorbed by discord.py while
    three requests run at once), and global plus shared ones on the fallback channel post.
    Every picture still arrives exactly once, and no request reached Discord before the wait
    it had been given was over."""
    d, limits = shared.discord, shared.discord.fake.ratelimits
    before_images, before_429 = len(shared.openai.images), limits.count()
    d.server.run_sync(limits.force, "webhook", 6, is_upload)
    first = d.slash("imagine", user="busy", prompt="a busy harbour")
    first_row = shared.delivered_row(first)
    d.server.run_sync(limits.force, "webhook", 4, is_upload)
    quick = [d.slash("imagine", user=f"busy{i}", prompt=f"a busy harbour {i}") for i in range(3)]
    rows_ = [first_row] + [shared.delivered_row(c) for c in quick]

    d.server.run_sync(limits.force, "global", 2)
    d.server.run_sync(limits.force, "channel_message", 6)
    shared.openai.delay = 1.0
    try:
        late = d.slash("imagine", user="busy-late", prompt="a harbour after hours")
        wait_for(lambda: d.writes(late), 10, message="the acknowledgement")
        d.server.run_sync(setattr, d.fake.interactions[late.id], "expired", True)
        late_row = shared.delivered_row(late)
    finally:
        shared.openai.delay = 0.0

    assert [r["status"] for r in rows_] == ["delivered"] * 4 and late_row["status"] == "delivered"
    made = shared.openai.images[before_images:]
    pictures = []
    for command in [first, *quick]:
        original = d.server.run_sync(d.fake.original, command.id)
        assert original is not None and len(original.attachments) == 1
        pictures.append(original.attachments[0][1].data)
    posted = [
        w
        for w in d.fake.writes
        if w.kind == "channel_message" and late_row["id"] in json.dumps(w.body)
    ]
    assert len(posted) == 1
    pictures.append(posted[0].files[0].data)
    assert sorted(pictures) == sorted(made)  # each made picture posted once, none lost
    # The 429s happened (6 + 4 + 2 + 6) and every one was waited out.
    answered = limits.answered[before_429:]
    assert len(answered) == 18 and {a.scope for a in answered} == {"shared", "global"}
    assert limits.early == []
    # discord.py gave up after five tries twice; the bot then retried itself, once each.
    assert first_row["delivery_attempts"] == 1 and late_row["delivery_attempts"] == 1
    assert [r["delivery_attempts"] for r in rows_[1:]] == [0, 0, 0]


def test_channel_posts_past_the_bucket_wait_for_its_reset_instead_of_a_429(shared: Stack) -> None:
    """Six fallback posts into one fresh channel (its bucket allows 5 per 5 s): discord.py reads
    the fake's X-RateLimit headers and holds the sixth until the bucket resets, so Discord never
    has to refuse one, and each picture is posted once."""
    d, limits = shared.discord, shared.discord.fake.ratelimits
    before_429 = limits.count()
    home = d.channel_id
    d.channel_id = d.fake.snowflake()  # a channel whose bucket nobody has used yet
    d.server.run_sync(d.fake.guilds[d.guild_id]["channels"].append, d.channel_id)
    shared.openai.delay = 1.0
    try:
        commands = [
            d.slash("imagine", user=f"late{i}", prompt=f"a late ferry {i}") for i in range(6)
        ]
        wait_for(lambda: all(d.writes(c) for c in commands), 10, message="the acknowledgements")
        for command in commands:
            d.server.run_sync(setattr, d.fake.interactions[command.id], "expired", True)
        found = [shared.delivered_row(c) for c in commands]
    finally:
        shared.openai.delay = 0.0
        d.channel_id = home
    assert [r["status"] for r in found] == ["delivered"] * 6
    posts = [
        w
        for w in d.fake.writes
        if w.kind == "channel_message" and any(r["id"] in json.dumps(w.body) for r in found)
    ]
    assert len(posts) == 6 and len({p.files[0].data for p in posts}) == 6
    first, last = sorted(p.at for p in posts)[0], sorted(p.at for p in posts)[-1]
    # The bucket's window opened with the first post: the sixth waited for it to end.
    assert last - first >= 4.5
    assert limits.count() == before_429 and limits.early == []


def test_clicks_on_components_not_on_the_message_never_reach_the_bot(shared: Stack) -> None:
    d = shared.discord
    command = d.slash("imagine", user="frank", prompt="a paper boat")
    row = shared.delivered_row(command)
    other = shared.delivered_row(d.slash("imagine", user="gina", prompt="a paper plane"))
    original = d.server.run_sync(d.fake.original, command.id)
    assert original is not None
    dispatched = len(d.fake.interactions)
    for forged in (f"ib:upscale:{row['id']}", f"ib:delete:{other['id']}", "ib:reroll:"):
        with pytest.raises(ComponentRefused):
            d.click(original, forged, user="mallory")
    assert len(d.fake.interactions) == dispatched  # Discord dispatched none of them
    # The real button works, and once the message is gone its buttons are gone too.
    deleted = d.click(original, f"ib:delete:{row['id']}", user="frank")
    wait_for(lambda: d.writes(deleted), 10, message="the delete")
    wait_for(lambda: original.deleted, 10, message="the message to go")
    with pytest.raises(ComponentRefused):
        d.click(original, f"ib:reroll:{row['id']}", user="frank")
