"""The Edit menu on Telegram (docs/editing.md), in-process through python-telegram-bot against
the fake Bot API and the fake OpenAI images API (tests/support/telegram_harness.py): the menu
in place of the picture's buttons, Zoom out / Pan / Make square and Edit by words, asserting
on what reached the fakes (the keyboard, the padded picture and its mask as `images.edit`
takes them, the prompt message) and on the rows."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image

from tests.support.telegram_harness import (
    ADMIN,
    ALICE,
    BOB,
    GROUP,
    TelegramHarness,
    eventually,
    telegram_harness,
)


def opened(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as picture:
        picture.load()
        return picture.copy()


def buttons(message: dict[str, Any]) -> list[str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row]


def current(bot: TelegramHarness, message: dict[str, Any]) -> dict[str, Any]:
    return dict(bot.telegram.fake.messages[(message["chat"]["id"], message["message_id"])])


async def press_answer(bot: TelegramHarness, user: int, message: dict[str, Any], data: str) -> str:
    """Press `data` on `message` as `user`; the text the press was answered with."""
    t = bot.telegram
    query = t.press(user, message, data)["callback_query"]["id"]
    (answer,) = await eventually(
        lambda: [
            c
            for c in t.fake.calls_to("answerCallbackQuery")
            if c.params["callback_query_id"] == query
        ],
        message=lambda: f"the answer to {data}",
    )
    return str(answer.params.get("text") or "")


async def child(bot: TelegramHarness, parent: str, kind: str) -> dict[str, Any]:
    def settled() -> dict[str, Any] | None:
        found = [r for r in bot.rows() if r["parent_id"] == parent and r["kind"] == kind]
        return found[0] if found and found[0]["status"] in ("delivered", "failed") else None

    return await eventually(settled, 30, message=lambda: f"the {kind} of {parent}")


async def picture(bot: TelegramHarness, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Alice's /imagine in the group: its row and the picture message as it is now."""
    command = bot.telegram.send(GROUP, ALICE, text)
    row = await bot.settled_row(command)
    assert row["status"] == "delivered"
    (shown,) = bot.telegram.replies_to(command)
    return row, shown


