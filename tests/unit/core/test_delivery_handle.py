"""The delivery handle: the core's part (NSFW allowed, the next delivery attempt, a chat's
move) typed and apart from each adapter's typed part, in the same stored JSON object as
before."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.adapters.discord.delivery_handle import DiscordHandle
from bot.adapters.telegram.delivery_handle import TelegramHandle
from bot.core.models import (
    MOVED_FROM_CHAT,
    NOT_BEFORE,
    NSFW_OK,
    DeliveryPolicy,
    HandlePart,
    HandleValue,
    ReplyTarget,
)

HANDLE_VALUES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
KNOWN_KEYS = (NSFW_OK, NOT_BEFORE, MOVED_FROM_CHAT, "token", "expires_at", "status_message_id")
ODD_KEYS = ("menu:7", "menu:x", "remix_prompt:9", "remix_prompt:", "message_id", "other")
STORED_KEYS = st.sampled_from(KNOWN_KEYS + ODD_KEYS) | st.text(max_size=12)


def test_every_target_says_whether_its_chat_may_show_nsfw() -> None:
    with pytest.raises(ValidationError):
        ReplyTarget(platform="discord", chat_id="1")  # type: ignore[call-arg]


def test_an_adapters_part_holds_no_core_key() -> None:
    for part in (DiscordHandle, TelegramHandle):
        assert not part.keys() & DeliveryPolicy.keys()
        assert not any(part.owns(key) for key in DeliveryPolicy.keys())


def test_a_target_takes_only_a_typed_part() -> None:
    with pytest.raises(ValidationError):
        ReplyTarget(platform="discord", chat_id="1", nsfw_ok=False, handle={NSFW_OK: True})  # type: ignore[arg-type]


def test_the_stored_handle_is_the_json_rows_always_had() -> None:
    target = ReplyTarget(
        platform="telegram",
        chat_id="-100",
        nsfw_ok=True,
        handle=TelegramHandle(status_message_id=7),
    )
    assert target.stored_handle() == {"status_message_id": 7, "nsfw_ok": True}


def test_a_change_holds_only_the_fields_set_and_none_clears() -> None:
    assert DeliveryPolicy(not_before=12.5).stored() == {NOT_BEFORE: 12.5}
    assert DiscordHandle(fallback_sent_at=None).stored() == {"fallback_sent_at": None}
    assert TelegramHandle(remix_prompts={42: "7"}).stored() == {"remix_prompt:42": "7"}


@pytest.mark.parametrize(
    ("handle", "policy"),
    [
        ({}, DeliveryPolicy(nsfw_ok=False, not_before=None)),
        ({NSFW_OK: True, NOT_BEFORE: 12.5}, DeliveryPolicy(nsfw_ok=True, not_before=12.5)),
        ({NSFW_OK: 1, NOT_BEFORE: 30}, DeliveryPolicy(nsfw_ok=False, not_before=30.0)),
        ({NSFW_OK: "true", NOT_BEFORE: True}, DeliveryPolicy()),  # odd values: the safe default
        ({NOT_BEFORE: "soon", "token": "x"}, DeliveryPolicy()),
        ({MOVED_FROM_CHAT: "-5"}, DeliveryPolicy(moved_from_chat="-5")),
    ],
)
def test_the_policy_is_read_from_old_rows_totally(
    handle: dict[str, HandleValue], policy: DeliveryPolicy
) -> None:
    assert DeliveryPolicy.of(handle) == policy


@given(st.dictionaries(STORED_KEYS, HANDLE_VALUES, max_size=8))
def test_every_part_reads_any_stored_handle(handle: dict[str, HandleValue]) -> None:
    """A row's JSON comes from any version of the bot (or a hand-edited database): each part
    reads it without raising, and what it read stores back to keys it owns."""
    parts: tuple[type[HandlePart], ...] = (DeliveryPolicy, DiscordHandle, TelegramHandle)
    for part in parts:
        read = part.of(handle)
        assert all(part.owns(key) for key in read.stored())
        assert part.of(read.stored()) == read
