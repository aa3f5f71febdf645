"""Every Telegram admin command against every kind of sender, through the real stack.

Roles: the group's creator, an administrator, a plain member, an anonymous admin of this
group (writing as the group), an anonymous admin of another group (writing as that group), a
private chat (its own admin); plus the admin-only style keyboard pressed by a member and by
an admin. Denied cases must change nothing in SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import rows, wait_for
from tests.support.telegram_stack import (
    ADMIN,
    ALICE,
    CREATOR,
    GROUP,
    OTHER_GROUP,
    Stack,
    running_telegram_stack,
)

pytestmark = pytest.mark.e2e

DENIED = "Only this chat's admins"
COMMANDS = [
    "/setstyle sketch",
    "/allowstyles sketch,anime",
    "/settings",
    "/setlimits 5 50",
    "/nsfw on",
]
# For each command: what puts the setting back first (so an allowed command is seen to act),
# and what the allowed command must have stored (the scope's settings row) or answered.
RESETS = {
    "/setstyle sketch": "/setstyle none",
    "/allowstyles sketch,anime": "/allowstyles all",
    "/settings": None,
    "/setlimits 5 50": "/setlimits 50 500",
    "/nsfw on": "/nsfw off",
}
STORED: dict[str, dict[str, Any]] = {
    "/setstyle sketch": {"default_style": "sketch"},
    "/allowstyles sketch,anime": {"allowed_styles": '["sketch", "anime"]'},
    "/settings": {},
    "/setlimits 5 50": {"daily_limit_per_user": 5, "daily_limit_per_scope": 50},
    "/nsfw on": {"nsfw": 1},
}
ROLES = {
    "creator": (GROUP, CREATOR, None, True),
    "administrator": (GROUP, ADMIN, None, True),
    "member": (GROUP, ALICE, None, False),
    "anonymous admin of this group": (GROUP, None, GROUP, True),
    "anonymous admin of another group": (GROUP, None, OTHER_GROUP, False),
    "private chat": (ALICE, ALICE, None, True),
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("telegram-auth")
    # Thirty answers in one group: the group limit (fake and bot alike) counts over 3 s
    # instead of a minute, so the answers are paced but the test does not wait minutes.
    with running_telegram_stack(
        root, telegram_options={"group_window": 3.0}, TELEGRAM_GROUP_PERIOD_SECONDS="3"
    ) as built:
        yield built


def settings_rows(stack: Stack) -> list[dict[str, Any]]:
    return rows(stack.db, "SELECT * FROM scope_settings ORDER BY platform, scope_id")


def answer(stack: Stack, message: dict[str, Any]) -> str:
    replies = wait_for(
        lambda: stack.telegram.replies_to(message),
        15,
        message=lambda: f"an answer to {message['text']}\n{stack.log()}",
    )
    return str(replies[0]["text"])


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("command", COMMANDS)
def test_admin_commands(stack: Stack, command: str, role: str) -> None:
    chat_id, user_id, sender_chat, allowed = ROLES[role]
    t = stack.telegram
    reset = RESETS[command]
    if allowed and reset is not None:
        owner = CREATOR if chat_id == GROUP else chat_id
        assert DENIED not in answer(stack, t.send(chat_id, owner, reset))
    before = settings_rows(stack)
    sender = t.fake.chats[sender_chat] if sender_chat is not None else None
    message = t.send(chat_id, user_id, command, sender_chat=sender)
    text = answer(stack, message)
    if allowed:
        assert DENIED not in text, text
        scope_id = str(chat_id) if chat_id == GROUP else f"dm:{chat_id}"
        if command == "/settings":
            assert "Settings for this chat" in text
        else:
            stored = next(r for r in settings_rows(stack) if r["scope_id"] == scope_id)
            assert {k: stored[k] for k in STORED[command]} == STORED[command]
            assert settings_rows(stack) != before, "the command changed nothing"
    else:
        assert DENIED in text, text
        assert settings_rows(stack) == before


@pytest.mark.parametrize(("user_id", "allowed"), [(ALICE, False), (ADMIN, True)])
def test_admin_style_keyboard_presses(stack: Stack, user_id: int, allowed: bool) -> None:
    t = stack.telegram
    ask = t.send(GROUP, ADMIN, "/setstyle")
    keyboard = wait_for(lambda: t.replies_to(ask), 15, message="the keyboard")[0]
    assert keyboard["reply_markup"]["inline_keyboard"]
    before = settings_rows(stack)
    data = keyboard["reply_markup"]["inline_keyboard"][-1][-1]["callback_data"]
    style_id = data.removeprefix("ib:A:")
    pressed = t.press(user_id, keyboard, data)
    query_id = pressed["callback_query"]["id"]
    answers = wait_for(
        lambda: [
            c
            for c in t.fake.calls_to("answerCallbackQuery")
            if c.params["callback_query_id"] == query_id
        ],
        15,
        message="the answer to the press",
    )
    if allowed:
        assert "default style is now" in answers[0].params["text"]
        group_row = next(r for r in settings_rows(stack) if r["scope_id"] == str(GROUP))
        assert group_row["default_style"] == style_id
    else:
        assert DENIED in answers[0].params["text"]
        assert settings_rows(stack) == before
