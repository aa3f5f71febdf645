"""A group's own styles on Telegram, through python-telegram-bot against the fake Bot API
(tests/support/telegram_harness.py): an admin makes one in a short conversation (the recipe,
then a reference picture as a reply, then /done), members use it by name and by code, another
group imports it, non-admins are refused, bad input is answered in plain words."""

from __future__ import annotations

import re
from pathlib import Path

from tests.fakes.openai_images import make_png
from tests.support import rows
from tests.support.telegram_harness import (
    ADMIN,
    ALICE,
    BOB,
    GROUP,
    OTHER_GROUP,
    TelegramHarness,
    eventually,
    telegram_harness,
)


def styles(bot: TelegramHarness, chat: int) -> list[dict[str, object]]:
    return rows(
        bot.app.settings.database_path,
        "SELECT * FROM community_styles WHERE platform = 'telegram' AND scope_id = ?",
        (str(chat),),
    )


async def make_noir(bot: TelegramHarness) -> str:
    """/newstyle through its three steps; returns the code the bot announced."""
    t = bot.telegram
    question = await bot.answer(t.send(GROUP, ADMIN, "/newstyle Neon Noir"))
    assert "Reply to this message with its recipe" in question["text"]
    recipe = t.send(
        GROUP,
        ADMIN,
        "{prompt}, neon noir, wet streets\nnegative: daylight\naspect: 3:2",
        reply_to=question,
    )
    pictures = await bot.answer(recipe)
    assert "up to 4 reference pictures" in pictures["text"]
    kept = t.send_picture(GROUP, ADMIN, make_png(96, 64, "the look"), reply_to=pictures)
    (answer,) = await eventually(lambda: t.replies_to(kept), message="the picture kept")
    assert "Picture 1 of up to 4 kept" in answer["text"]
    done = await bot.answer(t.send(GROUP, ADMIN, "/done"))
    code = re.search(r"style:(#[0-9a-z]{4,})", done["text"])
    assert "Created" in done["text"] and code is not None, done["text"]
    return code.group(1)


async def test_an_admin_makes_a_style_members_use_it_by_name_and_code(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path) as bot:
        t = bot.telegram
        code = await make_noir(bot)
        (row,) = styles(bot, GROUP)
        assert (row["style_id"], row["code"], row["aspect"]) == ("neon-noir", code, "3:2")
        assert row["refs"] != "[]"

        by_name = t.send(GROUP, ALICE, "/imagine a cat style:neon-noir")
        made = await bot.settled_row(by_name)
        assert made["status"] == "delivered" and made["style"] == "neon-noir"
        assert made["aspect"] == "3:2"
        assert bot.openai.made_for("a cat, neon noir, wet streets")

        by_code = t.send(OTHER_GROUP, ALICE, f"/imagine a dog style:{code}")
        there = await bot.settled_row(by_code)
        assert there["status"] == "delivered" and there["style"] == code
        assert bot.openai.made_for("a dog, neon noir, wet streets")

        # The preview: four sample prompts in the style, one grid, shown by /styles.
        await eventually(lambda: styles(bot, GROUP)[0]["preview_path"], 60, "the preview")
        samples = [p for p in bot.openai.image_prompts if p.endswith("neon noir, wet streets")]
        assert len(samples) == 6  # four samples, the cat and the dog
        asked = t.send(GROUP, ALICE, "/styles")
        listing = await bot.answer(asked)
        assert "Neon Noir" in listing["text"] and code in listing["text"]
        photos = await eventually(
            lambda: [m for m in t.replies_to(asked) if m.get("photo")], 20, "the preview photo"
        )
        assert photos[0]["caption"] == "🎨 Neon Noir"


async def test_another_group_imports_an_export(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path) as bot:
        t = bot.telegram
        await make_noir(bot)
        exported = await bot.answer(t.send(GROUP, ADMIN, "/exportstyle neon noir"))
        assert "imaginebot_style: 1" in exported["text"]
        yaml_text = exported["text"].split("\n", 1)[1]
        # In the other group the admin is a plain member: refused. Then made an admin.
        refused = t.send(OTHER_GROUP, ADMIN, f"/importstyle {yaml_text}")
        assert "Only this chat's admins" in (await bot.answer(refused))["text"]
        t.fake.members[(OTHER_GROUP, ADMIN)] = "administrator"
        imported = t.send(OTHER_GROUP, ADMIN, f"/importstyle {yaml_text}")
        assert "Imported" in (await bot.answer(imported))["text"]
        (theirs,) = styles(bot, OTHER_GROUP)
        assert theirs["style_id"] == "neon-noir" and theirs["refs"] == "[]"
        used = t.send(OTHER_GROUP, ALICE, "/imagine a boat style:neon-noir")
        assert (await bot.settled_row(used))["style"] == "neon-noir"


async def test_members_are_refused_and_bad_input_answered(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path) as bot:
        t = bot.telegram
        refused = t.send(GROUP, BOB, "/newstyle Mine")
        assert "Only this chat's admins" in (await bot.answer(refused))["text"]
        question = await bot.answer(t.send(GROUP, ADMIN, "/newstyle Slotless"))
        # Another person's reply is not part of the admin's conversation.
        t.send(GROUP, BOB, "{prompt}, sneaky", reply_to=question)
        bad = t.send(GROUP, ADMIN, "no placeholder here\ncolour: red", reply_to=question)
        assert "not a style field" in (await bot.answer(bad))["text"]
        again = t.send(GROUP, ADMIN, "no placeholder here", reply_to=question)
        await bot.answer(again)
        done = await bot.answer(t.send(GROUP, ADMIN, "/done"))
        assert "{prompt}" in done["text"]
        assert styles(bot, GROUP) == []
        gone = await bot.answer(t.send(GROUP, ADMIN, "/delstyle nothing"))
        assert "no style of its own" in gone["text"]
