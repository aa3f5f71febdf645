"""Languages on Telegram, through python-telegram-bot against the fake Bot API (in-process
harness): a Russian and an Arabic user (`from.language_code`, as Telegram sends it) are
answered in their language, pick another with /language, and admins set the chat's language
with /setlanguage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.telegram_harness import (
    ADMIN,
    ALICE,
    BOB,
    GROUP,
    TelegramHarness,
    eventually,
    telegram_harness,
)

IVAN, LAYLA = 21, 22  # a Russian and an Arabic Telegram user
FSI, PDI = "\u2068", "\u2069"


def add_speakers(bot: TelegramHarness) -> None:
    t = bot.telegram
    t.add_user(IVAN, "ivan", language_code="ru")
    t.add_user(LAYLA, "layla", language_code="ar")
    t.fake.members[(GROUP, IVAN)] = "member"
    t.fake.members[(GROUP, LAYLA)] = "member"


def buttons(reply: dict[str, Any]) -> list[tuple[str, str]]:
    rows = reply["reply_markup"]["inline_keyboard"]
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


def press_answers(bot: TelegramHarness) -> list[str]:
    return [str(c.params.get("text")) for c in bot.telegram.fake.calls_to("answerCallbackQuery")]


async def test_a_russian_user_reads_russian_and_picks_german(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path) as bot:
        add_speakers(bot)
        t = bot.telegram
        asked = t.send(IVAN, IVAN, "/language")
        picker = await bot.answer(asked)
        assert picker["text"] == "Сейчас я отвечаю вам на языке: Русский. Выберите нужный:"
        offered = buttons(picker)
        # Every language in its own name, then automatic in the reader's words.
        assert [text for text, _ in offered][:4] == [
            "English",
            "Español",
            "Português (Brasil)",
            "Deutsch",
        ]
        assert ("العربية", "ib:L:ar") in offered
        assert offered[-1] == ("Автоматически (язык моего приложения)", "ib:L:")

        t.press(IVAN, picker, "ib:L:de")
        await eventually(lambda: press_answers(bot), message="the press's answer")
        assert press_answers(bot) == ["Fertig! Ab jetzt antworte ich dir auf Deutsch."]
        again = await bot.answer(t.send(IVAN, IVAN, "/language"))
        assert again["text"].startswith("Ich antworte dir auf Deutsch.")

        back = await bot.answer(t.send(IVAN, IVAN, "/language auto"))
        assert back["text"] == (
            "Готово! Снова использую язык вашего приложения (сейчас это Русский)."
        )


async def test_the_queued_text_and_the_row_speak_the_requesters_language(tmp_path: Path) -> None:
    # One job at a time: the second request waits in the queue while the first is made.
    async with telegram_harness(tmp_path, worker_max_jobs=1) as bot:
        add_speakers(bot)
        t = bot.telegram
        bot.openai.delay = 10  # longer than the status throttle may hold the queued text
        first = t.send(IVAN, IVAN, "/imagine a birch forest")
        await eventually(lambda: bot.row_replying_to(first), message="the first row")
        second = t.send(IVAN, IVAN, "/imagine a frozen river")
        status = await bot.answer(second)

        def queued() -> list[str]:
            edits = t.fake.calls_to("editMessageText")
            return [
                str(c.params["text"])
                for c in edits
                if int(c.params["message_id"]) == status["message_id"]
            ]

        shown = await eventually(queued, message="the queue position")
        assert shown[0] == "⏳ В очереди: место 2.", shown
        # The locale is on the rows from admission on, before any picture is made.
        assert [bot.row_replying_to(m)["locale"] for m in (first, second)] == ["ru", "ru"]  # type: ignore[index]
        arabic = t.send(LAYLA, LAYLA, "/imagine a palm at dawn")
        row = await eventually(lambda: bot.row_replying_to(arabic), message="the Arabic row")
        assert row["locale"] == "ar"


async def test_an_arabic_user_reads_arabic_with_their_own_words_isolated(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path) as bot:
        add_speakers(bot)
        t = bot.telegram
        picker = await bot.answer(t.send(LAYLA, LAYLA, "/language"))
        assert picker["text"] == "لغة الرد الآن: العربية. اختر اللغة التي تريدها:"
        refused = await bot.answer(t.send(LAYLA, LAYLA, "/language <b>Klingon</b>"))
        # Her words come back as typed (escaped for HTML, not markup) inside isolates, so the
        # Latin text keeps its place in the Arabic sentence.
        assert refused["text"].startswith(f"لا أعرف «{FSI}<b>Klingon</b>{PDI}» بعد.")
        assert "entities" not in refused or not any(
            e["type"] == "bold" for e in refused["entities"]
        )


async def test_setlanguage_is_for_admins_and_members_languages_win_unless_told(
    tmp_path: Path,
) -> None:
    async with telegram_harness(tmp_path) as bot:
        add_speakers(bot)
        t = bot.telegram
        refused = await bot.answer(t.send(GROUP, BOB, "/setlanguage ru"))
        assert "Only this chat's admins" in refused["text"]
        usage = await bot.answer(t.send(GROUP, ADMIN, "/setlanguage martian"))
        assert usage["text"].startswith("Usage: /setlanguage") and "de (Deutsch)" in usage["text"]

        done = await bot.answer(t.send(GROUP, ADMIN, "/setlanguage ru"))
        assert done["text"].startswith("Язык сообщества теперь — Русский;")
        # Alice's app sends no language: the chat's. Layla's app is Arabic: hers wins.
        alice = await bot.answer(t.send(GROUP, ALICE, "/language"))
        assert alice["text"].startswith("Сейчас я отвечаю вам на языке: Русский.")
        layla = await bot.answer(t.send(GROUP, LAYLA, "/language"))
        assert layla["text"].startswith("لغة الرد الآن: العربية.")

        await bot.answer(t.send(GROUP, ADMIN, "/setlanguage de everyone"))
        layla = await bot.answer(t.send(GROUP, LAYLA, "/language"))
        assert layla["text"].startswith("Ich antworte dir auf Deutsch.")
        settings = bot.app.store
        row = await settings.scope_row("telegram", str(GROUP))
        assert (row.language, row.members_language_wins) == ("de", False)
        # Her own choice still beats the chat's.
        await bot.answer(t.send(GROUP, LAYLA, "/language ar"))
        layla = await bot.answer(t.send(GROUP, LAYLA, "/language"))
        assert layla["text"].startswith("لغة الرد الآن: العربية.")


def answers_to_presses(bot: TelegramHarness) -> list[str]:
    return [
        str(c.params.get("text") or "") for c in bot.telegram.fake.calls_to("answerCallbackQuery")
    ]


async def test_a_russian_and_an_arabic_user_read_help_pictures_buttons_info_and_refusals(
    tmp_path: Path,
) -> None:
    async with telegram_harness(tmp_path) as bot:
        add_speakers(bot)
        t = bot.telegram
        help_ru = await bot.answer(t.send(IVAN, IVAN, "/help"))
        assert "превращает ваши слова в картинки" in help_ru["text"]
        help_ar = await bot.answer(t.send(LAYLA, LAYLA, "/help"))
        assert "يحوّل كلماتك إلى صور" in help_ar["text"]

        refused = await bot.answer(t.send(IVAN, IVAN, "/imagine a cat --bogus 1"))
        assert refused["text"].startswith(f"Неизвестный параметр {FSI}--bogus{PDI}.")
        assert "Как использовать: /imagine <промпт>" in refused["text"]
        refused = await bot.answer(t.send(LAYLA, LAYLA, "/imagine a cat --bogus 1"))
        assert refused["text"].startswith(f"خيار غير معروف {FSI}--bogus{PDI}.")

        grid = t.send(IVAN, IVAN, "/imagine a birch forest count:2")
        await bot.settled_row(grid)
        (picture,) = t.replies_to(grid)
        labels = [text for text, _ in buttons(picture)]
        assert labels == [
            "U1", "U2", "V1", "V2",
            "🔁 Ещё раз", "🎨 Другой стиль", "✏️ Ремикс",
            "🪄 Изменить", "ℹ️ Инфо", "🗑 Удалить",
        ]  # fmt: skip
        assert picture["caption"].startswith("a birch forest\n🎨 ")
        assert "Photo" not in picture["caption"]  # the style's name is the catalogue's too
        t.press(IVAN, picture, next(d for _, d in buttons(picture) if d.startswith("ib:i:")))
        await eventually(lambda: answers_to_presses(bot), message="the Info alert")
        info = answers_to_presses(bot)[-1]
        assert info.startswith("🌱 Сид ") and "\n⏱ " in info and " с\n" in info
        assert "\n🎨 Фото\n" in info  # the style's name in Russian too

        single = t.send(LAYLA, LAYLA, "/imagine a palm at dawn")
        await bot.settled_row(single)
        (palm,) = t.replies_to(single)
        labels = [text for text, _ in buttons(palm)]
        assert labels[:2] == ["⬆️ تكبير", "🔀 تنويع"] and "ℹ️ معلومات" in labels
        t.press(LAYLA, palm, next(d for _, d in buttons(palm) if d.startswith("ib:r:")))
        await eventually(lambda: len(bot.rows()) == 3, message="the reroll's row")
        queued = [str(c.params.get("text")) for c in t.fake.calls_to("sendMessage")]
        assert queued[-1] == "⏳ في قائمة الانتظار…"  # the reroll's acknowledgement, in Arabic
