"""docs/telegram.md promises that had no test: the command list registered at start, /help,
/styles with its keyboard, /mystyle, and the Full size button. Through python-telegram-bot
against the fake Bot API, with a worker and the fake OpenAI."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram import Bot

from bot.adapters.telegram.render import COMMANDS
from tests.support import rows, wait_for
from tests.support.telegram_stack import ALICE, BOB, Stack, running_telegram_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("telegram-promises")
    # REDIS_URL blank: the embedded queue
    with running_telegram_stack(root, redis=False, polling_seconds=60) as built:
        yield built


def user_style(stack: Stack, user_id: int) -> str | None:
    found = rows(
        stack.db, "SELECT default_style FROM user_settings WHERE user_id = ?", (str(user_id),)
    )
    return found[0]["default_style"] if found else None


def test_the_command_list_is_registered_at_start(stack: Stack) -> None:
    calls = stack.telegram.fake.calls_to("setMyCommands")
    (call,) = [c for c in calls if not c.params.get("language_code")]
    registered = [c["command"] for c in call.params["commands"]]
    assert registered == [name for name, _ in COMMANDS]
    assert {"imagine", "styles", "mystyle", "history", "forget_me", "setlimits", "nsfw"} <= set(
        registered
    )


def my_commands(stack: Stack, **options: str) -> list[tuple[str, str]]:
    """getMyCommands through python-telegram-bot, as a Telegram client asks for its menu."""

    async def ask() -> list[tuple[str, str]]:
        env = stack.telegram.env()
        async with Bot(env["TELEGRAM_TOKEN"], base_url=env["TELEGRAM_API_BASE"]) as bot:
            found = await bot.get_my_commands(**options)  # type: ignore[arg-type]
        return [(c.command, c.description) for c in found]

    return asyncio.run(ask())


def test_each_language_gets_its_command_descriptions_and_the_names_stay_english(
    stack: Stack,
) -> None:
    english = my_commands(stack)
    russian = my_commands(stack, language_code="ru")
    japanese = my_commands(stack, language_code="ja")
    names = [name for name, _ in COMMANDS]
    assert [n for n, _ in english] == [n for n, _ in russian] == [n for n, _ in japanese] == names
    assert dict(english)["history"] == "Your recent pictures"
    assert dict(russian)["history"] == "Ваши последние картинки"
    assert dict(japanese)["help"] == "このボットでできること（例つき）"
    # Every language we speak has its own list; Portuguese and Chinese by language alone.
    codes = {c.params.get("language_code") for c in stack.telegram.fake.calls_to("setMyCommands")}
    assert codes == {None, "es", "pt", "de", "fr", "ru", "uk", "tr", "id", "ja", "zh", "ar"}
    assert dict(my_commands(stack, language_code="pt"))["history"] == "Suas imagens recentes"
    # A language we do not speak has no list: Telegram shows that user the default one.
    assert my_commands(stack, language_code="it") == []


def test_help_explains_with_examples(stack: Stack) -> None:
    t = stack.telegram
    for text in ("/help", "/start"):
        ask = t.send(BOB, BOB, text)
        (reply,) = wait_for(lambda ask=ask: t.replies_to(ask), 10, message=text)
        assert "/imagine" in reply["text"] and "style:" in reply["text"]


def test_styles_keyboard_sets_the_default_and_mystyle_clears_it(stack: Stack) -> None:
    t = stack.telegram
    ask = t.send(BOB, BOB, "/styles")
    (menu,) = wait_for(lambda: t.replies_to(ask), 10, message="the styles")
    assert "Anime" in menu["text"] and "Pixel Art" in menu["text"]
    buttons = [b["callback_data"] for row in menu["reply_markup"]["inline_keyboard"] for b in row]
    assert "ib:d:pixel-art" in buttons
    t.press(BOB, menu, "ib:d:pixel-art")
    wait_for(lambda: user_style(stack, BOB) == "pixel-art", 10, message="the default")
    command = t.send(BOB, BOB, "/imagine a lighthouse")
    assert stack.settled_row(command)["style"] == "pixel-art"
    t.send(BOB, BOB, "/mystyle sketch")
    wait_for(lambda: user_style(stack, BOB) == "sketch", 10, message="/mystyle sketch")
    t.send(BOB, BOB, "/mystyle")
    wait_for(lambda: user_style(stack, BOB) is None, 10, message="/mystyle clears")


def test_full_size_sends_the_stored_file_as_a_document(stack: Stack) -> None:
    t = stack.telegram
    command = t.send(ALICE, ALICE, "/imagine a red fox in snow")
    row = stack.settled_row(command)
    assert row["status"] == "delivered"
    (result,) = t.replies_to(command)
    before = len(t.fake.calls_to("sendDocument"))
    t.press(ALICE, result, f"ib:f:{row['id']}")
    wait_for(lambda: len(t.fake.calls_to("sendDocument")) > before, 10, message="the document")
    document = t.fake.calls_to("sendDocument")[-1]
    (data,) = document.files.values()
    assert data == Path(row["image_path"]).read_bytes()
