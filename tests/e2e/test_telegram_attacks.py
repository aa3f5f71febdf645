"""Attacks through Telegram (issue 26), and honest deletes (issue 25.6): the real bot process
and python-telegram-bot against the fake Bot API and the fake AUTOMATIC1111 API.

- A modified client can put any `callback_data` on any bot message. Alice presses the data
  of her own picture's buttons on Bob's picture: every kind must be refused, and Bob's
  message, the rows and the files must stay as they were.
- Pictures carrying metadata where a segment-by-segment clean-up misses it: nothing of it
  reaches the provider or any file under DATA_DIR.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, PngImagePlugin

from tests.fakes import secret_pictures
from tests.fakes.telegram_api import photo_bytes
from tests.support import wait_for
from tests.support.telegram_follow_up_stack import ADMIN, ALICE, BOB, Stack, running_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("telegram-attacks")
    (root / "banned.txt").write_text("dragon\n", encoding="utf-8")
    with running_stack(root, BANNED_TERMS_FILE=str(root / "banned.txt")) as built:
        yield built


NOT_THIS = "does not belong to this message"


_groups = itertools.count(-100500000, -1)


@pytest.fixture
def chat(stack: Stack) -> int:
    """A group of its own for each test: Telegram's flood budget (20 messages a minute per
    group) is per chat, and these tests send many."""
    group = next(_groups)
    stack.telegram.add_group(group, {ALICE: "member", BOB: "member", ADMIN: "administrator"})
    return group


def answer_to(stack: Stack, press: dict[str, Any]) -> str:
    query_id = press["callback_query"]["id"]
    (call,) = wait_for(
        lambda: [c for c in stack.alerts() if c.params["callback_query_id"] == query_id],
        20,
        message=lambda: f"the answer to the press\n{stack.log()}",
    )
    return str(call.params.get("text", ""))


def picture(
    stack: Stack, chat: int, user_id: int, prompt: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    command = stack.telegram.send(chat, user_id, f"/imagine {prompt}")
    row = stack.settled(reply_to_message_id=str(command["message_id"]))
    (message,) = [m for m in stack.telegram.replies_to(command) if "photo" in m]
    return row, message


def described(stack: Stack, chat: int, user_id: int) -> dict[str, Any]:
    out = io.BytesIO()
    chunk = PngImagePlugin.PngInfo()
    chunk.add_text("parameters", "a quiet harbour at dawn")
    Image.new("RGB", (48, 48), (30, 60, 90)).save(out, format="PNG", pnginfo=chunk)
    command = stack.telegram.send_picture(
        chat, user_id, out.getvalue(), "/describe", as_document=True
    )
    return stack.settled(reply_to_message_id=str(command["message_id"]), kind="describe")


def test_every_button_kind_forged_onto_another_members_picture_is_refused(
    stack: Stack, chat: int
) -> None:
    t = stack.telegram
    alices, _ = picture(stack, chat, ALICE, "four lanterns count:4")
    description = described(stack, chat, ALICE)
    bobs, bobs_message = picture(stack, chat, BOB, "a small boat")
    key = (chat, bobs_message["message_id"])
    before_message = dict(t.fake.messages[key])
    before_rows = {r["id"] for r in stack.rows()}
    files = [Path(p) for r in (alices, bobs) for p in stack.image_paths(r["id"])]
    gid, did = alices["id"], description["id"]
    forged = [
        f"ib:D:{gid}",
        f"ib:r:{gid}",
        f"ib:s:{gid}",
        f"ib:S:{gid}:anime",
        f"ib:f:{gid}",
        f"ib:u:{gid}:1",
        f"ib:v:{gid}:2",
        f"ib:m:{gid}",
        f"ib:i:{gid}",
        f"ib:t:{did}:1",
        f"ib:F:{ALICE}",
        f"ib:X:{ALICE}",
    ]
    for data in forged:
        assert NOT_THIS in answer_to(stack, t.press(ALICE, bobs_message, data)), data
    assert t.fake.messages[key] == before_message  # neither deleted nor edited
    assert t.replies_to(bobs_message) == []  # no reply, no file, no menu, no Remix prompt
    assert {r["id"] for r in stack.rows()} == before_rows  # nothing made, nothing deleted
    assert all(f.is_file() for f in files)


def test_a_picture_sent_as_a_new_message_is_the_one_its_buttons_act_on(
    stack: Stack, chat: int
) -> None:
    """No status reply to edit (the Bot API refuses media into text): the photo is a new
    message, recorded in the row, and its own Delete works while a forged one does not."""
    t = stack.telegram
    t.fake.media_into_text = False
    try:
        row, message = picture(stack, chat, ALICE, "a new message")
        other, _ = picture(stack, chat, ALICE, "another new message")
    finally:
        t.fake.media_into_text = True
    photo = message
    assert "picture_message_id" in str(row["handle"])  # the row recorded the new message
    assert NOT_THIS in answer_to(stack, t.press(ALICE, photo, f"ib:D:{other['id']}"))
    assert answer_to(stack, t.press(ALICE, photo, f"ib:D:{row['id']}")) == "Deleted."
    assert (chat, photo["message_id"]) not in t.fake.messages
    assert row["id"] not in {r["id"] for r in stack.rows()}
    assert other["id"] in {r["id"] for r in stack.rows()}


def test_delete_after_48_hours_replaces_the_picture_and_says_so(stack: Stack, chat: int) -> None:
    t = stack.telegram
    row, message = picture(stack, chat, ALICE, "an old postcard")
    files = [Path(row["image_path"]), *(Path(p) for p in stack.image_paths(row["id"]))]
    t.age(message, 49 * 3600)
    press = t.press(ALICE, message, f"ib:D:{row['id']}")
    assert "48 hours" in answer_to(stack, press)
    refused = [c for c in t.fake.calls_to("deleteMessage", ok=False)]
    assert refused and "can't be deleted for everyone" in str(refused[-1].error)
    shown = t.fake.messages[(chat, message["message_id"])]
    assert shown["caption"] == "🗑 Removed by its author."
    assert "reply_markup" not in shown  # no buttons on the placeholder
    (edit,) = [
        c
        for c in t.fake.calls_to("editMessageMedia")
        if int(c.params["message_id"]) == message["message_id"]
        and "Removed" in str(c.params["media"].get("caption"))
    ]
    with Image.open(io.BytesIO(photo_bytes(edit))) as placeholder:
        assert placeholder.size == (96, 96)
    assert row["id"] not in {r["id"] for r in stack.rows()}
    assert not any(f.exists() for f in files)


def test_a_delete_telegram_refuses_keeps_the_row_and_says_so(stack: Stack, chat: int) -> None:
    t = stack.telegram
    row, message = picture(stack, chat, ALICE, "a stubborn picture")
    t.fake.failures["deleteMessage"] = [(500, None)]
    press = t.press(ALICE, message, f"ib:D:{row['id']}")
    assert "nothing was deleted" in answer_to(stack, press)
    assert (chat, message["message_id"]) in t.fake.messages
    assert row["id"] in {r["id"] for r in stack.rows()}
    assert Path(row["image_path"]).is_file()


@pytest.mark.parametrize("kind", sorted(secret_pictures.ALL))
def test_metadata_hidden_around_the_pixels_reaches_neither_provider_nor_disk(
    stack: Stack, chat: int, kind: str
) -> None:
    t = stack.telegram
    data = secret_pictures.ALL[kind]()
    assert secret_pictures.SECRET in data
    before = len(stack.sd.init_images)
    command = t.send_picture(
        chat, ALICE, data, "/imagine the same, in ink", as_document=True, file_name="x"
    )
    row = stack.settled(reply_to_message_id=str(command["message_id"]))
    received = stack.sd.init_images[before:]  # more than one if a slow call was retried
    assert received
    for sent in received:
        assert secret_pictures.SECRET not in sent
        assert b"Exif" not in sent and b"PK\x03\x04" not in sent
    stored = [p for p in (stack.root / "data").rglob("*") if p.is_file()]
    assert any(p.name.startswith(f"{row['id']}-input") for p in stored), stored
    for path in stored:
        assert secret_pictures.SECRET not in path.read_bytes(), path


def describe_png(parameters: str) -> bytes:
    out = io.BytesIO()
    chunk = PngImagePlugin.PngInfo()
    chunk.add_text("parameters", parameters)
    Image.new("RGB", (40, 40), (90, 30, 60)).save(out, format="PNG", pnginfo=chunk)
    return out.getvalue()


def test_describe_suggestions_pass_the_banned_terms_and_ping_nobody(
    stack: Stack, chat: int
) -> None:
    """Issue 26.5: a PNG's own `parameters` chunk became suggestion 1, posted unchecked."""
    t = stack.telegram
    spam = "a DRAGON, join t.me/spam or visit https://phish.example/login @alice_the_great"
    command = t.send_picture(chat, BOB, describe_png(spam), "/describe", as_document=True)
    row = stack.settled(reply_to_message_id=str(command["message_id"]), kind="describe")
    (answer,) = t.replies_to(command)
    assert "DRAGON" not in answer["text"] and "phish" not in answer["text"]
    assert "Imagine this (2)" not in str(answer.get("reply_markup"))  # only the caption's
    assert all("DRAGON" not in s for s in json.loads(row["suggestions"] or "[]"))

    friendly = "a red kite, drawn for @alice_the_great"
    command = t.send_picture(chat, BOB, describe_png(friendly), "/describe", as_document=True)
    stack.settled(reply_to_message_id=str(command["message_id"]), kind="describe")
    (answer,) = t.replies_to(command)
    assert "alice_the_great" in answer["text"]
    assert not [e for e in answer.get("entities", []) if e["type"] == "mention"]


