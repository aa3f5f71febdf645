"""User text end to end through python-telegram-bot: banned terms in Unicode disguise never
reach the provider, and what reaches the provider and the chat is the cleaned text, shown as
typed (no bidi control, no markup)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import rows, wait_for
from tests.support.telegram_stack import GROUP, Stack, running_telegram_stack
from tests.support.user_text import DISGUISED_DRAGONS

pytestmark = pytest.mark.e2e

BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("user-text")
    (root / "banned.txt").write_text("dragon\n", encoding="utf-8")
    # One process with its own worker: these tests are about text, not the queue.
    with running_telegram_stack(root, BANNED_TERMS_FILE=str(root / "banned.txt")) as built:
        yield built


def answer_to(stack: Stack, message: dict[str, Any]) -> dict[str, Any]:
    found: list[dict[str, Any]] = wait_for(
        lambda: stack.telegram.replies_to(message), 15, message=lambda: f"a reply\n{stack.log()}"
    )
    return found[0]


def test_disguised_banned_words_are_refused_and_never_reach_the_provider(stack: Stack) -> None:
    t = stack.telegram
    for number, prompt in enumerate(DISGUISED_DRAGONS.values()):
        # One person each, in their own chat: a group's refusals are rate-limited per user,
        # and twenty replies would spend the group's flood budget for the next test.
        user = 700 + number
        t.add_user(user, f"user{number}")
        command = t.send(user, user, f"/imagine {prompt}")
        reply = answer_to(stack, command)
        assert "not allowed" in reply["text"], (prompt, reply)
    assert stack.openai.calls == []
    assert stack.rows() == []
    refused = rows(stack.db, "SELECT code FROM refusals WHERE scope_id LIKE 'dm:7%'")
    assert [r["code"] for r in refused] == ["content_refused"] * len(DISGUISED_DRAGONS)


def test_the_provider_and_the_chat_get_the_cleaned_text_shown_as_typed(stack: Stack) -> None:
    t = stack.telegram
    typed = "/imagine a \u202egreen\u202c <b>fox</b> in s\u200bnow & \uff53\uff4b\uff59 style:none"
    command = t.send(GROUP, 11, typed)
    row = stack.settled_row(command)
    assert row["status"] == "delivered"
    cleaned = "a green <b>fox</b> in snow & sky"
    assert row["prompt"] == cleaned
    assert stack.openai.calls[-1].body["prompt"] == cleaned
    (photo,) = t.replies_to(command)
    assert not BIDI & set(photo["caption"])
    assert photo["caption"].startswith(cleaned)  # as Telegram shows it, markup parsed


def test_echoed_text_in_an_error_has_no_bidi_control(stack: Stack) -> None:
    command = stack.telegram.send(GROUP, 12, "/imagine a cat style:\u202eevil<b>")
    reply = answer_to(stack, command)
    assert "There is no style called" in reply["text"]
    # The person's words sit inside the isolates the bot puts around them (bot/core/language.py);
    # none of their own bidi controls is left, inside or out.
    assert "\u2068evil<b>\u2069" in reply["text"]  # as Telegram shows it
    assert not BIDI & set(reply["text"].replace("\u2068evil<b>\u2069", ""))
