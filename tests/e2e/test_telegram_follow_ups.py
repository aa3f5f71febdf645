"""Telegram after the first picture, and pictures in, end to end: `imaginebot run --no-worker`
and `imaginebot worker` as subprocesses, a private Redis, the fake AUTOMATIC1111 API (batch,
img2img, an upscaler, interrogation) and the fake Bot API (real long polling, getFile and
the file URL).

Asserted is what reached the fakes (the bytes the provider received, the photo uploaded, the
buttons, the answers) and what the bot wrote to SQLite and its data directory.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, PngImagePlugin

from tests.fakes.openai_images import bomb_png
from tests.fakes.telegram_api import photo_bytes
from tests.support import pixel_difference, rows, wait_for
from tests.support.telegram_follow_up_stack import (
    ADMIN,
    ALICE,
    BOB,
    GRID_GROUP,
    OTHER_GROUP,
    PICTURES_GROUP,
    Stack,
    running_stack,
)

pytestmark = pytest.mark.e2e


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as picture:
        return picture.size


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as picture:
        return picture.convert("RGB").tobytes()


def png_with_exif(width: int = 96, height: int = 64) -> tuple[bytes, bytes]:
    """A PNG carrying EXIF with a GPS position, and its pixels."""
    picture = Image.new("RGB", (width, height), (200, 40, 90))
    for x in range(0, width, 4):
        picture.putpixel((x, x % height), (10, 250, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (48.0, 51.0, 30.0)}  # GPSInfo: latitude
    out = io.BytesIO()
    picture.save(out, format="PNG", exif=exif.tobytes())
    return out.getvalue(), picture.tobytes()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("telegram-follow-ups")) as built:
        yield built


def keyboard(message: dict[str, Any]) -> list[list[tuple[str, str]]]:
    return [
        [(b["text"], b["callback_data"]) for b in row]
        for row in message["reply_markup"]["inline_keyboard"]
    ]


@pytest.fixture(scope="module")
def grid(stack: Stack) -> dict[str, Any]:
    """`count:4` in a group: the command, its row and the grid message."""
    t, before = stack.telegram, len(stack.sd.images)
    command = t.send(GRID_GROUP, ALICE, "/imagine a lighthouse at dusk count:4 --ar 1:1")
    row = stack.settled(reply_to_message_id=str(command["message_id"]))
    (reply,) = t.replies_to(command)
    return {"command": command, "row": row, "reply": reply, "originals": stack.sd.images[before:]}


def test_count_4_posts_one_grid_photo_with_u_v_and_the_other_buttons(
    stack: Stack, grid: dict[str, Any]
) -> None:
    t, row, reply = stack.telegram, grid["row"], grid["reply"]
    gid = row["id"]
    # One provider call for four images, each stored on its own, byte for byte.
    assert len(grid["originals"]) == 4
    assert stack.images(gid) == grid["originals"]
    # One photo in the chat: the status reply became the grid (2x2 of 1024 px tiles).
    photos = [
        c
        for c in t.server.run_sync(t.fake.photos_in, GRID_GROUP)
        if int(c.params.get("message_id", 0)) == reply["message_id"]
    ]
    assert len(photos) == 1 and "photo" in reply
    uploaded = photo_bytes(photos[0])
    assert uploaded not in grid["originals"]
    width, height = size_of(uploaded)
    assert width > 1024 and height > 1024 and abs(width - height) < 64
    # Top-left tile of the grid is image 1, bottom-right image 4 (scaled down, so compared
    # by colour at the centre of each tile's top-left quarter, away from the tile numbers).
    with Image.open(io.BytesIO(uploaded)) as shown:
        for number, (x, y) in ((1, (0.2, 0.2)), (4, (0.7, 0.7))):
            with Image.open(io.BytesIO(grid["originals"][number - 1])) as tile:
                expected = tile.convert("RGB").getpixel((tile.width // 4, tile.height // 4))
            got = shown.convert("RGB").getpixel((int(width * x), int(height * y)))
            assert all(abs(a - b) < 24 for a, b in zip(got, expected, strict=True)), number
    # Nothing else was posted for it: one acknowledgement that became the photo.
    posted = [
        c
        for c in t.fake.calls
        if c.method in ("sendMessage", "sendPhoto", "sendDocument")
        and c.params.get("reply_parameters", {}).get("message_id") == grid["command"]["message_id"]
    ]
    assert len(posted) == 1
    assert keyboard(reply) == [
        [(f"U{k}", f"ib:u:{gid}:{k}") for k in range(1, 5)],
        [(f"V{k}", f"ib:v:{gid}:{k}") for k in range(1, 5)],
        [("🔁 Reroll", f"ib:r:{gid}"), ("🎨 Restyle", f"ib:s:{gid}"), ("✏️ Remix", f"ib:m:{gid}")],
        [("🪄 Edit", f"ib:e:{gid}"), ("ℹ️ Info", f"ib:i:{gid}"), ("🗑 Delete", f"ib:D:{gid}")],
    ]


def test_v2_after_a_restart_sends_image_2_and_posts_a_new_grid(
    stack: Stack, grid: dict[str, Any]
) -> None:
    t, row, reply = stack.telegram, grid["row"], grid["reply"]
    stack.stop_bot()
    stack.start_bot()  # the buttons name the request: a new process still knows it
    sent_before = len(stack.sd.init_images)
    t.press(BOB, reply, f"ib:v:{row['id']}:2")
    varied = stack.settled(parent_id=row["id"], kind="vary")
    assert stack.sd.init_images[sent_before:] == [grid["originals"][1]]
    assert varied["count"] == 4 and varied["parent_index"] == 2
    assert len(stack.images(varied["id"])) == 4
    # The new grid is a photo replying to the old one, with its own U and V buttons.
    (answer,) = [m for m in stack.answers_to(reply) if "photo" in m]
    assert keyboard(answer)[0] == [(f"U{k}", f"ib:u:{varied['id']}:{k}") for k in range(1, 5)]


def test_u3_sends_image_3_to_the_upscaler_and_replies_with_it(
    stack: Stack, grid: dict[str, Any]
) -> None:
    t, row, reply = stack.telegram, grid["row"], grid["reply"]
    before = len(stack.sd.upscaled)
    t.press(ALICE, reply, f"ib:u:{row['id']}:3")
    upscaled = stack.settled(parent_id=row["id"], kind="upscale")
    ((sent, body),) = stack.sd.upscaled[before:]
    assert sent == grid["originals"][2] and body["upscaler_1"]
    answer = next(
        m
        for m in stack.answers_to(reply)
        if ("photo" in m or "document" in m) and "ib:v:" + upscaled["id"] in str(m["reply_markup"])
    )
    stored = Path(upscaled["image_path"]).read_bytes()
    assert size_of(stored)[0] >= 2 * 1024
    edits = [
        c
        for c in t.fake.calls_to("editMessageMedia")
        if int(c.params.get("message_id", 0)) == answer["message_id"]
    ]
    assert photo_bytes(edits[-1]) == stored
    assert keyboard(answer) == [
        [("🔀 Vary", f"ib:v:{upscaled['id']}:1")],
        [("✏️ Remix", f"ib:m:{upscaled['id']}")],
        # An upscale can be edited like any single picture (zoom, pan, ... on the fake OpenAI).
        [
            ("🪄 Edit", f"ib:e:{upscaled['id']}"),
            ("ℹ️ Info", f"ib:i:{upscaled['id']}"),
            ("🗑 Delete", f"ib:D:{upscaled['id']}"),
        ],
    ]


def test_remix_asks_with_a_force_reply_and_runs_the_edited_prompt(
    stack: Stack, grid: dict[str, Any]
) -> None:
    t, row, reply = stack.telegram, grid["row"], grid["reply"]
    t.press(ALICE, reply, f"ib:m:{row['id']}")
    prompt = wait_for(
        lambda: next((m for m in t.replies_to(reply) if "Remix" in m.get("text", "")), None),
        20,
        message=lambda: f"the remix prompt\n{stack.log()}",
    )
    assert row["id"] in prompt["text"]
    (asked,) = [
        c
        for c in t.fake.calls_to("sendMessage")
        if c.params.get("reply_parameters", {}).get("message_id") == reply["message_id"]
        and "Remix" in c.params["text"]
    ]
    assert asked.params["reply_markup"]["force_reply"] is True
    # Someone else's answer to Alice's prompt is refused and starts nothing.
    wrong = t.send(GRID_GROUP, BOB, "a pirate ship", reply_to=prompt)
    (refusal,) = stack.answers_to(wrong)
    assert "Only the person who pressed Remix" in refusal["text"]
    answer = t.send(GRID_GROUP, ALICE, "a lighthouse at dawn --no boats", reply_to=prompt)
    remixed = stack.settled(parent_id=row["id"], kind="remix")
    assert remixed["prompt"] == "a lighthouse at dawn"
    assert remixed["negative_prompt"] == "boats"
    assert (remixed["style"], remixed["aspect"], remixed["count"]) == (
        row["style"],
        row["aspect"],
        4,
    )
    assert remixed["reply_to_message_id"] == str(answer["message_id"])
    # The prompt is answered once: replying again runs nothing.
    again = t.send(GRID_GROUP, ALICE, "a lighthouse in fog", reply_to=prompt)
    (used,) = stack.answers_to(again)
    assert "already answered" in used["text"]
    assert [r for r in stack.rows() if r["prompt"] == "a lighthouse in fog"] == []
    assert [r for r in stack.rows() if r["prompt"] == "a pirate ship"] == []


def test_info_shows_every_seed(stack: Stack, grid: dict[str, Any]) -> None:
    t, row, reply = stack.telegram, grid["row"], grid["reply"]
    seeds = [
        str(r["seed"])
        for r in rows(
            stack.db,
            "SELECT seed FROM generation_images WHERE generation_id = ? ORDER BY idx",
            (row["id"],),
        )
    ]
    alerts = len(stack.alerts())
    replies = len(t.replies_to(reply))
    press = t.press(ALICE, reply, f"ib:i:{row['id']}")
    answered = wait_for(
        lambda: [
            c
            for c in stack.alerts()[alerts:]
            if c.params["callback_query_id"] == press["callback_query"]["id"]
        ],
        20,
    )
    if answered[0].params.get("show_alert"):
        shown = answered[0].params["text"]
        assert len(shown) <= 200
    else:
        shown = wait_for(lambda: t.replies_to(reply)[replies:], 20)[0]["text"]
    assert all(seed in shown for seed in seeds) and "sdwebui" in shown


def test_a_forged_press_from_another_chat_is_refused(stack: Stack, grid: dict[str, Any]) -> None:
    t, row = stack.telegram, grid["row"]
    elsewhere = t.send(OTHER_GROUP, ADMIN, "hello")
    upscales, rows_before = len(stack.sd.upscaled), len(stack.rows())
    for data in (
        f"ib:u:{row['id']}:1",
        f"ib:v:{row['id']}:1",
        f"ib:m:{row['id']}",
        f"ib:D:{row['id']}",
    ):
        press = t.press(ADMIN, elsewhere, data)
        (alert,) = wait_for(
            lambda p=press: [
                c
                for c in stack.alerts()
                if c.params["callback_query_id"] == p["callback_query"]["id"]
            ],
            20,
        )
        assert alert.params.get("show_alert") and "another chat" in alert.params["text"]
    assert len(stack.sd.upscaled) == upscales and len(stack.rows()) == rows_before
    assert t.replies_to(elsewhere) == []
    assert stack.images(row["id"]) == grid["originals"]  # Delete from elsewhere deleted nothing


def test_a_caption_imagine_is_image_to_image_with_the_strength(stack: Stack) -> None:
    t = stack.telegram
    data, original_pixels = png_with_exif()
    before = len(stack.sd.init_images)
    command = t.send_picture(
        PICTURES_GROUP,
        ALICE,
        data,
        "/imagine a watercolour of this strength:0.4",
        as_document=True,
        file_name="holiday.png",
    )
    row = stack.settled(reply_to_message_id=str(command["message_id"]))
    assert row["strength"] == 0.4
    (received,) = stack.sd.init_images[before:]
    assert stack.sd.bodies[-1]["denoising_strength"] == 0.4
    assert pixels(received) == original_pixels
    with Image.open(io.BytesIO(received)) as picture:
        assert not picture.getexif() and "exif" not in picture.info
    assert b"PhoneMaker" not in received
    # Acknowledged first, downloaded after.
    calls = t.fake.calls
    ack = next(
        i
        for i, c in enumerate(calls)
        if c.method == "sendMessage"
        and c.params.get("reply_parameters", {}).get("message_id") == command["message_id"]
    )
    get_file = next(i for i, c in enumerate(calls) if c.method == "getFile")
    assert ack < get_file


def test_imagine_as_a_reply_to_a_photo_starts_from_that_photo(stack: Stack) -> None:
    t = stack.telegram
    data, _pixels = png_with_exif(120, 80)
    photo = t.send_picture(PICTURES_GROUP, BOB, data)  # a compressed photo, no caption
    sent_as = t.fake.files[photo["photo"][-1]["file_id"]]
    before = len(stack.sd.init_images)
    command = t.send(PICTURES_GROUP, ALICE, "/imagine the same at night", reply_to=photo)
    row = stack.settled(reply_to_message_id=str(command["message_id"]))
    (received,) = stack.sd.init_images[before:]
    # The photo is encoded anew (no container of the user's goes on), at high quality.
    assert size_of(received) == size_of(sent_as) and row["strength"] == 0.6
    assert pixel_difference(received, sent_as) <= 16


def test_a_burst_of_photos_is_acknowledged_at_once_and_fetched_two_at_a_time(
    stack: Stack,
) -> None:
    """Each picture in hand holds megabytes until its job is queued, so the bot fetches and
    cleans two at a time (PICTURES_AT_ONCE); the acknowledgements do not wait for that."""
    t = stack.telegram
    users = [41, 42, 43, 44, 45]
    data, _pixels = png_with_exif(64, 48)
    for user in users:
        t.add_user(user, f"photographer{user}")
        t.server.run_sync(lambda user=user: t.fake.private_chat(user))
    t.server.run_sync(lambda: setattr(t.fake, "download_seconds", 0.4))
    t.server.run_sync(lambda: setattr(t.fake, "most_downloads_open", 0))
    try:
        commands = [
            t.send_picture(user, user, data, f"/imagine burst picture {user}") for user in users
        ]
        settled = [stack.settled(reply_to_message_id=str(c["message_id"])) for c in commands]
    finally:
        t.server.run_sync(lambda: setattr(t.fake, "download_seconds", 0.0))
    assert [row["status"] for row in settled] == ["delivered"] * len(users)
    assert t.fake.most_downloads_open == 2
    calls = t.fake.calls
    acks = [
        i
        for i, c in enumerate(calls)
        if c.method == "sendMessage"
        and any(
            c.params.get("chat_id") in (cmd["chat"]["id"], str(cmd["chat"]["id"]))
            and c.params.get("reply_parameters", {}).get("message_id") == cmd["message_id"]
            for cmd in commands
        )
    ]
    files = [i for i, c in enumerate(calls) if c.method == "getFile"]
    assert len(acks) == len(users)
    # Every photo was acknowledged before the last ones were even asked for.
    assert max(acks) < files[-2]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("12 MB", "larger than 10 MB"),
        ("12 MB, size not given", "larger than 10 MB"),
        ("text named .png", "not a picture the bot can read"),
        ("20000x20000", "pixels"),
    ],
)
def test_bad_pictures_get_a_plain_answer_and_cost_no_provider_call(
    stack: Stack, kind: str, expected: str
) -> None:
    t = stack.telegram
    data = {
        "12 MB": b"\x89PNG\r\n\x1a\n" + b"\x00" * (12 * 1024 * 1024),
        "12 MB, size not given": b"\x89PNG\r\n\x1a\n" + b"\x01" * (12 * 1024 * 1024),
        "text named .png": b"just some notes, not a picture\n" * 20,
        "20000x20000": bomb_png(20000, 20000),
    }[kind]
    provider_calls = len(stack.sd.bodies)
    downloads = len(t.fake.downloads)
    command = t.send_picture(
        PICTURES_GROUP,
        BOB,
        data,
        "/imagine make it pop",
        as_document=True,
        file_name="a.png",
        declare_size=kind != "12 MB, size not given",  # then the cap holds while streaming
    )

    def answer() -> str | None:
        for message in t.replies_to(command):
            text = message.get("text", "")
            if "❌" in text or "larger" in text:
                return str(text)
        return None

    text = wait_for(answer, 20, message=lambda: f"the answer\n{stack.log()}")
    assert expected.lower() in text.lower(), text
    assert len(stack.sd.bodies) == provider_calls
    if kind == "12 MB":  # refused from the size Telegram gave: never downloaded
        assert len(t.fake.downloads) == downloads
    if kind == "12 MB, size not given":  # fetched, and stopped at the cap while streaming
        assert len(t.fake.downloads) == downloads + 1


def test_describe_shows_the_pngs_own_parameters_first_then_imagine_this(stack: Stack) -> None:
    t = stack.telegram
    picture = Image.new("RGB", (64, 48), (10, 120, 200))
    chunk = PngImagePlugin.PngInfo()
    chunk.add_text("parameters", "a blue square, flat colour\nSteps: 20, Seed: 7")
    out = io.BytesIO()
    picture.save(out, format="PNG", pnginfo=chunk)
    command = t.send_picture(PICTURES_GROUP, ALICE, out.getvalue(), "/describe", as_document=True)
    row = stack.settled(reply_to_message_id=str(command["message_id"]), kind="describe")
    (answer,) = t.replies_to(command)
    text = answer["text"]
    assert text.index("a blue square, flat colour") < text.index(stack.sd.caption[:30])
    assert keyboard(answer)[:2] == [
        [("✨ Imagine this (1)", f"ib:t:{row['id']}:1")],
        [("✨ Imagine this (2)", f"ib:t:{row['id']}:2")],
    ]
    t.press(BOB, answer, f"ib:t:{row['id']}:2")
    made = stack.settled(parent_id=row["id"])
    assert made["prompt"] == stack.sd.caption


def test_describe_without_a_picture_says_how(stack: Stack) -> None:
    command = stack.telegram.send(PICTURES_GROUP, ALICE, "/describe")
    (answer,) = stack.answers_to(command)
    assert "caption of a photo" in answer["text"]


def test_delete_is_for_the_person_who_asked(stack: Stack) -> None:
    t = stack.telegram
    command = t.send(OTHER_GROUP, ALICE, "/imagine a paper crane")
    row = stack.settled(reply_to_message_id=str(command["message_id"]))
    (picture,) = t.replies_to(command)
    files = [Path(row["image_path"]), *(Path(p) for p in stack.image_paths(row["id"]))]
    assert all(f.is_file() for f in files)
    press = t.press(BOB, picture, f"ib:D:{row['id']}")
    (alert,) = wait_for(
        lambda: [
            c
            for c in stack.alerts()
            if c.params["callback_query_id"] == press["callback_query"]["id"]
        ],
        20,
    )
    assert "Only the person who asked" in alert.params["text"]
    assert (OTHER_GROUP, picture["message_id"]) in t.fake.messages
    t.press(ALICE, picture, f"ib:D:{row['id']}")
    wait_for(
        lambda: (OTHER_GROUP, picture["message_id"]) not in t.fake.messages,
        20,
        message=lambda: f"the deleted message\n{stack.log()}",
    )
    assert [r for r in stack.rows() if r["id"] == row["id"]] == []
    assert not any(f.exists() for f in files)


def test_admins_cap_the_count_with_setlimits(stack: Stack) -> None:
    t = stack.telegram
    refused = t.send(OTHER_GROUP, BOB, "/setlimits count:2")
    assert "admin" in stack.answers_to(refused)[0]["text"].lower()
    capped = t.send(OTHER_GROUP, ADMIN, "/setlimits count:2")
    assert "At most 2 pictures per request" in stack.answers_to(capped)[0]["text"]
    settings = t.send(OTHER_GROUP, ADMIN, "/settings")
    assert "Pictures per request: at most 2" in stack.answers_to(settings)[0]["text"]
    provider_calls = len(stack.sd.bodies)
    asked = t.send(OTHER_GROUP, ALICE, "/imagine three kites count:3")
    (answer,) = stack.answers_to(asked)
    assert "2 is the most" in answer["text"]
    assert len(stack.sd.bodies) == provider_calls