def test_one_remix_prompt_answered_twice_at_once_runs_once(stack: Stack, chat: int) -> None:
    """Issue 26.6: two quick replies both read the prompt's handle before either cleared it."""
    t = stack.telegram
    row, message = picture(stack, chat, ALICE, "a lighthouse")
    t.press(ALICE, message, f"ib:m:{row['id']}")
    (prompt,) = wait_for(
        lambda: [m for m in t.replies_to(message) if "Remix" in m.get("text", "")],
        20,
        message=lambda: f"the Remix prompt\n{stack.log()}",
    )
    first = t.send(chat, ALICE, "a lighthouse at night", reply_to=prompt)
    second = t.send(chat, ALICE, "a lighthouse in fog", reply_to=prompt)
    used = wait_for(
        lambda: [
            m
            for answer in (first, second)
            for m in t.replies_to(answer)
            if "already answered" in m.get("text", "")
        ],
        20,
        message=lambda: f"the second answer refused\n{stack.log()}",
    )
    assert len(used) == 1
    remixed = stack.settled(parent_id=row["id"], kind="remix")
    assert remixed["prompt"] in ("a lighthouse at night", "a lighthouse in fog")
    assert len([r for r in stack.rows() if r["parent_id"] == row["id"]]) == 1


def test_forget_me_takes_what_others_made_from_the_picture_and_prompt(
    stack: Stack, chat: int
) -> None:
    """Issue 26.3: Bob's Reroll copied Alice's cleaned upload (`<bob-id>-input.png`) and her
    prompt into his row; after her /forget_me both were left, and shown in the gallery."""
    t = stack.telegram
    data = secret_pictures.png_with_every_text_chunk()
    command = t.send_picture(
        chat, ALICE, data, "/imagine my secret garden, in ink", as_document=True
    )
    mine = stack.settled(reply_to_message_id=str(command["message_id"]))
    (message,) = [m for m in t.replies_to(command) if "photo" in m]
    t.press(BOB, message, f"ib:r:{mine['id']}")
    bobs = stack.settled(parent_id=mine["id"])
    assert bobs["user_id"] == str(BOB) and Path(bobs["input_path"]).is_file()
    images = stack.root / "data" / "images"
    made_from_hers = {mine["id"], bobs["id"]}
    assert {p.name.split("-")[0].split(".")[0] for p in images.iterdir()} >= made_from_hers

    ask = t.send(ALICE, ALICE, "/forget_me")
    (confirm,) = wait_for(lambda: t.replies_to(ask), 15, message="the confirmation")
    t.press(ALICE, confirm, f"ib:F:{ALICE}")
    wait_for(
        lambda: not [r for r in stack.rows() if r["id"] in made_from_hers],
        20,
        message=lambda: f"the rows to go\n{stack.log()}",
    )
    assert not [r for r in stack.rows() if "secret garden" in r["prompt"]]
    left = [p.name for p in images.iterdir() if p.name.startswith(tuple(made_from_hers))]
    assert left == []


def test_every_press_is_answered_even_with_data_the_bot_never_made(stack: Stack, chat: int) -> None:
    """All presses go through the one registry of button classes: data it does not know (not
    `ib:`, an unknown tag, a superscript tile, a field too long) gets "no longer valid" and
    changes nothing, where data without `ib:` used to be left unanswered."""
    t = stack.telegram
    row, message = picture(stack, chat, ALICE, "a press with odd data")
    rows_before = len(stack.rows())
    for data in (
        "hello",
        "ib:zz:1",
        f"ib:u:{row['id']}:\u00b2",
        f"ib:v:{row['id']}:5",
        f"ib:r:{row['id']}:1",
        "ib:S:" + "a" * 33 + ":anime",
    ):
        assert answer_to(stack, t.press(ALICE, message, data)) == (
            "This button is no longer valid."
        ), data
    assert len(stack.rows()) == rows_before
    assert "Traceback" not in stack.log()
