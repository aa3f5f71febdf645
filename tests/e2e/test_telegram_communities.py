"""Telegram in real communities, end to end: groups upgraded to supergroups, forum topics,
edited commands, chat permissions, the bot removed, old button presses, big files, local Bot
API servers and quotes from other chats. `imaginebot run --no-worker` and `imaginebot worker`
run as subprocesses against the fake Bot API (which knows each of these rules, see
tests/fakes/telegram_api.py) and the fake OpenAI images API; everything asserted is what
reached the fake or what the bot wrote to SQLite.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.telegram_api import Call, TelegramDriver
from tests.support import RedisServer, pixel_difference, process, rows, wait_for
from tests.support.telegram_stack import ADMIN, ALICE, BOB, Stack, setup_people

pytestmark = pytest.mark.e2e

# A short group budget (in the fake and in the bot) so that a group gets busy within seconds.
GROUP_LIMIT, GROUP_WINDOW = 6, 4.0
BASIC, UPGRADED = -4001, -1004001
BASIC_2, UPGRADED_2 = -4002, -1004002
BASIC_3, UPGRADED_3 = -4003, -1004003
FORUM, TOPIC, OTHER_TOPIC = -1007001, 55, 66


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, openai: FakeOpenAI) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("telegram-communities")
    redis = RedisServer(root / "redis").start()
    telegram = TelegramDriver(group_limit=GROUP_LIMIT, group_window=GROUP_WINDOW).start()
    setup_people(telegram)
    members = {ALICE: "member", BOB: "member", ADMIN: "administrator"}
    for chat_id in (BASIC, BASIC_2, BASIC_3):
        telegram.server.run_sync(telegram.fake.basic_group, chat_id)
        for user_id, status in members.items():
            telegram.fake.members[(chat_id, user_id)] = status
    telegram.server.run_sync(telegram.fake.forum, FORUM)
    for user_id, status in members.items():
        telegram.fake.members[(FORUM, user_id)] = status
    stack = Stack(root, telegram, openai, redis.url)
    stack.env.update(
        TELEGRAM_GROUP_RATE=str(GROUP_LIMIT), TELEGRAM_GROUP_PERIOD_SECONDS=str(GROUP_WINDOW)
    )
    try:
        with (
            process(["worker"], stack.env, root, root / "worker.log"),
            process(["run", "--no-worker"], stack.env, root, root / "bot.log"),
        ):
            wait_for(telegram.polling, 30, message=lambda: f"long polling\n{stack.log()}")
            yield stack
    finally:
        telegram.stop()
        redis.stop()


def bot_messages(t: TelegramDriver, chat_id: int) -> list[dict[str, Any]]:
    return [
        m
        for (chat, _), m in list(t.fake.messages.items())
        if chat == chat_id and m["from"]["id"] == t.fake.bot_id
    ]


def answered(shared: Stack, message: dict[str, Any], what: str = "an answer") -> dict[str, Any]:
    t = shared.telegram
    found = wait_for(lambda: t.replies_to(message), 15, message=lambda: f"{what}\n{shared.log()}")
    return found[-1]  # type: ignore[no-any-return]


def scope_rows(shared: Stack, chat_id: int) -> list[dict[str, Any]]:
    return rows(shared.db, "SELECT * FROM generations WHERE chat_id = ?", (str(chat_id),))


def photo_calls(t: TelegramDriver, chat_id: int, *, ok: bool | None = True) -> list[Call]:
    return [
        c
        for c in list(t.fake.calls)
        if c.method in ("sendPhoto", "editMessageMedia", "sendMediaGroup")
        and str(c.params.get("chat_id")) == str(chat_id)
        and (ok is None or c.ok == ok)
    ]


# -- upgraded groups --------------------------------------------------------------------------


def test_an_upgraded_group_keeps_everything_and_gets_the_picture_in_flight_once(
    shared: Stack,
) -> None:
    t = shared.telegram
    setstyle = t.send(BASIC, ADMIN, "/setstyle sketch")
    assert "Sketch" in answered(shared, setstyle)["text"]
    first = t.send(BASIC, ALICE, "/imagine a quiet harbour")
    assert shared.settled_row(first)["status"] == "delivered"

    shared.openai.delay = 3.0
    try:
        in_flight = t.send(BASIC, ALICE, "/imagine a windmill at dusk")
        wait_for(lambda: shared.row_replying_to(in_flight), 10, message="the request's row")
        t.server.run_sync(t.fake.migrate, BASIC, UPGRADED, ADMIN)
        row = shared.settled_row(in_flight)
    finally:
        shared.openai.delay = 0.0
    assert row["status"] == "delivered", row
    # Exactly one picture, in the supergroup; nothing reached the old id after the move.
    assert len(photo_calls(t, UPGRADED)) == 1
    assert len([m for m in bot_messages(t, UPGRADED) if "photo" in m]) == 1
    # Every row, the settings and the gallery's rows live under the new id.
    assert scope_rows(shared, BASIC) == []
    moved = scope_rows(shared, UPGRADED)
    assert len(moved) == 2 and {r["scope_id"] for r in moved} == {str(UPGRADED)}
    assert rows(shared.db, "SELECT * FROM scope_settings WHERE scope_id = ?", (str(BASIC),)) == []
    after = t.send(UPGRADED, BOB, "/imagine a lighthouse")
    assert shared.settled_row(after)["style"] == "sketch"
    history = t.send(UPGRADED, ALICE, "/history")
    wait_for(lambda: photo_calls(t, UPGRADED)[-1].method == "sendMediaGroup", 15, message="album")
    assert answered(shared, history, "the album")


def test_a_delivery_that_meets_chat_migrated_moves_the_chat_and_posts_in_the_new_one(
    shared: Stack,
) -> None:
    """The upgrade's service messages not seen yet (the bot reads them a moment later): the
    picture's edit answers 400 with migrate_to_chat_id; the bot moves the chat and posts the
    picture at the new id, once."""
    t = shared.telegram
    shared.openai.delay = 3.0
    try:
        command = t.send(BASIC_2, ALICE, "/imagine an old tram")
        wait_for(lambda: shared.row_replying_to(command), 10, message="the request's row")
        t.server.run_sync(lambda: t.fake.migrate(BASIC_2, UPGRADED_2, ADMIN, notify=False))
        row = shared.settled_row(command)
    finally:
        shared.openai.delay = 0.0
    assert row["status"] == "delivered", row
    refused = [c for c in photo_calls(t, BASIC_2, ok=False) if "upgraded" in str(c.error)]
    assert refused, "the picture first went to the old id"
    assert len(photo_calls(t, UPGRADED_2)) == 1
    assert row["chat_id"] == row["scope_id"] == str(UPGRADED_2)
    assert json.loads(row["handle"]).get("moved_from_chat") == str(BASIC_2)


def test_a_command_read_under_the_old_id_is_answered_in_the_new_group(shared: Stack) -> None:
    """A command sent just before the upgrade and read after it: its answer to the old id
    meets ChatMigrated; the bot moves the chat and says, in the new group, to send it again
    (nothing made, nothing counted), instead of dropping it without a word."""
    t = shared.telegram
    earlier = t.send(BASIC_3, ALICE, "/imagine a first picture here")
    assert shared.settled_row(earlier)["status"] == "delivered"
    t.server.run_sync(lambda: t.fake.migrate(BASIC_3, UPGRADED_3, ADMIN, notify=False))
    late = t.send(BASIC_3, BOB, "/imagine sent before the upgrade")
    told = wait_for(
        lambda: [m for m in bot_messages(t, UPGRADED_3) if "send it again" in m.get("text", "")],
        15,
        message=lambda: f"the word in the new group\n{shared.log()}",
    )
    assert len(told) == 1 and shared.row_replying_to(late) is None
    assert [r["chat_id"] for r in scope_rows(shared, UPGRADED_3)] == [str(UPGRADED_3)]
    assert scope_rows(shared, BASIC_3) == []


# -- forum topics -----------------------------------------------------------------------------


def test_in_a_forum_with_general_closed_every_message_lands_in_its_topic_board_included(
    shared: Stack,
) -> None:
    t = shared.telegram
    t.server.run_sync(t.fake.close_general, FORUM)
    topics = (TOPIC, OTHER_TOPIC)
    shared.openai.delay = 0.5
    try:
        commands = [
            t.send(
                FORUM,
                (ALICE, BOB)[i % 2],
                f"/imagine topic fox {i}" + (" REFUSE_ME" if i in (5, 8) else ""),
                thread_id=topics[i % 2],
            )
            for i in range(10)
        ]
        typo = t.send(FORUM, ALICE, "/imagine a cat style:anmie", thread_id=TOPIC)
        settled = [shared.settled_row(c) for c in commands]
    finally:
        shared.openai.delay = 0.0
    assert [r["status"] for r in settled].count("failed") == 2
    assert "Did you mean anime" in answered(shared, typo)["text"]
    first = next(r for r in settled if r["status"] == "delivered")
    (picture,) = [m for m in t.replies_to(commands[settled.index(first)]) if "photo" in m]
    t.press(BOB, picture, f"ib:r:{first['id']}")
    wait_for(
        lambda: [
            r for r in shared.rows() if r["parent_id"] == first["id"] and r["status"] == "delivered"
        ],
        30,
        message=lambda: f"the reroll\n{shared.log()}",
    )
    wait_for(
        lambda: all(
            m["text"].startswith("✅")
            for m in bot_messages(t, FORUM)
            if str(m.get("text", "")).startswith(("⏳ Busy", "✅"))
        ),
        20,
        message="the boards' last word",
    )
    mine = bot_messages(t, FORUM)
    boards = [m for m in mine if str(m.get("text", "")).startswith(("⏳ Busy", "✅"))]
    assert boards, "the group never got busy: the board was not exercised"
    # 100 %: nothing in General (closed: nothing could have gone there), nothing refused.
    assert {m.get("message_thread_id") for m in mine} <= set(topics)
    assert not [c for c in t.fake.calls if "TOPIC_CLOSED" in str(c.error)]
    # Each request's messages are in its own topic; a board only lists its topic's requests.
    for command in commands:
        answers = t.replies_to(command)
        assert len(answers) == 1, (command["text"], answers)
        assert answers[0]["message_thread_id"] == command["message_thread_id"]
    board_sends = [
        c
        for c in t.fake.calls
        if c.method == "sendMessage"
        and c.ok
        and str(c.params.get("text", "")).startswith("⏳ Busy")
    ]
    for call in board_sends:
        thread = int(call.params["message_thread_id"])
        shown = [int(n) for n in re.findall(r"topic fox (\d+)", call.params["text"])]
        assert shown and all(topics[n % 2] == thread for n in shown)


# -- edited commands and allowed_updates -------------------------------------------------------


def handled(shared: Stack, update_id: int) -> None:
    """Wait until the bot confirmed (asked past) this update."""
    t = shared.telegram
    wait_for(lambda: t.fake._consumed_offset > update_id, 15, message="the update read")


def test_an_edited_imagine_or_describe_makes_nothing_more_and_charges_once(
    shared: Stack,
) -> None:
    from tests.fakes.openai_images import make_png

    t = shared.telegram
    calls_before = len(shared.openai.calls)
    command = t.send(ALICE, ALICE, "/imagine a red kite")
    first = shared.settled_row(command)
    assert first["status"] == "delivered"
    edit = t.server.run_sync(t.fake.edit_update, command, "/imagine a red kite over hills")
    picture = t.send_picture(ALICE, ALICE, make_png(64, 64, "kite"), "/describe")
    described = wait_for(
        lambda: (r := shared.row_replying_to(picture)) and r["status"] == "delivered" and r,
        30,
        message=lambda: f"the describe\n{shared.log()}",
    )
    edit_describe = t.server.run_sync(t.fake.edit_update, picture, "/describe please")
    marker = t.send(ALICE, ALICE, "/imagine a marker after the edits")
    shared.settled_row(marker)
    handled(shared, max(edit["update_id"], edit_describe["update_id"]))
    # One row per original command, one provider call each, nothing for the edits.
    mine = [r for r in shared.rows() if r["user_id"] == str(ALICE) and r["chat_id"] == str(ALICE)]
    texts = [r["prompt"] for r in mine]
    assert texts.count("a red kite") == 1 and "a red kite over hills" not in texts
    assert described["status"] == "delivered"
    assert len([r for r in mine if r["kind"] == "describe"]) == 1
    assert len(shared.openai.calls) - calls_before == 2  # the kite and the marker
    assert len(t.replies_to(command)) == 1 and len(t.replies_to(picture)) == 1


def test_polling_lists_allowed_updates_explicitly_member_updates_included(shared: Stack) -> None:
    polls = shared.telegram.fake.calls_to("getUpdates", ok=None)
    assert polls and all("allowed_updates" in c.params for c in polls)
    listed = set(polls[-1].params["allowed_updates"])
    assert {
        "message",
        "edited_message",
        "callback_query",
        "my_chat_member",
        "chat_member",
    } <= listed
    assert shared.telegram.fake.allowed_updates is not None


# -- sizes ------------------------------------------------------------------------------------


def noisy_png(width: int, height: int) -> bytes:
    """A picture that does not compress: an upscale's 4096 px PNG is tens of megabytes."""
    import io
    import os

    from PIL import Image

    out = io.BytesIO()
    image = Image.frombytes("RGBA", (width, height), os.urandom(width * height * 4))
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def test_history_albums_and_full_size_files_fit_telegrams_limits(shared: Stack) -> None:
    """An upscaled 4096x4096 PNG (over 50 MB) in the history: the album still goes, each
    item a photo under 10 MB and the request under 50 MB, its caption pointing to the
    gallery; the full-size file goes as a document under 50 MB. Telegram never answers 413."""
    t = shared.telegram
    carol = 21  # a history of her own: exactly these two pictures
    t.add_user(carol, "carol")
    made = [t.send(carol, carol, f"/imagine a lantern {i}") for i in range(2)]
    settled = [shared.settled_row(m) for m in made]
    big = noisy_png(4096, 4096)
    assert len(big) > 50 * 1024 * 1024
    Path(settled[0]["image_path"]).write_bytes(big)  # as an upscale would have stored it
    before = len(t.fake.calls)
    history = t.send(carol, carol, "/history")
    album = wait_for(
        lambda: [c for c in t.fake.calls[before:] if c.method == "sendMediaGroup"],
        30,
        message=lambda: f"the album\n{shared.log()}",
    )[0]
    assert album.ok, album.error
    assert answered(shared, history, "the album")
    sizes = [len(data) for data in album.files.values()]
    assert len(sizes) == 2 and max(sizes) <= 10 * 1024 * 1024
    assert sum(sizes) <= 50 * 1024 * 1024
    captions = [item.get("caption", "") for item in album.params["media"]]
    assert sum("full size: see the gallery" in c for c in captions) == 1

    (picture,) = [m for m in t.replies_to(made[0]) if "photo" in m]
    t.press(carol, picture, f"ib:f:{settled[0]['id']}")
    document = wait_for(
        lambda: [c for c in t.fake.calls[before:] if c.method == "sendDocument"],
        60,
        message=lambda: f"the full-size file\n{shared.log()}",
    )[0]
    assert document.ok and len(document.files["document"]) <= 50 * 1024 * 1024
    assert not [c for c in t.fake.calls[before:] if "413" in str(c.error)]


