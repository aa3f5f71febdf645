"""Telegram inline mode through python-telegram-bot against the fake Bot API (in-process
harness): `@bot <prompt>` in a group the bot is not a member of, the placeholder edited into
the picture by a file_id, buttons and Share on the inline message, limits and history of the
user, and refusals as results."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.telegram_api import TelegramDriver, photo_bytes
from tests.support.telegram_harness import (
    ALICE,
    BOB,
    TelegramHarness,
    eventually,
    telegram_harness,
)
from tests.support.web import png

INLINE = {"inline_enabled": True}  # inline mode on in BotFather (feedback is on by default)
NOT_A_MEMBER = -100777666  # a group the bot was never added to: it is not even a known chat


async def answered(bot: TelegramHarness, query_id: str) -> list[dict[str, Any]]:
    fake = bot.telegram.fake
    await eventually(lambda: fake.inline.queries[query_id].answered_at, message="the answer")
    return fake.inline.queries[query_id].answers


def edits_of(bot: TelegramHarness, inline_id: str) -> list[str]:
    return bot.telegram.fake.inline.messages[inline_id].edits


async def made_inline(bot: TelegramHarness, user: int, text: str) -> tuple[str, dict[str, Any]]:
    """The user types `@bot <text>`, picks "Make this picture"; the inline message's id and the
    row, once delivered."""
    query = bot.telegram.inline_query(user, text, chat_type="group")
    results = await answered(bot, query)
    assert [r["id"] for r in results] == ["make"]
    message = bot.telegram.choose(user, query, "make")

    def row() -> dict[str, Any] | None:
        found = [r for r in bot.rows() if f'"{message.id}"' in r["handle"]]
        done = [r for r in found if r["status"] in ("delivered", "failed")]
        return done[-1] if done else None

    return message.id, await eventually(row, 30, message="the inline request's row")


async def test_inline_imagine_in_a_group_without_the_bot_becomes_the_picture(
    tmp_path: Path,
) -> None:
    async with telegram_harness(tmp_path, fake=INLINE) as bot:
        t, fake = bot.telegram, bot.telegram.fake
        query = t.inline_query(ALICE, "a lighthouse at dusk style:anime", chat_type="group")
        (make,) = await answered(bot, query)
        assert make["title"] == "🎨 Make this picture"
        assert "Anime" in make["description"]
        assert fake.inline.queries[query].is_personal and fake.inline.queries[query].cache_time == 0
        message = t.choose(ALICE, query, "make")
        assert "Making “\u2068a lighthouse at dusk\u2069”" in message.body["text"]

        await eventually(lambda: "editMessageMedia" in edits_of(bot, message.id))
        row = await eventually(lambda: [r for r in bot.rows() if r["status"] == "delivered"])
        assert row[0]["scope_id"] == f"user:{ALICE}" and row[0]["style"] == "anime"
        # The picture went once to Alice's private chat (her copy, and its file_id) and the
        # inline message shows that very file; nothing was sent to the group.
        (stored,) = fake.calls_to("sendPhoto")
        assert int(stored.params["chat_id"]) == ALICE
        assert photo_bytes(stored) == bot.openai.images[0]
        edited = fake.inline.messages[message.id]
        assert edited.body["photo"] in fake.files
        assert fake.files[edited.body["photo"]] == bot.openai.images[0]
        assert not [c for c in fake.calls if str(c.params.get("chat_id")) == str(NOT_A_MEMBER)]
        labels = [b["text"] for row in edited.reply_markup["inline_keyboard"] for b in row]
        assert "🔁 Reroll" in labels and "📤 Share" in labels


async def test_refusals_are_results_and_an_empty_query_offers_recent_pictures(
    tmp_path: Path,
) -> None:
    async with telegram_harness(tmp_path, fake=INLINE) as bot:
        t = bot.telegram
        (hint,) = await answered(bot, t.inline_query(ALICE, ""))
        assert hint["type"] == "article" and hint["id"] == "hint"
        (typo,) = await answered(bot, t.inline_query(ALICE, "a cat style:anmie"))
        assert typo["id"] == "refused" and "Did you mean anime" in typo["description"]
        (flag,) = await answered(bot, t.inline_query(ALICE, "a cat --bogus 3"))
        assert "Unknown option \u2068--bogus\u2069" in flag["description"]
        assert bot.openai.images == [] and bot.rows() == []

        _inline_id, row = await made_inline(bot, ALICE, "a red fox in snow")
        assert row["status"] == "delivered"
        recent = await answered(bot, t.inline_query(ALICE, ""))
        assert [r["type"] for r in recent] == ["photo"]
        assert recent[0]["id"] == f"pic:{row['id']}"
        # Bob has no pictures: his empty query gets the hint, never Alice's photos.
        (bobs,) = await answered(bot, t.inline_query(BOB, ""))
        assert bobs["id"] == "hint"


async def test_share_answers_only_the_owner_with_the_cached_picture(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path, fake=INLINE) as bot:
        t = bot.telegram
        inline_id, row = await made_inline(bot, ALICE, "a teapot")
        markup = t.fake.inline.messages[inline_id].reply_markup
        (share,) = [b for r in markup["inline_keyboard"] for b in r if b["text"] == "📤 Share"]
        chosen_chat = share["switch_inline_query_chosen_chat"]
        assert chosen_chat["query"] == f"share:{row['id']}" and chosen_chat["allow_group_chats"]

        (mine,) = await answered(bot, t.inline_query(ALICE, chosen_chat["query"]))
        assert mine["type"] == "photo" and mine["photo_file_id"] in t.fake.files
        (theirs,) = await answered(bot, t.inline_query(BOB, chosen_chat["query"]))
        assert theirs["id"] == "refused"
        # Sharing makes nothing and costs nothing: still one row, one provider call.
        assert len(bot.rows()) == 1 and len(bot.openai.images) == 1


async def test_buttons_on_an_inline_message_work_for_their_owner_only(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path, fake=INLINE) as bot:
        t = bot.telegram
        inline_id, row = await made_inline(bot, ALICE, "a castle")
        reroll = f"ib:r:{row['id']}"
        t.inline_press(BOB, inline_id, reroll)
        await eventually(
            lambda: [c for c in t.fake.calls_to("answerCallbackQuery") if c.params.get("text")]
        )
        (refused,) = t.fake.calls_to("answerCallbackQuery")
        assert "Only the person who made this picture" in refused.params["text"]
        assert len(bot.rows()) == 1

        t.inline_press(ALICE, inline_id, reroll)
        second = await eventually(
            lambda: (
                [r for r in bot.rows() if r["parent_id"] == row["id"]]
                and [
                    r
                    for r in bot.rows()
                    if r["parent_id"] == row["id"] and r["status"] == "delivered"
                ]
            )
        )
        assert second[0]["scope_id"] == f"user:{ALICE}"
        assert edits_of(bot, inline_id).count("editMessageMedia") == 2
        shown = t.fake.inline.messages[inline_id].body["photo"]
        assert t.fake.files[shown] == bot.openai.images[1]


async def test_a_user_who_never_started_the_bot_is_told_in_the_placeholder(
    tmp_path: Path,
) -> None:
    async with telegram_harness(tmp_path, fake=INLINE) as bot:
        t = bot.telegram
        t.add_user(44, "dora")
        t.server.run_sync(t.fake.set_bot_status, 44, "kicked", 44)  # as if blocked / not started
        inline_id, row = await made_inline(bot, 44, "a boat")
        assert row["status"] == "failed" and "press Start" in row["failure_reason"]
        await eventually(lambda: "editMessageText" in edits_of(bot, inline_id))
        assert "press Start" in t.fake.inline.messages[inline_id].body["text"]
        assert row["image_path"]  # the picture was made and is kept


async def test_without_inline_mode_the_bot_says_so_at_start_and_offers_no_share(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "bot.adapters.telegram.adapter")
    async with telegram_harness(tmp_path) as bot:
        assert any("inline mode is off" in r.getMessage() for r in caplog.records)
        command = bot.telegram.send(ALICE, ALICE, "/imagine a harbour")
        await bot.settled_row(command)
        (photo,) = await eventually(
            lambda: bot.telegram.server.run_sync(bot.telegram.fake.photos_in, ALICE)
        )
        keyboard = photo.params["reply_markup"]["inline_keyboard"]
        assert all("Share" not in b["text"] for r in keyboard for b in r)


async def test_the_fake_checks_answers_and_inline_edits_as_the_bot_api_does(
    tmp_path: Path,
) -> None:
    """What the bot's inline answers must respect, through python-telegram-bot itself: at most
    50 results, ids of 1-64 bytes and unique, an answer within 10 s, and no upload into an
    inline message (only a file_id the server knows)."""
    from telegram import (
        Bot,
        InlineQueryResultArticle,
        InputMediaPhoto,
        InputTextMessageContent,
    )
    from telegram.error import BadRequest

    driver = TelegramDriver(inline_enabled=True).start()
    try:
        driver.add_user(ALICE, "alice")
        bot = Bot(driver.fake.token, base_url=f"{driver.server.url}/bot")
        async with bot:
            assert (await bot.get_me()).supports_inline_queries

            def article(result_id: str) -> InlineQueryResultArticle:
                return InlineQueryResultArticle(
                    result_id, "t", InputTextMessageContent("x"), reply_markup=None
                )

            refused = {
                "RESULTS_TOO_MUCH": [article(str(i)) for i in range(51)],
                "RESULT_ID_INVALID": [article("x" * 65)],
                "RESULT_ID_DUPLICATE": [article("a"), article("a")],
            }
            for error, results in refused.items():
                query = driver.inline_query(ALICE, "a cat")
                with pytest.raises(BadRequest, match=f"(?i){error}"):
                    await bot.answer_inline_query(query, results)
            late = driver.inline_query(ALICE, "a cat")
            driver.fake.inline.queries[late].asked_at -= 11
            with pytest.raises(BadRequest, match=r"(?i)query is too old"):
                await bot.answer_inline_query(late, [article("make")])

            query = driver.inline_query(ALICE, "a cat")
            assert await bot.answer_inline_query(query, [article("x" * 64)])
            message = driver.choose(ALICE, query, "x" * 64)
            with pytest.raises(BadRequest, match=r"(?i)can.t use file uploads"):
                await bot.edit_message_media(InputMediaPhoto(png()), inline_message_id=message.id)
    finally:
        driver.stop()


async def test_with_inline_feedback_off_choosing_makes_nothing(tmp_path: Path) -> None:
    async with telegram_harness(
        tmp_path, fake={"inline_enabled": True, "feedback_enabled": False}
    ) as bot:
        t = bot.telegram
        query = t.inline_query(ALICE, "a windmill")
        await answered(bot, query)
        message = t.choose(ALICE, query, "make")
        ping = t.inline_query(ALICE, "")  # a later update, so the bot has read past the choice
        await answered(bot, ping)
        assert "Making" in t.fake.inline.messages[message.id].body["text"]
        assert bot.rows() == [] and bot.openai.images == []


async def test_the_users_own_limits_hold_inline_too(tmp_path: Path) -> None:
    """A daily limit of one picture: Alice's picture in her chat with the bot counts, so her
    inline query in a group the bot is not in is refused, as a result, and makes nothing."""
    async with telegram_harness(tmp_path, daily_limit_per_user=1, fake=INLINE) as bot:
        t = bot.telegram
        command = t.send(ALICE, ALICE, "/imagine a harbour")
        assert (await bot.settled_row(command))["status"] == "delivered"
        (refused,) = await answered(bot, t.inline_query(ALICE, "a lighthouse", chat_type="group"))
        assert refused["id"] == "refused" and "limit" in refused["description"].lower()
        (bobs,) = await answered(bot, t.inline_query(BOB, "a lighthouse", chat_type="group"))
        assert bobs["id"] == "make"  # Bob's own limit is untouched
        assert len(bot.openai.images) == 1


async def test_with_a_storage_chat_pictures_go_there_and_nobody_needs_to_start_the_bot(
    tmp_path: Path,
) -> None:
    storage = -100555444
    async with telegram_harness(tmp_path, telegram_inline_storage_chat=storage, fake=INLINE) as bot:
        t = bot.telegram
        t.add_group(storage)
        t.add_user(44, "dora")
        t.server.run_sync(t.fake.set_bot_status, 44, "kicked", 44)  # never started the bot
        inline_id, row = await made_inline(bot, 44, "a lantern")
        assert row["status"] == "delivered"
        (stored,) = t.fake.calls_to("sendPhoto")
        assert int(stored.params["chat_id"]) == storage
        assert t.fake.inline.messages[inline_id].body["photo"] in t.fake.files


async def test_a_429_on_the_inline_edit_edits_again_without_sending_again(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path, fake=INLINE) as bot:
        t = bot.telegram
        t.fake.failures["editMessageMedia"] = [(429, 1)]
        inline_id, row = await made_inline(bot, ALICE, "a lighthouse in fog")
        assert row["status"] == "delivered"
        attempts = t.fake.calls_to("editMessageMedia", ok=None)
        assert [c.ok for c in attempts] == [False, True]
        assert len(t.fake.calls_to("sendPhoto")) == 1  # the file_id kept, not sent again
        assert edits_of(bot, inline_id) == ["editMessageMedia"]
