"""No text escapes the catalogue on Telegram (issue 29, item 7): people whose language is the
pseudo-locale `en_XA` (every catalogue string wrapped in ⟦ ⟧ and accented) use every command
and button through python-telegram-bot against the fake Bot API, and every text the fake
received for them (messages, edits, captions, button labels, ForceReply placeholders, press
answers, inline results) must be pseudo-localised: catalogue text, their own words
(isolated), or what the test names as shown verbatim (prompts, a provider's name, the
languages' own names, style ids to type). `setMyCommands` is not a reader's: its lists are
checked per language in tests/unit/adapters/telegram/test_command_list.py.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from bot.core.language import PSEUDO
from bot.core.requests.languages import OWN_NAMES
from tests.support.pseudo import assert_pseudo_localised, leftover
from tests.support.telegram_harness import (
    ADMIN,
    ALICE,
    BOB,
    GROUP,
    TelegramHarness,
    eventually,
    telegram_harness,
)

pytestmark = pytest.mark.e2e

# Not what a person reads in a language: the fake's own bookkeeping and the command lists.
NOT_READ = {"getUpdates", "getMe", "setMyCommands", "getFile", "getChatMember", "getChat"}
# Providers' names ("original": an upscale made without an upscaler).
PROVIDER_WORDS = ("openai", "dall-e-2", "dall-e-3", "gpt-image-1", "original")


def texts_received(bot: TelegramHarness, since: int = 0) -> list[tuple[str, str]]:
    """Every text the fake Bot API received from the bot after call `since`, with where."""
    found: list[tuple[str, str]] = []
    for call in bot.telegram.fake.calls[since:]:
        if call.method in NOT_READ or not call.ok:
            continue
        params = call.params
        for key in ("text", "caption"):
            if isinstance(params.get(key), str):
                found.append((f"{call.method}.{key}", params[key]))
        media = params.get("media")
        for item in media if isinstance(media, list) else [media] if media else []:
            if isinstance(item, dict) and item.get("caption"):
                found.append((f"{call.method}.media.caption", item["caption"]))
        found += _markup_texts(call.method, params.get("reply_markup"))
        for result in params.get("results") or []:
            found += _inline_result_texts(result)
    return found


def _markup_texts(method: str, markup: Any) -> list[tuple[str, str]]:
    if not isinstance(markup, dict):
        return []
    found = [
        (f"{method} button", str(button["text"]))
        for row in markup.get("inline_keyboard", [])
        for button in row
    ]
    if markup.get("input_field_placeholder"):
        found.append((f"{method} placeholder", str(markup["input_field_placeholder"])))
    return found


def _inline_result_texts(result: dict[str, Any]) -> list[tuple[str, str]]:
    found = [
        (f"inline result {key}", str(result[key]))
        for key in ("title", "description", "caption")
        if result.get(key)
    ]
    content = result.get("input_message_content") or {}
    if content.get("message_text"):
        found.append(("inline result message", str(content["message_text"])))
    return found + _markup_texts("inline result", result.get("reply_markup"))


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


def data_starting(message: dict[str, Any], prefix: str) -> str:
    return next(data for _, data in buttons(message) if data.startswith(prefix))


async def reads_pseudo(bot: TelegramHarness, *people: int) -> None:
    """These people chose the pseudo-locale (stored as a person's own language is; /language
    never offers it)."""
    for person in people:
        await bot.app.store.set_user_language("telegram", str(person), PSEUDO)


def verbatim(bot: TelegramHarness, *typed: str) -> tuple[str, ...]:
    ids = tuple(bot.app.service.styles.ids)
    return (*typed, *PROVIDER_WORDS, *OWN_NAMES.values(), *ids)


def test_the_checker_finds_english_and_lets_catalogue_and_user_text_pass() -> None:
    assert leftover("⟦Qüéüéð⟧ \u2068a cat\u2069 🎨 1:1") == ""
    assert leftover("<b>⟦Šéttîñgš⟧</b> &lt;⟦x⟧&gt; ⟦Çréåtéð {⟦hîððéñ⟧}⟧") == ""
    assert leftover("⏳ Queued…") == "⏳ Queued…"
    assert leftover("⟦Ïñƒö⟧ Seed 42") == "Seed 42"
    assert leftover("⚙️ openai", verbatim=("openai",)) == ""
    assert leftover("ℹ️ ⟦Îñfö⟧") == ""  # an emoji Unicode calls a letter


async def test_every_private_command_and_button_is_pseudo_localised(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path) as bot:
        t = bot.telegram
        await reads_pseudo(bot, ALICE)
        start = len(t.fake.calls)
        for command in ("/start", "/help", "/styles", "/mystyle anime", "/mystyle", "/history"):
            await bot.answer(t.send(ALICE, ALICE, command))
        await bot.answer(t.send(ALICE, ALICE, "/imagine a cat --bogus 1"))
        await bot.answer(t.send(ALICE, ALICE, "/describe"))
        await bot.answer(t.send(ALICE, ALICE, "/gallery"))
        picker = await bot.answer(t.send(ALICE, ALICE, "/language"))
        forget = await bot.answer(t.send(ALICE, ALICE, "/forget_me"))
        t.press(ALICE, forget, data_starting(forget, "ib:X"))  # Cancel: her language stays
        styles = await bot.answer(t.send(ALICE, ALICE, "/styles"))
        t.press(ALICE, styles, buttons(styles)[0][1])

        asked = t.send(ALICE, ALICE, "/imagine a lighthouse at dusk count:2")
        await bot.settled_row(asked)
        (picture,) = t.replies_to(asked)
        upscale = data_starting(picture, "ib:u:")  # the keyboard changes under Edit
        # Info (an alert or a reply), Remix (a ForceReply), Restyle (a menu), Edit (its menu).
        for prefix in ("ib:i:", "ib:m:", "ib:s:", "ib:e:"):
            t.press(ALICE, picture, data_starting(picture, prefix))
        await eventually(lambda: len(t.replies_to(picture)) >= 2, message="Remix and Restyle")
        await eventually(lambda: "ib:b:" in str(buttons(picture)), message="the Edit menu")
        t.press(ALICE, picture, data_starting(picture, "ib:b:"))  # Back
        t.press(ALICE, picture, upscale)
        await eventually(
            lambda: [
                r for r in bot.rows() if r["kind"] == "upscale" and r["status"] == "delivered"
            ],
            30,
            message="the upscale",
        )
        await bot.answer(t.send(ALICE, ALICE, "/history"))
        assert_pseudo_localised(
            texts_received(bot, start), verbatim(bot, "a lighthouse at dusk", "a cat")
        )
        del picker


async def test_every_admin_command_is_pseudo_localised(tmp_path: Path) -> None:
    """The admin commands in the admin's private chat (everyone administers their own; a
    group takes 20 messages a minute), then in a group: a member refused, an admin's own
    style conversation."""
    async with telegram_harness(tmp_path) as bot:
        t = bot.telegram
        await reads_pseudo(bot, ADMIN, BOB)
        start = len(t.fake.calls)
        for command in (
            "/settings",
            "/setstyle",
            "/setstyle anime",
            "/setstyle none",
            "/allowstyles",
            "/allowstyles anime,photo",
            "/allowstyles all",
            "/setlimits",
            "/setlimits 10 20 count:2",
            "/setlimits 5",
            "/nsfw",
            "/nsfw on",
            "/nsfw off",
            "/setlanguage martian",
            "/newstyle",
            "/delstyle",
            "/exportstyle",
            "/editstyle",
            "/importstyle",
            "/done",
            "/cancel",
        ):
            await bot.answer(t.send(ADMIN, ADMIN, command))
        await bot.answer(t.send(GROUP, BOB, "/settings"))  # not an admin
        await bot.answer(t.send(GROUP, BOB, "/newstyle Mine"))
        question = await bot.answer(t.send(GROUP, ADMIN, "/newstyle Neon Noir"))
        await bot.answer(t.send(GROUP, ADMIN, "neon {prompt}\nhidden: maybe", reply_to=question))
        recipe = t.send(GROUP, ADMIN, "neon {prompt}, rain\nhidden: yes", reply_to=question)
        pictures = await bot.answer(recipe)
        await bot.answer(t.send(GROUP, ADMIN, "/done"))
        for command in ("/styles", "/exportstyle Neon Noir", "/delstyle Neon Noir"):
            await bot.answer(t.send(GROUP, ADMIN, command))
        typed = ("Neon Noir", "Mine", "maybe", "neon {prompt}, rain")  # the recipe, exported
        assert_pseudo_localised(texts_received(bot, start), verbatim(bot, *typed))
        del pictures


async def test_inline_mode_is_pseudo_localised(tmp_path: Path) -> None:
    """The inline answers (a hint, a refusal, "Make this picture"), the placeholder, the
    picture it becomes with its buttons, and the presses on it."""
    async with telegram_harness(tmp_path, fake={"inline_enabled": True}) as bot:
        t, fake = bot.telegram, bot.telegram.fake
        await reads_pseudo(bot, ALICE)
        start = len(fake.calls)
        for typed in ("", "a cat --bogus 1", "a cat strength:0.5"):
            query = t.inline_query(ALICE, typed)
            await eventually(lambda q=query: fake.inline.queries[q].answered_at, message=typed)
        query = t.inline_query(ALICE, "a lighthouse at dusk", chat_type="group")
        await eventually(lambda: fake.inline.queries[query].answered_at, message="the answer")
        message = t.choose(ALICE, query, "make")
        row = await eventually(
            lambda: [r for r in bot.rows() if r["status"] == "delivered"], 30, message="the row"
        )
        for action in ("i", "r"):  # Info (an alert), Reroll ("on it")
            t.inline_press(ALICE, message.id, f"ib:{action}:{row[0]['id']}")
        await eventually(lambda: len(fake.calls_to("answerCallbackQuery")) >= 2, message="answers")
        assert_pseudo_localised(
            texts_received(bot, start), verbatim(bot, "a lighthouse at dusk", "a cat")
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_gallery_commands_are_pseudo_localised(tmp_path: Path) -> None:
    """/gallery with the web gallery on: a person's own link, a group's link in the
    community's language (set to the pseudo-locale here), the admin's private link, and the
    admins' switches."""
    gallery = {
        "public_url": "http://gallery.test",
        "web_port": free_port(),
        "web_host": "127.0.0.1",
    }
    async with telegram_harness(tmp_path, **gallery) as bot:
        t = bot.telegram
        await reads_pseudo(bot, ALICE, ADMIN)
        await bot.app.store.set_scope_language("telegram", str(GROUP), PSEUDO, True)
        start = len(t.fake.calls)
        await bot.answer(t.send(ALICE, ALICE, "/gallery"))
        for command in ("/gallery", "/gallery off", "/gallery", "/gallery on", "/gallery revoke"):
            await bot.answer(t.send(GROUP, ADMIN, command))
        await bot.answer(t.send(GROUP, ALICE, "/gallery off"))  # not an admin
        await bot.answer(t.send(GROUP, ADMIN, "/gallery sideways"))
        # Babel words the link's lifetime; the pseudo-locale formats numbers as English does.
        durations = ("hours", "hour", "seconds", "second")
        assert_pseudo_localised(texts_received(bot, start), verbatim(bot, *durations))