def test_a_413_from_telegrams_front_end_is_final_for_those_bytes(
    telegram: TelegramDriver,
) -> None:
    """Over 50 MB the Bot API's front end answers 413 with an HTML page; python-telegram-bot
    raises a NetworkError, which the bot takes as final (never re-uploaded for a day)."""
    import asyncio

    from telegram import Bot
    from telegram.error import NetworkError

    from bot.adapters.telegram.result_channel import delivery_error

    telegram.add_user(ALICE, "alice")

    async def send() -> NetworkError:
        bot = Bot(telegram.fake.token, base_url=telegram.env()["TELEGRAM_API_BASE"])
        async with bot:
            try:
                await bot.send_document(ALICE, b"x" * (51 * 1024 * 1024), filename="big.png")
            except NetworkError as exc:
                return exc
        raise AssertionError("Telegram took 51 MB")

    error = asyncio.run(send())
    assert "413" in error.message
    assert delivery_error(error).retryable is False
    assert telegram.fake.calls[-1].error == "413 Request Entity Too Large"


# -- permissions before paying, and the bot removed ---------------------------------------------

NO_PHOTOS = -1008001


def test_a_group_without_photo_rights_is_refused_before_anything_is_paid(shared: Stack) -> None:
    t = shared.telegram
    t.server.run_sync(t.fake.group, NO_PHOTOS)
    for user_id, status in {ALICE: "member", ADMIN: "administrator"}.items():
        t.fake.members[(NO_PHOTOS, user_id)] = status
    t.server.run_sync(lambda: t.fake.set_permissions(NO_PHOTOS, can_send_photos=False))
    calls = len(shared.openai.calls)
    refused = t.send(NO_PHOTOS, ALICE, "/imagine a forbidden fruit")
    assert "can't post pictures in this chat" in answered(shared, refused)["text"]
    assert shared.row_replying_to(refused) is None and len(shared.openai.calls) == calls
    # An admin makes the bot an admin: Telegram says so (my_chat_member), the bot reads the
    # chat's rights again, and the next picture goes.
    t.server.run_sync(lambda: t.fake.set_bot_status(NO_PHOTOS, "administrator", ADMIN))
    handled(shared, t.fake.updates[-1]["update_id"])
    allowed = t.send(NO_PHOTOS, ALICE, "/imagine an allowed fruit")
    assert shared.settled_row(allowed)["status"] == "delivered"
    assert len(photo_calls(t, NO_PHOTOS)) == 1


