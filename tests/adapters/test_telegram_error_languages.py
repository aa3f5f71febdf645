"""Refusals and failures on Telegram in the reader's language, through python-telegram-bot
against the fake Bot API: a Russian user (`from.language_code: ru`) reads the core's words in
Russian, while the history keeps the English and the code (bot/core/errors.py); an Arabic
user reads hers right to left with her own Latin words isolated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support import rows
from tests.support.telegram_harness import eventually, telegram_harness

IVAN, LAYLA = 21, 22  # a Russian and an Arabic Telegram user
FSI, PDI = "\u2068", "\u2069"


async def test_a_russian_user_reads_refusals_and_failures_in_russian(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path, moderation="openai") as bot:
        t = bot.telegram
        t.add_user(IVAN, "ivan", language_code="ru")

        def said(message: dict[str, Any], words: str) -> bool:
            """The bot's reply to `message` reads `words` now (the status reply is edited)."""
            return any(reply.get("text") == words for reply in t.replies_to(message))

        # Refused before anything is queued: the content check flagged the prompt.
        flagged = t.send(IVAN, IVAN, "/imagine FLAG_ME a wolf")
        await eventually(
            lambda: said(
                flagged,
                "❌ Проверка контента отметила этот промпт, поэтому он не поставлен в очередь.",
            ),
            message="the refusal in Russian",
        )
        refusals = rows(bot.app.settings.database_path, "SELECT code, reason FROM refusals")
        assert refusals == [
            {
                "code": "content_refused",
                "reason": "The content check flagged this prompt, so it was not queued.",
            }
        ]

        # Failed after it was queued: the image service refused the prompt.
        refused = t.send(IVAN, IVAN, "/imagine REFUSE_ME a fox")
        row = await bot.settled_row(refused)
        assert (row["status"], row["failure_code"]) == ("failed", "refused")
        assert row["failure_reason"] == (
            "The image service refused this prompt under its content policy."
        )
        await eventually(
            lambda: said(
                refused, "❌ Сервис изображений отклонил этот промпт по своим правилам контента."
            ),
            message="the failure in Russian",
        )


async def test_an_arabic_user_reads_a_refusal_with_their_latin_words_isolated(
    tmp_path: Path,
) -> None:
    async with telegram_harness(tmp_path) as bot:
        t = bot.telegram
        t.add_user(LAYLA, "layla", language_code="ar")
        typo = t.send(LAYLA, LAYLA, "/imagine a palm at dawn style:<b>nopestyle</b>")
        reply = await bot.answer(typo)
        # Right to left around, left to right inside the isolates; her markup stays text.
        assert reply["text"].startswith(f"❌ لا يوجد نمط باسم «{FSI}<b>nopestyle</b>{PDI}».")
        assert not any(e["type"] == "bold" for e in reply.get("entities", []))
        assert bot.rows() == []  # refused before anything was queued