async def test_zoom_pan_and_square_from_the_edit_menu(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path) as bot:
        t = bot.telegram
        row, shown = await picture(bot, "/imagine a harbour at dusk --ar 3:2")
        gid = row["id"]
        assert f"ib:e:{gid}" in buttons(shown)

        # Someone else may not open it: the keyboard stays as it was.
        assert "Only the person who asked" in await press_answer(bot, BOB, shown, f"ib:e:{gid}")
        assert buttons(current(bot, shown)) == buttons(shown)

        await press_answer(bot, ALICE, shown, f"ib:e:{gid}")
        menu = buttons(current(bot, shown))
        assert menu == [
            f"ib:z:{gid}:1:1.5",
            f"ib:z:{gid}:1:2",
            f"ib:p:{gid}:1:left",
            f"ib:p:{gid}:1:right",
            f"ib:p:{gid}:1:up",
            f"ib:p:{gid}:1:down",
            f"ib:Q:{gid}:1",
            f"ib:w:{gid}:1",
            f"ib:b:{gid}",
        ]
        # Pressed twice: Telegram says "not modified", the bot answers quietly.
        assert await press_answer(bot, ALICE, shown, f"ib:e:{gid}") == "Edit image 1"
        assert t.fake.calls_to("editMessageReplyMarkup", ok=False)

        masks = len(bot.openai.edit_masks)
        await press_answer(bot, ALICE, current(bot, shown), f"ib:z:{gid}:1:2")
        zoom = await child(bot, gid, "zoom")
        assert zoom["status"] == "delivered" and zoom["parent_index"] == 1
        assert zoom["reply_to_message_id"] == str(shown["message_id"])  # a reply to the picture
        assert zoom["edit_note"].startswith("zoomed out 2x")
        sent, mask = opened(bot.openai.edit_images[-1]), opened(bot.openai.edit_masks[masks])
        assert mask.size == sent.size and mask.mode == "RGBA"
        alpha = mask.getchannel("A")
        width, height = mask.size
        assert alpha.getpixel((2, 2)) == 0  # the new border: transparent, to be filled
        assert alpha.getpixel((width // 2, height // 2)) == 255  # the picture: kept
        assert bot.openai.edits[-1]["model"] == "gpt-image-1"

        await press_answer(bot, ALICE, current(bot, shown), f"ib:Q:{gid}:1")
        square = await child(bot, gid, "square")
        assert square["aspect"] == "1:1" and square["status"] == "delivered"
        sent = opened(bot.openai.edit_images[-1])
        assert sent.width == sent.height

        # Info on the zoomed picture says what was done.
        (zoomed,) = [
            m for m in t.replies_to(shown) if m.get("photo") and f"ib:i:{zoom['id']}" in buttons(m)
        ]
        assert "zoomed out 2x" in await press_answer(bot, ALICE, zoomed, f"ib:i:{zoom['id']}")

        # Back: the result's own buttons again.
        await press_answer(bot, ALICE, current(bot, shown), f"ib:b:{gid}")
        assert buttons(current(bot, shown)) == buttons(shown)

        # Alice's own edit, forged onto Bob's picture, does nothing there.
        bobs = t.send(GROUP, BOB, "/imagine a tin boat")
        await bot.settled_row(bobs)
        (bobs_picture,) = t.replies_to(bobs)
        forged = await press_answer(bot, ALICE, bobs_picture, f"ib:z:{gid}:1:1.5")
        assert "does not belong to this message" in forged
        assert [r["id"] for r in bot.rows() if r["kind"] == "zoom"] == [zoom["id"]]
        # And Bob may not press Alice's edits on her picture.
        await press_answer(bot, ALICE, current(bot, shown), f"ib:e:{gid}")
        refused = await press_answer(bot, BOB, current(bot, shown), f"ib:p:{gid}:1:left")
        assert "Only the person who asked" in refused
        assert [r for r in bot.rows() if r["kind"] == "pan"] == []


async def test_edit_by_words_asks_once_and_only_the_presser_answers(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path) as bot:
        t = bot.telegram
        row, shown = await picture(bot, "/imagine a red barn")
        gid = row["id"]
        await press_answer(bot, ALICE, shown, f"ib:e:{gid}")
        await press_answer(bot, ALICE, current(bot, shown), f"ib:w:{gid}:1")
        prompt = await eventually(
            lambda: next(
                (m for m in t.replies_to(shown) if "Edit image 1" in m.get("text", "")), None
            ),
            message="the Edit by words prompt",
        )
        (asked,) = [
            c
            for c in t.fake.calls_to("sendMessage")
            if c.params.get("reply_parameters", {}).get("message_id") == shown["message_id"]
        ]
        assert asked.params["reply_markup"]["force_reply"] is True

        wrong = t.send(GROUP, BOB, "paint it blue", reply_to=prompt)
        assert "Only the person who pressed Edit by words" in (await bot.answer(wrong))["text"]
        masks = len(bot.openai.edit_masks)
        answer = t.send(GROUP, ALICE, "make it night", reply_to=prompt)
        edited = await child(bot, gid, "edit")
        assert edited["status"] == "delivered" and edited["prompt"] == "make it night"
        assert edited["edit_note"] == "edited: make it night (image 1)"
        assert edited["reply_to_message_id"] == str(answer["message_id"])
        # The instruction alone, no mask, no style around it.
        assert bot.openai.edits[-1]["prompt"] == "make it night"
        assert len(bot.openai.edit_masks) == masks

        again = t.send(GROUP, ALICE, "make it snow", reply_to=prompt)
        assert "already answered" in (await bot.answer(again))["text"]
        assert [r for r in bot.rows() if r["prompt"] in ("make it snow", "paint it blue")] == []


async def test_an_admin_may_edit_and_a_refused_edit_is_told_in_plain_words(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path) as bot:
        row, shown = await picture(bot, "/imagine a quiet street")
        gid = row["id"]
        # The group's admin may edit Alice's picture too.
        assert await press_answer(bot, ADMIN, shown, f"ib:e:{gid}") == "Edit image 1"
        bot.openai.script.append("refuse")  # the edit's call is refused by the safety system
        await press_answer(bot, ADMIN, current(bot, shown), f"ib:p:{gid}:1:left")
        panned = await child(bot, gid, "pan")
        assert panned["status"] == "failed", panned
        assert panned["user_id"] == str(ADMIN)
        assert "content policy" in panned["failure_reason"]
        (status,) = await eventually(
            lambda: [
                m
                for m in bot.telegram.replies_to(shown)
                if "content policy" in (m.get("text") or m.get("caption") or "")
            ],
            message="the refusal in the chat",
        )
        assert not status.get("photo")


async def test_no_edit_is_offered_or_made_when_no_provider_can(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path, openai_image_model="dall-e-3") as bot:
        row, shown = await picture(bot, "/imagine a windmill")
        gid = row["id"]
        assert not [b for b in buttons(shown) if b.startswith("ib:e:")]
        # A forged zoom is refused in plain words before anything is queued.
        answer = await press_answer(bot, ALICE, shown, f"ib:z:{gid}:1:2")
        assert "can" in answer and "nothing was queued" in answer.lower(), answer
        assert "can edit" in await press_answer(bot, ALICE, shown, f"ib:e:{gid}")
        assert [r for r in bot.rows() if r["parent_id"] == gid] == []
        assert bot.openai.edits == []


async def test_a_grid_picks_its_image_and_edits_count_against_the_limits(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path, daily_limit_per_user=4) as bot:
        row, shown = await picture(bot, "/imagine two lanterns count:2")
        gid = row["id"]
        await press_answer(bot, ALICE, shown, f"ib:e:{gid}")
        menu = buttons(current(bot, shown))
        assert f"ib:E:{gid}:1" in menu and f"ib:E:{gid}:2" in menu
        assert await press_answer(bot, ALICE, current(bot, shown), f"ib:E:{gid}:2") == (
            "Edit image 2"
        )
        menu = buttons(current(bot, shown))
        assert f"ib:z:{gid}:2:1.5" in menu and f"ib:z:{gid}:1:1.5" not in menu

        sent_before = len(bot.openai.edit_images)
        await press_answer(bot, ALICE, current(bot, shown), f"ib:z:{gid}:2:1.5")
        zoom = await child(bot, gid, "zoom")
        assert (zoom["status"], zoom["parent_index"], zoom["count"]) == ("delivered", 2, 2)
        assert len(bot.openai.edit_images) == sent_before + 1  # image 2, padded, once

        # Two pictures, two more: the day's four are spent, so the next edit is refused.
        refused = await press_answer(bot, ALICE, current(bot, shown), f"ib:p:{gid}:2:up")
        assert "limit" in refused.lower(), refused
        assert [r for r in bot.rows() if r["kind"] == "pan"] == []
