"""The delivery handle: the core's part (NSFW allowed, the next delivery attempt) typed and
apart from the adapter's own keys, in the same stored JSON object as before."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.core.models import NOT_BEFORE, NSFW_OK, DeliveryPolicy, ReplyTarget


def test_every_target_says_whether_its_chat_may_show_nsfw() -> None:
    with pytest.raises(ValidationError):
        ReplyTarget(platform="discord", chat_id="1")  # type: ignore[call-arg]


@pytest.mark.parametrize("key", [NSFW_OK, NOT_BEFORE])
def test_an_adapter_cannot_write_the_cores_keys(key: str) -> None:
    with pytest.raises(ValidationError, match="core's handle keys"):
        ReplyTarget(platform="discord", chat_id="1", nsfw_ok=False, handle={key: True})


def test_the_stored_handle_is_the_json_rows_always_had() -> None:
    target = ReplyTarget(
        platform="telegram", chat_id="-100", nsfw_ok=True, handle={"status_message_id": 7}
    )
    assert target.stored_handle() == {"status_message_id": 7, "nsfw_ok": True}


@pytest.mark.parametrize(
    ("handle", "policy"),
    [
        ({}, DeliveryPolicy(nsfw_ok=False, not_before=None)),
        ({NSFW_OK: True, NOT_BEFORE: 12.5}, DeliveryPolicy(nsfw_ok=True, not_before=12.5)),
        ({NSFW_OK: 1, NOT_BEFORE: 30}, DeliveryPolicy(nsfw_ok=False, not_before=30.0)),
        ({NSFW_OK: "true", NOT_BEFORE: True}, DeliveryPolicy()),  # odd values: the safe default
        ({NOT_BEFORE: "soon", "token": "x"}, DeliveryPolicy()),
    ],
)
def test_the_policy_is_read_from_old_rows_totally(
    handle: dict[str, str | int | float | bool | None], policy: DeliveryPolicy
) -> None:
    assert DeliveryPolicy.of(handle) == policy
