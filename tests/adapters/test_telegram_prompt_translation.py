"""Prompts in any language on Telegram, through python-telegram-bot, the `openai` client and
the worker against the fake Bot API, the fake chat completions and the fake AUTOMATIC1111
(in-process harness): with PROMPT_TRANSLATION=openai a Russian prompt reaches Stable Diffusion
in English while the chat, the row and Info keep the Russian, and the same words again make no
second chat call; OpenAI's image model gets the prompt as written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.sdwebui_api import FakeSDWebUI
from tests.fakes.server import ServerThread
from tests.support.telegram_harness import TelegramHarness, eventually, telegram_harness

IVAN = 21  # a Russian Telegram user (`language_code: ru`)
RUSSIAN = "кот в шляпе, акварель"
ENGLISH = "a cat in a hat, watercolour"


@pytest.fixture
def sdwebui() -> Iterator[tuple[FakeSDWebUI, str]]:
    fake = FakeSDWebUI()
    server = ServerThread(fake.app()).start()
    yield fake, server.url
    server.stop()


def result_of(bot: TelegramHarness, request: dict[str, Any]) -> dict[str, Any]:
    (photo,) = [m for m in bot.telegram.replies_to(request) if m.get("photo")]
    return photo


async def info_of(bot: TelegramHarness, photo: dict[str, Any], gen_id: str) -> str:
    """What Info shows: the press's alert, or the reply a longer one is sent as."""
    t = bot.telegram
    query = t.press(IVAN, photo, f"ib:i:{gen_id}")["callback_query"]["id"]

    def shown() -> str | None:
        alerts = [
            str(c.params.get("text") or "")
            for c in t.fake.calls_to("answerCallbackQuery")
            if c.params["callback_query_id"] == query
        ]
        replies = [str(m.get("text") or "") for m in t.replies_to(photo)]
        return next((text for text in [*alerts, *replies] if "📝" in text), None)

    return await eventually(shown, message="the Info")


async def test_a_russian_prompt_reaches_sd_in_english_and_everything_else_keeps_the_russian(
    tmp_path: Path, sdwebui: tuple[FakeSDWebUI, str]
) -> None:
    sd, url = sdwebui
    async with telegram_harness(
        tmp_path, image_providers=["sdwebui"], sdwebui_url=url, prompt_translation="openai"
    ) as bot:
        t = bot.telegram
        t.add_user(IVAN, "ivan", language_code="ru")
        first = t.send(IVAN, IVAN, f"/imagine {RUSSIAN} style:none")
        row = await bot.settled_row(first)
        assert row["status"] == "delivered" and row["provider"] == "sdwebui"
        # Stable Diffusion was given the English; the row keeps what Ivan wrote.
        assert sd.bodies[-1]["prompt"] == ENGLISH
        assert (row["prompt"], row["prompt_english"]) == (RUSSIAN, ENGLISH)
        assert [c.text for c in bot.openai.translations.calls] == [RUSSIAN]
        assert row["provider_calls"] == 2  # the translation and the picture
        # Info shows both: Ivan's words and what the image service got.
        info = await info_of(bot, result_of(bot, first), row["id"])
        assert f"📝 {RUSSIAN}" in info and f"🌐 Sent in English: {ENGLISH}" in info

        # The same words again: read from the store, no second chat call.
        second = t.send(IVAN, IVAN, f"/imagine {RUSSIAN} style:none")
        again = await bot.settled_row(second)
        assert again["prompt_english"] == ENGLISH and sd.bodies[-1]["prompt"] == ENGLISH
        assert len(bot.openai.translations.calls) == 1


async def test_openai_image_models_get_the_russian_as_written(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path, prompt_translation="openai") as bot:
        t = bot.telegram
        t.add_user(IVAN, "ivan", language_code="ru")
        request = t.send(IVAN, IVAN, f"/imagine {RUSSIAN} style:none")
        row = await bot.settled_row(request)
        assert row["status"] == "delivered" and row["provider"] == "openai"
        assert bot.openai.image_prompts == [RUSSIAN]
        assert bot.openai.translations.calls == [] and row["prompt_english"] is None
        info = await info_of(bot, result_of(bot, request), row["id"])
        assert "Sent in English" not in info
