"""Attacks on the Telegram side, through the real bot process and python-telegram-bot against
the fake Bot API: forged buttons from other chats, anonymous admins in two groups, a person
flooding a group with refused commands, and forged webhook POSTs.

Every refused attempt is checked for having no effect (no file sent, no row written or
deleted, no setting changed), and every allowed one for its effect.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.telegram_api import Call, TelegramDriver, photo_bytes
from tests.support import RedisServer, free_port, process, rows, wait_for
from tests.support.telegram_stack import (
    ADMIN,
    ALICE,
    BOB,
    CREATOR,
    GROUP,
    OTHER_GROUP,
    Stack,
    running_telegram_stack,
    setup_people,
)

pytestmark = pytest.mark.e2e

ELSEWHERE = "belongs to a picture from another chat"
FLOOD_GROUP = -100777666
CHANNEL_GROUP = -100444333
QUIET = 30


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, openai: FakeOpenAI) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("telegram-security")
    with running_telegram_stack(
        root, openai=openai, TELEGRAM_REFUSAL_QUIET_SECONDS=str(QUIET)
    ) as built:
        built.telegram.add_group(
            FLOOD_GROUP, {BOB: "member", CREATOR: "member", ADMIN: "administrator"}
        )
        built.telegram.add_group(CHANNEL_GROUP)
        yield built


def answer_to(t: TelegramDriver, press: dict[str, Any]) -> str:
    """The text the bot answered a button press with."""
    query_id = press["callback_query"]["id"]
    calls = wait_for(
        lambda: [
            c
            for c in t.fake.calls_to("answerCallbackQuery")
            if c.params["callback_query_id"] == query_id
        ],
        15,
        message="the answer to the press",
    )
    return str(calls[0].params.get("text", ""))


def bot_message_in(t: TelegramDriver, chat_id: int, user_id: int) -> dict[str, Any]:
    """A message from the bot in this chat, to press forged buttons on."""
    ask = t.send(chat_id, user_id, "/help")
    return wait_for(lambda: t.replies_to(ask), 15, message="the help reply")[0]  # type: ignore[no-any-return]


def picture(stack: Stack, chat_id: int, user_id: int | None, prompt: str, **kw: Any) -> Any:
    command = stack.telegram.send(chat_id, user_id, f"/imagine {prompt}", **kw)
    row = stack.settled_row(command)
    assert row["status"] == "delivered", row
    (reply,) = stack.telegram.replies_to(command)
    return row, reply


def sent_to(t: TelegramDriver, method: str, chat_id: int) -> list[Call]:
    return [c for c in t.fake.calls_to(method) if int(c.params.get("chat_id", 0)) == chat_id]


def test_forged_full_size_from_another_group_sends_nothing(stack: Stack) -> None:
    t = stack.telegram
    row, photo = picture(stack, GROUP, ALICE, "a red lantern")
    elsewhere = bot_message_in(t, OTHER_GROUP, ADMIN)
    refused = t.press(ADMIN, elsewhere, f"ib:f:{row['id']}")
    assert ELSEWHERE in answer_to(t, refused)
    assert sent_to(t, "sendDocument", OTHER_GROUP) == []

    allowed = t.press(BOB, photo, f"ib:f:{row['id']}")
    document = wait_for(
        lambda: sent_to(t, "sendDocument", GROUP), 15, message=lambda: f"the file\n{stack.log()}"
    )[0]
    assert answer_to(t, allowed) == ""
    assert document.files["document"] == Path(row["image_path"]).read_bytes()
    assert sent_to(t, "sendDocument", OTHER_GROUP) == []


def test_button_data_no_action_matches_is_answered_as_no_longer_valid(stack: Stack) -> None:
    t = stack.telegram
    message = bot_message_in(t, GROUP, BOB)
    before = rows(stack.db, "SELECT id FROM generations")
    for data in ("ib:zz:1", "ib:r", "ib:", "ib:rr:1"):
        press = t.press(BOB, message, data)
        assert answer_to(t, press) == "This button is no longer valid.", data
    assert rows(stack.db, "SELECT id FROM generations") == before


def test_forged_reroll_and_restyle_do_not_copy_another_chats_prompt(stack: Stack) -> None:
    t = stack.telegram
    secret, secret_photo = picture(stack, ALICE, ALICE, "my secret diary page")
    public, photo = picture(stack, GROUP, ALICE, "a green kite")
    bobs_chat = bot_message_in(t, BOB, BOB)
    elsewhere = bot_message_in(t, OTHER_GROUP, ADMIN)
    for user_id, message, data in (
        (BOB, bobs_chat, f"ib:r:{secret['id']}"),
        (BOB, bobs_chat, f"ib:S:{secret['id']}:anime"),
        (BOB, bobs_chat, f"ib:s:{secret['id']}"),
        (ADMIN, elsewhere, f"ib:r:{public['id']}"),
        (ADMIN, elsewhere, f"ib:s:{public['id']}"),
    ):
        assert ELSEWHERE in answer_to(t, t.press(user_id, message, data)), data
    children = [r for r in stack.rows() if r["parent_id"] in (secret["id"], public["id"])]
    assert children == []
    assert not any(
        "secret diary" in r["prompt"] for r in stack.rows() if r["user_id"] != str(ALICE)
    )
    assert not [m for m in t.replies_to(bobs_chat) + t.replies_to(elsewhere)]

    # The same buttons on the pictures themselves work, for anyone where they were made.
    t.press(ALICE, secret_photo, f"ib:r:{secret['id']}")
    t.press(BOB, photo, f"ib:S:{public['id']}:anime")

    def children_done() -> list[dict[str, Any]]:
        done = [
            r
            for r in stack.rows()
            if r["parent_id"] in (secret["id"], public["id"]) and r["status"] == "delivered"
        ]
        return done if len(done) == 2 else []

    reroll, restyle = sorted(
        wait_for(children_done, 30, message=lambda: f"the variations\n{stack.log()}"),
        key=lambda r: r["parent_id"] != secret["id"],
    )
    assert reroll["prompt"] == secret["prompt"] and reroll["scope_id"] == f"dm:{ALICE}"
    assert reroll["user_id"] == str(ALICE) and reroll["seed"] != secret["seed"]
    assert restyle["style"] == "anime" and restyle["prompt"] == public["prompt"]
    assert restyle["user_id"] == str(BOB) and restyle["scope_id"] == str(GROUP)


def test_anonymous_admins_of_two_groups_are_two_requesters(stack: Stack) -> None:
    t = stack.telegram
    as_group, as_other = t.fake.chats[GROUP], t.fake.chats[OTHER_GROUP]
    # The other group allows one picture per requester a day.
    limit = t.send(OTHER_GROUP, None, "/setlimits 1", sender_chat=as_other)
    wait_for(lambda: t.replies_to(limit), 15, message="the limits answer")
    assert "1 per user" in t.replies_to(limit)[0]["text"]
    style = t.send(GROUP, None, "/mystyle anime", sender_chat=as_group)
    wait_for(lambda: t.replies_to(style), 15, message="the style answer")

    row_a, _ = picture(stack, GROUP, None, "the castle of group A", sender_chat=as_group)
    assert row_a["user_id"] == str(GROUP) and row_a["style"] == "anime"
    albums_before = len(sent_to(t, "sendMediaGroup", OTHER_GROUP))
    photos_before = len(stack.photos(OTHER_GROUP))

    # Group B's anonymous admin (the same Telegram user 1087968824) sees none of it.
    history = t.send(OTHER_GROUP, None, "/history", sender_chat=as_other)
    reply = wait_for(lambda: t.replies_to(history), 15, message="the history answer")[0]
    assert "Nothing yet" in reply["text"]
    # Quota and personal style are group B's own: one picture still allowed, in the default style.
    row_b, _ = picture(stack, OTHER_GROUP, None, "the tower of group B", sender_chat=as_other)
    assert row_b["user_id"] == str(OTHER_GROUP) and row_b["style"] == "photo"
    assert len(stack.photos(OTHER_GROUP)) == photos_before + 1
    assert len(sent_to(t, "sendMediaGroup", OTHER_GROUP)) == albums_before
    again = t.send(OTHER_GROUP, None, "/imagine one more tower", sender_chat=as_other)
    refused = wait_for(lambda: t.replies_to(again), 15, message="the refusal")[0]
    assert (
        "used your 1 picture for today" in refused["text"] and stack.row_replying_to(again) is None
    )

    # A person's /history in a group shows that group's pictures only (Alice has one elsewhere).
    picture(stack, GROUP, ALICE, "alice's picture in group A")
    alice = t.send(OTHER_GROUP, ALICE, "/history")
    assert "Nothing yet" in wait_for(lambda: t.replies_to(alice), 15, message="history")[0]["text"]
    assert [
        r for r in stack.rows() if r["user_id"] == str(ALICE) and r["scope_id"] != str(OTHER_GROUP)
    ]


CHANNEL = {"id": -100555444, "type": "channel", "title": "Art Channel"}
CHANNEL_BOT = {"id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}


def as_channel(t: TelegramDriver, chat_id: int, text: str) -> dict[str, Any]:
    """A message posted in a group as a channel: from the channel bot, sender_chat the channel."""

    def post() -> dict[str, Any]:
        update = t.fake.message_update(chat_id, None, text, sender_chat=CHANNEL)
        update["message"]["from"] = CHANNEL_BOT  # before any getUpdates can answer with it
        return update

    return dict(t.server.run_sync(post)["message"])


def test_a_channel_posting_in_two_groups_sees_each_groups_pictures_there(stack: Stack) -> None:
    t = stack.telegram
    in_a = stack.settled_row(as_channel(t, GROUP, "/imagine a channel poster for A"))
    in_b = stack.settled_row(as_channel(t, CHANNEL_GROUP, "/imagine a channel poster for B"))
    assert in_a["user_id"] == in_b["user_id"] == str(CHANNEL["id"])
    assert in_a["user_name"] == "Art Channel"
    photos_before = len(stack.photos(CHANNEL_GROUP))
    history = as_channel(t, CHANNEL_GROUP, "/history")
    shown = wait_for(
        lambda: stack.photos(CHANNEL_GROUP)[photos_before:],
        15,
        message=lambda: f"history\n{stack.log()}",
    )
    assert len(shown) == 1 and shown[0].method == "sendPhoto"
    assert shown[0].params["reply_parameters"]["message_id"] == history["message_id"]
    assert photo_bytes(shown[0]) == Path(in_b["image_path"]).read_bytes()
    assert sent_to(t, "sendMediaGroup", CHANNEL_GROUP) == []


def test_anonymous_admin_forget_me_is_answered_by_that_groups_admins_only(stack: Stack) -> None:
    t = stack.telegram
    as_group = t.fake.chats[GROUP]
    picture(stack, GROUP, None, "a lighthouse by group A", sender_chat=as_group)
    ask = t.send(GROUP, None, "/forget_me", sender_chat=as_group)
    confirm = wait_for(lambda: t.replies_to(ask), 15, message="the confirmation")[0]
    data = confirm["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert data == f"ib:F:{GROUP}"
    assert "Only the person who asked" in answer_to(t, t.press(ALICE, confirm, data))
    assert [r for r in stack.rows() if r["user_id"] == str(GROUP)]
    others = [r for r in stack.rows() if r["user_id"] != str(GROUP)]

    t.press(ADMIN, confirm, data)
    wait_for(
        lambda: not [r for r in stack.rows() if r["user_id"] == str(GROUP)],
        15,
        message=lambda: f"the group identity's rows to go\n{stack.log()}",
    )
    assert [r["id"] for r in stack.rows() if r["user_id"] != str(GROUP)] == [
        r["id"] for r in others
    ]


def quiet_lines(stack: Stack, who: int) -> int:
    return stack.log().count(f"kept a refusal to {who} quiet")


def test_a_flooder_gets_one_refusal_then_silence(stack: Stack) -> None:
    t = stack.telegram
    flood = [t.send(FLOOD_GROUP, BOB, f"/imagine a cat --bogus {n}") for n in range(4)]
    wait_for(
        lambda: quiet_lines(stack, BOB) == 3, 15, message=lambda: f"three kept quiet\n{stack.log()}"
    )
    answered = [r for m in flood for r in t.replies_to(m)]
    assert len(answered) == 1
    assert "Unknown option \u2068--bogus\u2069" in answered[0]["text"]
    assert "will not answer more refused commands from you here" in answered[0]["text"]

    # Over the daily limit: the refusal comes before any status reply, so the same holds.
    limits = t.send(FLOOD_GROUP, ADMIN, "/setlimits 1")
    wait_for(lambda: t.replies_to(limits), 15, message="the limits answer")
    picture(stack, FLOOD_GROUP, CREATOR, "a pear")
    more = [t.send(FLOOD_GROUP, CREATOR, f"/imagine pear number {n}") for n in range(3)]
    wait_for(
        lambda: quiet_lines(stack, CREATOR) == 2, 15, message=lambda: f"kept quiet\n{stack.log()}"
    )
    answered = [r for m in more for r in t.replies_to(m)]
    assert len(answered) == 1 and "used your 1 picture for today" in answered[0]["text"]
    assert all(stack.row_replying_to(m) is None for m in more)
    # Others in the group are still answered; a private chat is never kept quiet.
    other = t.send(FLOOD_GROUP, ADMIN, "/imagine a cat --bogus")
    assert wait_for(lambda: t.replies_to(other), 15, message="the admin's answer")
    private = [t.send(BOB, BOB, "/imagine --bogus") for _ in range(2)]
    wait_for(lambda: all(t.replies_to(m) for m in private), 15, message="private answers")


def post(port: int, update: dict[str, Any], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/telegram", data=json.dumps(update).encode(), headers=headers
    )
    try:
        # A busy machine may take seconds to answer the first call; Telegram waits too.
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_webhook_without_a_configured_secret_refuses_forged_updates(
    tmp_path: Path, openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    telegram = TelegramDriver().start()
    setup_people(telegram)
    port = free_port()
    stack = Stack(tmp_path, telegram, openai, redis_server.url)
    stack.env.update(
        TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram",
        TELEGRAM_WEBHOOK_SECRET="",  # blank, as in .env.example
        TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
        TELEGRAM_WEBHOOK_PORT=str(port),
    )
    fake = telegram.fake

    def nsfw_rows() -> list[dict[str, Any]]:
        return rows(stack.db, "SELECT * FROM scope_settings WHERE nsfw = 1")

    try:
        with process(["run"], stack.env, tmp_path, tmp_path / "bot.log"):
            wait_for(lambda: fake.webhook, 30, message=lambda: f"setWebhook\n{stack.log()}")
            secret = str(fake.webhook["secret_token"])  # type: ignore[index]
            assert len(secret) >= 32 and secret not in stack.log()
            imagine = telegram.server.run_sync(
                lambda: fake.message_update(GROUP, ALICE, "/imagine a comet")
            )
            assert post(port, imagine, secret) == 200
            row = stack.settled_row(imagine["message"])
            ask = telegram.server.run_sync(lambda: fake.message_update(GROUP, ALICE, "/forget_me"))
            assert post(port, ask, secret) == 200
            confirm = wait_for(
                lambda: telegram.replies_to(ask["message"]), 15, message="the confirmation"
            )[0]

            nsfw = telegram.server.run_sync(
                lambda: fake.message_update(GROUP, None, "/nsfw on", sender_chat=fake.chats[GROUP])
            )
            forget = telegram.server.run_sync(
                lambda: fake.callback_update(ALICE, confirm, f"ib:F:{ALICE}")
            )
            for forged in (nsfw, forget):
                assert post(port, forged, None) == 403
                assert post(port, forged, "wrong") == 403
                assert post(port, forged, secret[:-1]) == 403
            # A real update after the forged ones is handled; the forged ones did nothing.
            ping = telegram.server.run_sync(lambda: fake.message_update(GROUP, ALICE, "/help"))
            assert post(port, ping, secret) == 200
            wait_for(lambda: telegram.replies_to(ping["message"]), 15, message="the help reply")
            assert nsfw_rows() == []
            assert [r["id"] for r in stack.rows()] == [row["id"]]
            assert not telegram.replies_to(nsfw["message"])

            # With the secret, the same updates act.
            assert post(port, nsfw, secret) == 200
            wait_for(nsfw_rows, 15, message=lambda: f"the nsfw setting\n{stack.log()}")
            assert nsfw_rows()[0]["scope_id"] == str(GROUP)
            assert post(port, forget, secret) == 200
            # The rows go first, then the files.
            wait_for(
                lambda: not stack.rows() and not Path(row["image_path"]).exists(),
                15,
                message=lambda: f"the forgotten rows and file\n{stack.log()}",
            )
    finally:
        telegram.stop()
