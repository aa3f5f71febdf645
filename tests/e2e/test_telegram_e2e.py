"""Telegram end to end: `imaginebot run --no-worker` and `imaginebot worker` as subprocesses,
a private Redis, the fake OpenAI images API and the fake Bot API (real long polling).

Everything asserted is what reached the fake Bot API (uploaded bytes, captions, replies) or
what the bot wrote to SQLite.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.telegram.adapter import STATUS_GRACE
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.telegram_api import Call, TelegramDriver, photo_bytes
from tests.support import RedisServer, process, rows, wait_for
from tests.support.telegram_stack import (
    ADMIN,
    ALICE,
    BOB,
    GROUP,
    OTHER_GROUP,
    Stack,
    running_telegram_stack,
    setup_people,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, openai: FakeOpenAI) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("telegram-e2e")
    with running_telegram_stack(root, openai=openai, separate_worker=True) as stack:
        yield stack


def test_group_imagine_delivers_the_provider_png_in_reply_then_reroll(shared: Stack) -> None:
    t, before = shared.telegram, len(shared.openai.images)
    command = t.send(GROUP, ALICE, "/imagine@imagine_test_bot a cat <b>bold</b> & co style:anime")
    row = shared.settled_row(command)
    assert row["status"] == "delivered" and row["style"] == "anime"
    photos = [
        c for c in shared.photos(GROUP) if c.params.get("message_id") == row and False
    ] or shared.photos(GROUP)
    assert len(photos) == 1
    assert photo_bytes(photos[0]) == shared.openai.images[before]
    # The status reply to the command became the photo, captioned with the style.
    (reply,) = t.replies_to(command)
    assert (
        "photo" in reply and "Anime" in reply["caption"] and "<b>bold</b> & co" in reply["caption"]
    )
    buttons = [[b["callback_data"] for b in r] for r in reply["reply_markup"]["inline_keyboard"]]
    assert [f"ib:r:{row['id']}", f"ib:s:{row['id']}", f"ib:m:{row['id']}"] in buttons
    assert buttons[0] == [f"ib:u:{row['id']}:1"] and buttons[-1] == [
        f"ib:e:{row['id']}",
        f"ib:i:{row['id']}",
        f"ib:D:{row['id']}",
    ]
    # Acknowledged with a status reply before anything else.
    first = next(
        c
        for c in t.fake.calls
        if c.method == "sendMessage"
        and c.params.get("reply_parameters", {}).get("message_id") == command["message_id"]
    )
    assert "Queued" in first.params["text"]

    t.press(BOB, reply, f"ib:r:{row['id']}")
    second = wait_for(
        lambda: [
            r for r in shared.rows() if r["parent_id"] == row["id"] and r["status"] == "delivered"
        ],
        30,
        message=lambda: f"the reroll\n{shared.log()}",
    )[0]
    assert second["user_id"] == str(BOB) and second["seed"] != row["seed"]
    photos = shared.photos(GROUP)
    assert len(photos) == 2 and photo_bytes(photos[1]) == shared.openai.images[before + 1]
    assert photo_bytes(photos[1]) != photo_bytes(photos[0])


def test_setstyle_is_for_admins_and_applies_to_that_group_only(shared: Stack) -> None:
    t = shared.telegram
    refused = t.send(GROUP, BOB, "/setstyle sketch")
    wait_for(lambda: t.replies_to(refused), 10, message="an answer")
    assert "Only this chat's admins" in t.replies_to(refused)[0]["text"]
    assert rows(shared.db, "SELECT * FROM scope_settings WHERE scope_id = ?", (str(GROUP),)) == []

    anonymous_elsewhere = t.send(
        OTHER_GROUP, None, "/setstyle sketch", sender_chat=t.fake.chats[GROUP]
    )
    wait_for(lambda: t.replies_to(anonymous_elsewhere), 10, message="an answer")
    assert "Only this chat's admins" in t.replies_to(anonymous_elsewhere)[0]["text"]

    accepted = t.send(GROUP, ADMIN, "/setstyle sketch")
    wait_for(lambda: t.replies_to(accepted), 10, message="an answer")
    assert "Sketch" in t.replies_to(accepted)[0]["text"]

    in_group = t.send(GROUP, ALICE, "/imagine a harbour")
    elsewhere = t.send(OTHER_GROUP, ALICE, "/imagine a harbour")
    assert shared.settled_row(in_group)["style"] == "sketch"
    assert shared.settled_row(elsewhere)["style"] == "photo"

    anonymous = t.send(GROUP, None, "/setstyle none", sender_chat=t.fake.chats[GROUP])
    wait_for(lambda: t.replies_to(anonymous), 10, message="an answer")
    assert "cleared" in t.replies_to(anonymous)[0]["text"]


def test_bad_input_is_answered_in_plain_words(shared: Stack) -> None:
    t = shared.telegram
    empty = t.send(GROUP, ALICE, "/imagine")
    unknown = t.send(GROUP, ALICE, "/imagine a cat style:anmie")
    flag = t.send(GROUP, ALICE, "/imagine a cat --bogus 3")
    wait_for(lambda: all(t.replies_to(m) for m in (empty, unknown, flag)), 10, message="answers")
    assert "Usage: /imagine" in t.replies_to(empty)[0]["text"]
    assert "Did you mean anime" in t.replies_to(unknown)[0]["text"]
    assert "Unknown option \u2068--bogus\u2069" in t.replies_to(flag)[0]["text"]
    assert shared.row_replying_to(unknown) is None


def test_a_429_on_the_photo_still_delivers_exactly_one(shared: Stack) -> None:
    t = shared.telegram
    t.fake.failures["editMessageMedia"] = [(429, 1)]
    command = t.send(ALICE, ALICE, "/imagine a lighthouse")
    row = shared.settled_row(command)
    assert row["status"] == "delivered"
    attempts = [
        c
        for c in t.fake.calls
        if c.method == "editMessageMedia" and int(c.params["chat_id"]) == ALICE
    ]
    assert [c.ok for c in attempts] == [False, True]
    assert len(shared.photos(ALICE)) == 1


def test_history_and_forget_me(shared: Stack) -> None:
    t = shared.telegram
    # Its own pictures (two of Alice's, one of Bob's): the tests before it may have run in
    # another process (pytest-xdist), so nothing else is there to rely on.
    for who, prompt in ((ALICE, "a keepsake"), (ALICE, "another keepsake"), (BOB, "a souvenir")):
        assert shared.settled_row(t.send(who, who, f"/imagine {prompt}"))["status"] == "delivered"
    history = t.send(ALICE, ALICE, "/history")
    wait_for(lambda: t.fake.calls_to("sendMediaGroup"), 10, message="the album")
    album = t.fake.calls_to("sendMediaGroup")[-1]
    assert 2 <= len(album.params["media"]) <= 10
    assert history["message_id"]
    mine = [
        Path(r["image_path"])
        for r in shared.rows()
        if r["user_id"] == str(ALICE) and r["image_path"]
    ]
    bobs_own = shared.settled_row(t.send(GROUP, BOB, "/imagine a boat of bob's own"))
    assert bobs_own["status"] == "delivered"
    # Bob rerolls a picture Alice made in the group: his row holds her prompt.
    in_group = t.send(GROUP, ALICE, "/imagine a keepsake for the group")
    hers = shared.settled_row(in_group)
    (picture,) = [m for m in t.replies_to(in_group) if "photo" in m]
    t.press(BOB, picture, f"ib:r:{hers['id']}")
    wait_for(
        lambda: [r for r in shared.rows() if r["parent_id"] == hers["id"] and r["image_path"]],
        30,
        message=lambda: f"Bob's reroll\n{shared.log()}",
    )
    alices = {r["id"] for r in shared.rows() if r["user_id"] == str(ALICE)}
    # Bob's reroll of Alice's picture holds her prompt: it goes with her data (issue 26.3).
    made_from_hers = [
        Path(r["image_path"])
        for r in shared.rows()
        if r["user_id"] != str(ALICE) and r["parent_id"] in alices and r["image_path"]
    ]
    others = [
        Path(r["image_path"])
        for r in shared.rows()
        if r["user_id"] != str(ALICE) and r["parent_id"] not in alices and r["image_path"]
    ]
    assert made_from_hers
    assert mine and others and all(p.is_file() for p in mine + others)
    ask = t.send(ALICE, ALICE, "/forget_me")
    wait_for(lambda: t.replies_to(ask), 10, message="the confirmation")
    confirm = t.replies_to(ask)[0]
    t.press(BOB, confirm, f"ib:F:{ALICE}")  # someone else's press changes nothing

    def refused() -> list[Call]:
        return [
            c
            for c in t.fake.calls_to("answerCallbackQuery")
            if "Only the person" in str(c.params.get("text"))
        ]

    wait_for(refused, 10, message="the refusal")
    assert all(p.is_file() for p in mine)
    t.press(ALICE, confirm, f"ib:F:{ALICE}")
    # The confirmation says it once the rows and the files are gone (rows first, files next).
    wait_for(
        lambda: [
            c
            for c in t.fake.calls_to("editMessageText")
            if "Deleted your history" in str(c.params.get("text"))
        ],
        15,
        message="the confirmation to say it is done",
    )
    assert not [r for r in shared.rows() if r["user_id"] == str(ALICE)]
    assert not any(p.exists() for p in mine + made_from_hers)
    assert all(p.is_file() for p in others)
    assert rows(shared.db, "SELECT * FROM user_settings WHERE user_id = ?", (str(ALICE),)) == []


def test_bot_killed_mid_job_delivers_exactly_once_after_restart(
    tmp_path: Path, openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    telegram = TelegramDriver().start()
    setup_people(telegram)
    stack = Stack(tmp_path, telegram, openai, redis_server.url)
    openai.delay = 2.0
    before = len(openai.images)
    try:
        with process(["worker"], stack.env, tmp_path, tmp_path / "worker.log"):
            with process(["run", "--no-worker"], stack.env, tmp_path, tmp_path / "bot.log") as bot:
                wait_for(telegram.polling, 30, message=lambda: f"polling\n{stack.log()}")
                command = telegram.send(GROUP, ALICE, "/imagine a kite over dunes")
                wait_for(lambda: stack.row_replying_to(command), 10, message="the queued row")
                bot.send_signal(signal.SIGKILL)
                bot.wait(10)
            wait_for(lambda: len(openai.images) > before, 30, message="the worker's image")
            with process(["run", "--no-worker"], stack.env, tmp_path, tmp_path / "bot2.log"):
                row = stack.settled_row(command)
        assert row["status"] == "delivered"
        photos = stack.photos(GROUP)
        assert len(photos) == 1 and photo_bytes(photos[0]) == openai.images[before]
    finally:
        openai.delay = 0.0
        telegram.stop()


def test_u2_without_an_upscaler_replies_with_the_original_file(shared: Stack) -> None:
    """OpenAI has no upscaler: U2 of a grid of two posts image 2 itself, as a file, in reply
    to the grid, and no provider is asked."""
    t, before = shared.telegram, len(shared.openai.images)
    # A group of its own: the module's other tests spend GROUP's 20 messages a minute, and a
    # press's acknowledgement would then wait for that budget past this test's patience.
    boats = -100200777
    t.add_group(boats, {BOB: "member"})
    command = t.send(boats, BOB, "/imagine two paper boats count:2")
    row = shared.settled_row(command)
    originals = shared.openai.images[before:]
    assert len(originals) == 2
    (grid,) = t.replies_to(command)
    calls, calls_before = len(shared.openai.calls), len(t.fake.calls)
    t.press(BOB, grid, f"ib:u:{row['id']}:2")
    upscaled = wait_for(
        lambda: [
            r
            for r in shared.rows()
            if r["parent_id"] == row["id"] and r["kind"] == "upscale" and r["status"] == "delivered"
        ],
        30,
        message=lambda: f"the upscale\n{shared.log()}",
    )[0]
    assert upscaled["provider"] == "original" and len(shared.openai.calls) == calls
    # A file (its status reply edited into it, or, where the group's flood budget put the
    # acknowledgement on a busy board, a new one): image 2's own bytes.
    (answer,) = [m for m in t.replies_to(grid) if "document" in m]
    (upload,) = [
        c
        for c in t.fake.calls[calls_before:]
        if c.ok
        and int(c.params.get("chat_id", 0)) == boats
        and (
            c.method == "sendDocument"
            or (
                c.method == "editMessageMedia"
                and int(c.params["message_id"]) == answer["message_id"]
                and c.params["media"]["type"] == "document"
            )
        )
    ]
    sent = upload.files.get("document") if upload.method == "sendDocument" else None
    assert (sent or photo_bytes(upload)) == originals[1]


def test_photo_fallback_after_a_429_sends_exactly_one(shared: Stack) -> None:
    """A Bot API server that cannot turn text into media: the bot sends a new photo, and a 429
    on that first sendPhoto is waited out rather than dropped or doubled."""
    t = shared.telegram
    photos_before = len(shared.photos(BOB))  # the module's other tests post in Bob's chat too
    t.fake.media_into_text = False
    t.fake.failures["sendPhoto"] = [(429, 1)]
    try:
        command = t.send(BOB, BOB, "/imagine a windmill")
        row = shared.settled_row(command)
    finally:
        t.fake.media_into_text = True
    assert row["status"] == "delivered"
    sends = [c for c in t.fake.calls if c.method == "sendPhoto" and int(c.params["chat_id"]) == BOB]
    assert [c.ok for c in sends] == [False, True]
    assert len(shared.photos(BOB)) == photos_before + 1
    assert sends[1].params["reply_parameters"]["message_id"] == command["message_id"]


def test_webhook_mode_checks_the_secret_and_handles_a_repeat_once(
    tmp_path: Path, openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    import json
    import urllib.error
    import urllib.request

    from tests.support import free_port

    telegram = TelegramDriver().start()
    setup_people(telegram)
    port = free_port()
    stack = Stack(tmp_path, telegram, openai, redis_server.url)
    stack.env.update(
        TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram",
        TELEGRAM_WEBHOOK_SECRET="s3cret-token",
        TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
        TELEGRAM_WEBHOOK_PORT=str(port),
    )

    def post(update: dict[str, Any], secret: str) -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/telegram",
            data=json.dumps(update).encode(),
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    try:
        with process(["run"], stack.env, tmp_path, tmp_path / "bot.log"):
            wait_for(
                lambda: telegram.fake.webhook, 30, message=lambda: f"setWebhook\n{stack.log()}"
            )
            assert telegram.fake.webhook == {
                "url": f"http://127.0.0.1:{port}/telegram",
                "secret_token": "s3cret-token",
            }
            assert not telegram.polling()
            # Listed explicitly: Telegram would keep an earlier run's list otherwise.
            assert {"message", "edited_message", "callback_query", "my_chat_member"} <= set(
                telegram.fake.allowed_updates or ()
            ) and "chat_member" in (telegram.fake.allowed_updates or ())
            update = telegram.server.run_sync(
                lambda: telegram.fake.message_update(GROUP, ALICE, "/imagine a comet")
            )
            assert post(update, "wrong") == 403
            assert post(update, "s3cret-token") == 200
            assert post(update, "s3cret-token") == 200  # Telegram retried: the same update_id again
            row = stack.settled_row(update["message"])
            assert row["status"] == "delivered"
        assert len(stack.rows()) == 1
        assert len(stack.photos(GROUP)) == 1
    finally:
        telegram.stop()


def status_calls(t: TelegramDriver, command: dict[str, Any]) -> tuple[int, list[Call]]:
    """The status reply to `command` and every later call that touched that message."""
    chat_id = command["chat"]["id"]
    calls = list(t.fake.calls)
    (reply,) = [
        c
        for c in calls
        if c.method == "sendMessage"
        and c.ok
        and c.params.get("reply_parameters", {}).get("message_id") == command["message_id"]
    ]
    status_id = next(
        m["message_id"]
        for (chat, _mid), m in t.fake.messages.items()
        if chat == chat_id
        and m.get("reply_to_message", {}).get("message_id") == command["message_id"]
    )
    touched = [
        c
        for c in calls
        if str(c.params.get("message_id")) == str(status_id)
        and int(c.params.get("chat_id", 0)) == chat_id
    ]
    return status_id, [reply, *touched]


def test_a_quick_picture_costs_two_calls_a_slow_one_shows_generating_first(
    shared: Stack,
) -> None:
    t = shared.telegram
    # Private chats: earlier tests may have spent most of the shared group's flood budget,
    # and a busy group rightly gets no status edits.
    quick = t.send(ALICE, ALICE, "/imagine a quick sketch of a pear")
    assert shared.settled_row(quick)["status"] == "delivered"
    _, calls = status_calls(t, quick)
    reply, photo = calls[0], calls[-1]
    assert reply.method == "sendMessage" and photo.method == "editMessageMedia"
    edits = [c for c in calls if c.method == "editMessageText"]
    # No status edit within the grace period after the reply, ever.
    assert all(e.at - reply.at >= STATUS_GRACE - 0.05 for e in edits)
    if photo.at - reply.at < STATUS_GRACE - 0.05:
        # Done within it (the usual case, unless the machine is very busy): the
        # acknowledgement and the photo are the only calls.
        assert [c.method for c in calls] == ["sendMessage", "editMessageMedia"]
    assert not [c for c in t.fake.calls if c.method == "sendChatAction"]

    shared.openai.delay = 2.5
    try:
        slow = t.send(BOB, BOB, "/imagine a slow oil painting of a pear")
        assert shared.settled_row(slow)["status"] == "delivered"
    finally:
        shared.openai.delay = 0.0
    _, calls = status_calls(t, slow)
    methods = [c.method for c in calls]
    assert methods[0] == "sendMessage" and methods[-1] == "editMessageMedia"
    edits = [c for c in calls if c.method == "editMessageText"]
    # While the provider worked, the user saw that it was generating (throttled edits, the
    # first after the grace period), before the photo.
    assert 1 <= len(edits) <= 2 and "Generating" in edits[-1].params["text"]
    assert edits[0].at - calls[0].at >= STATUS_GRACE - 0.05
    assert methods.index("editMessageText") < methods.index("editMessageMedia")