def test_a_removed_or_blocked_bot_cancels_the_waiting_requests_without_paying(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    from tests.support.telegram_stack import GROUP

    telegram = TelegramDriver().start()
    setup_people(telegram)
    stack = Stack(tmp_path, telegram, fake_openai, redis_server.url)
    t = telegram
    try:
        # No worker yet: every request waits in the queue, as behind a busy provider.
        with process(["run", "--no-worker"], stack.env, tmp_path, tmp_path / "bot.log"):
            wait_for(telegram.polling, 30, message=lambda: f"long polling\n{stack.log()}")
            setstyle = t.send(GROUP, ADMIN, "/setstyle sketch")
            answered(stack, setstyle)
            waiting = [t.send(GROUP, ALICE, f"/imagine a queued cat {i}") for i in range(2)]
            waiting.append(t.send(BOB, BOB, "/imagine a queued dog"))
            wait_for(
                lambda: all(stack.row_replying_to(m) for m in waiting), 15, message="queued rows"
            )
            t.server.run_sync(lambda: t.fake.set_bot_status(GROUP, "kicked", ADMIN))
            t.server.run_sync(lambda: t.fake.set_bot_status(BOB, "kicked", BOB))
            failed = [stack.settled_row(m) for m in waiting]
            with process(["worker"], stack.env, tmp_path, tmp_path / "worker.log"):
                control = t.send(ALICE, ALICE, "/imagine a control lamp")
                assert stack.settled_row(control)["status"] == "delivered"
    finally:
        telegram.stop()
    assert [r["status"] for r in failed] == ["failed"] * 3
    assert {r["failure_code"] for r in failed} == {"bot_removed"}
    assert "removed from this chat" in failed[0]["failure_reason"]
    assert "blocked the bot" in failed[2]["failure_reason"]
    # Only the control request reached the provider; the group's settings stay.
    assert len(fake_openai.calls) == 1
    settings = rows(stack.db, "SELECT * FROM scope_settings WHERE scope_id = ?", (str(GROUP),))
    assert settings and settings[0]["default_style"] == "sketch"


# -- presses answered too late ------------------------------------------------------------------


def test_a_press_answered_too_late_is_still_run_and_its_words_still_arrive(
    shared: Stack,
) -> None:
    """Presses made while the bot restarted reach it after Telegram's ~15 s for an answer:
    answerCallbackQuery is refused, and the bot acts on each press anyway, saying in a reply
    what the answer would have said."""
    t = shared.telegram
    command = t.send(ALICE, ALICE, "/imagine a paper boat")
    row = shared.settled_row(command)
    (picture,) = [m for m in t.replies_to(command) if "photo" in m]
    t.fake.callback_answer_seconds = 0.0  # every press is older than Telegram takes answers for
    try:
        t.press(ALICE, picture, f"ib:r:{row['id']}")
        again = wait_for(
            lambda: [r for r in shared.rows() if r["parent_id"] == row["id"]],
            30,
            message=lambda: f"the reroll\n{shared.log()}",
        )
        assert again
        t.press(ALICE, picture, "ib:d:anime")
        t.press(ALICE, picture, "ib:nonsense")

        def texts() -> list[str]:
            return [m.get("text", "") for m in t.replies_to(picture)]

        wait_for(
            lambda: (
                any("default style" in x for x in texts())
                and any("no longer valid" in x for x in texts())
            ),
            15,
            message=lambda: f"the answers as replies\n{shared.log()}",
        )
    finally:
        t.fake.callback_answer_seconds = 15.0
    assert any("Your default style is now" in x and "Anime" in x for x in texts())
    assert any("This button is no longer valid." in x for x in texts())
    refused = t.fake.calls_to("answerCallbackQuery", ok=False)
    assert len(refused) >= 3 and all("too old" in str(c.error) for c in refused)
    rerolled = wait_for(
        lambda: (
            (r := [x for x in shared.rows() if x["parent_id"] == row["id"]])
            and r[0]["status"] == "delivered"
            and r
        ),
        30,
        message="the reroll delivered",
    )
    assert rerolled[0]["user_id"] == str(ALICE)


# -- pictures from a local Bot API server, and quotes from other chats --------------------------


def test_a_quoted_photo_from_another_chat_is_read_as_a_reply(shared: Stack) -> None:
    from tests.fakes.openai_images import make_png
    from tests.support.telegram_stack import GROUP

    t = shared.telegram
    photo = t.send_picture(GROUP, BOB, make_png(96, 64, "quoted"))  # a photo, no caption
    sent_as = t.fake.files[photo["photo"][-1]["file_id"]]
    before = len(shared.openai.vision_images)
    command = t.send(
        ALICE, ALICE, "/describe", external_reply=t.server.run_sync(t.fake.external_quote, photo)
    )
    row = shared.settled_row(command)
    assert row["status"] == "delivered" and row["kind"] == "describe"
    (seen,) = shared.openai.vision_images[before:]
    # The input is encoded anew (metadata dropped), so the same picture, not the same bytes.
    assert pixel_difference(seen, sent_as) <= 8


def test_an_absolute_file_path_is_refused_without_a_local_server_configured(
    shared: Stack, tmp_path: Path
) -> None:
    from tests.fakes.openai_images import make_png

    t = shared.telegram
    t.fake.local_files_dir = str(tmp_path / "bot-api")
    try:
        before = len(shared.openai.vision_images)
        command = t.send_picture(ALICE, ALICE, make_png(64, 64, "local"), "/describe")
        answer = wait_for(
            lambda: [m for m in t.replies_to(command) if "file server" in m.get("text", "")],
            15,
            message=lambda: f"the refusal\n{shared.log()}",
        )
    finally:
        t.fake.local_files_dir = None
    assert answer and len(shared.openai.vision_images) == before


def test_a_local_bot_api_server_hands_out_paths_read_only_inside_its_directory(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    from tests.fakes.openai_images import make_png

    telegram = TelegramDriver().start()
    setup_people(telegram)
    served, elsewhere = tmp_path / "bot-api", tmp_path / "elsewhere"
    stack = Stack(tmp_path, telegram, fake_openai, redis_server.url)
    stack.env["TELEGRAM_LOCAL_FILES_DIR"] = str(served)
    t = telegram
    try:
        with (
            process(["worker"], stack.env, tmp_path, tmp_path / "worker.log"),
            process(["run", "--no-worker"], stack.env, tmp_path, tmp_path / "bot.log"),
        ):
            wait_for(telegram.polling, 30, message=lambda: f"long polling\n{stack.log()}")
            t.fake.local_files_dir = str(served)
            picture = make_png(80, 60, "on the server's disk")
            command = t.send_picture(ALICE, ALICE, picture, "/describe")
            row = wait_for(
                lambda: (r := stack.row_replying_to(command)) and r["status"] == "delivered" and r,
                30,
                message=lambda: f"the describe\n{stack.log()}",
            )
            assert row["kind"] == "describe" and t.fake.downloads == []  # read from disk
            assert len(fake_openai.vision_images) == 1
            t.fake.local_files_dir = str(elsewhere)  # a path outside the configured directory
            outside = t.send_picture(ALICE, ALICE, picture, "/describe")
            wait_for(
                lambda: [m for m in t.replies_to(outside) if "file server" in m.get("text", "")],
                15,
                message=lambda: f"the refusal\n{stack.log()}",
            )
            assert len(fake_openai.vision_images) == 1
    finally:
        telegram.stop()


def test_two_bot_processes_see_the_upgrade_at_once_and_post_each_picture_once(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    """Two bot processes on one database and Redis, both delivering finished pictures (the
    completion stream's consumer group shares them out): each meets ChatMigrated and moves
    the chat, at about the same moment. Every picture in flight arrives once, in the
    supergroup; everything moved once."""
    telegram = TelegramDriver().start()
    setup_people(telegram)
    t = telegram
    t.server.run_sync(t.fake.basic_group, BASIC)
    for user_id, status in {ALICE: "member", BOB: "member", ADMIN: "administrator"}.items():
        t.fake.members[(BASIC, user_id)] = status
    stack = Stack(tmp_path, telegram, fake_openai, redis_server.url)
    try:
        with (
            process(["worker"], stack.env, tmp_path, tmp_path / "worker.log"),
            process(["run", "--no-worker"], stack.env, tmp_path, tmp_path / "bot-1.log"),
            process(["run", "--no-worker"], stack.env, tmp_path, tmp_path / "bot-2.log"),
        ):
            wait_for(telegram.polling, 30, message=lambda: f"long polling\n{stack.log()}")
            setstyle = t.send(BASIC, ADMIN, "/setstyle sketch")
            answered(stack, setstyle)
            fake_openai.delay = 2.0
            commands = [t.send(BASIC, (ALICE, BOB)[i % 2], f"/imagine lamp {i}") for i in range(6)]
            wait_for(
                lambda: all(stack.row_replying_to(c) for c in commands), 15, message="queued rows"
            )
            # The service messages held back: every delivery meets ChatMigrated, in both
            # processes at about the same moment, and each moves the chat.
            t.fake.migrated_answer_seconds = 1.0
            t.server.run_sync(lambda: t.fake.migrate(BASIC, UPGRADED, ADMIN, notify=False))
            # Six pictures of 2 s each through one worker that runs at niceness 10: on a
            # loaded machine that worker gets little CPU, so the bound is for all six.
            settled = [stack.settled_row(c, seconds=120) for c in commands]
    finally:
        fake_openai.delay = 0.0
        telegram.stop()
    movers = [p for p in tmp_path.glob("bot-*.log") if "is now" in p.read_text()]
    assert len(movers) == 2, "both processes met the upgrade"
    refused = [c for c in photo_calls(t, BASIC, ok=False) if "upgraded" in str(c.error)]
    assert len(refused) >= 2
    assert [r["status"] for r in settled] == ["delivered"] * 6
    assert {(r["chat_id"], r["scope_id"]) for r in settled} == {(str(UPGRADED), str(UPGRADED))}
    photos = [m for m in bot_messages(t, UPGRADED) if "photo" in m]
    assert len(photos) == 6 and len(photo_calls(t, UPGRADED)) == 6
    settings = rows(stack.db, "SELECT scope_id, default_style FROM scope_settings")
    assert settings == [{"scope_id": str(UPGRADED), "default_style": "sketch"}]
