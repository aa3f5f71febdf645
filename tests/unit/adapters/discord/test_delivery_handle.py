"""Discord's part of the delivery handle read from rows as they were stored before it was
typed, and written back to the same keys."""

from __future__ import annotations

from bot.adapters.discord.delivery_handle import DIRECT, DiscordHandle
from bot.adapters.discord.late_route import dm_refused_reason, late_note
from bot.core.errors import english

OLD_ROW = {
    "application_id": "1001",
    "interaction_id": "1002",
    "token": "tok",
    "expires_at": 1700000000.0,
    "requester_id": "42",
    "guild_id": None,
    "size_limit": 10485760,
    "late_route": "dm",
    "late_missing": "Attach Files",
    "channel_size_limit": 26214400,
    "message_id": "55",
    "fallback_nonce": "abc",
    "nsfw_ok": False,  # the core's, not Discord's
}


def test_an_old_row_reads_into_typed_fields() -> None:
    handle = DiscordHandle.of(OLD_ROW)
    assert handle.token == "tok" and handle.application_id == "1001"
    assert handle.expires_at == 1700000000.0 and handle.size_limit == 10485760
    assert handle.late_route == DIRECT and handle.goes_direct
    assert handle.message_id == "55" and handle.fallback_nonce == "abc"
    assert handle.stored() == {k: v for k, v in OLD_ROW.items() if k != "nsfw_ok"}


def test_the_late_route_texts_read_the_typed_handle() -> None:
    handle = DiscordHandle.of(OLD_ROW)
    assert "missing: Attach Files" in late_note(handle, now=1700000000.0 - 3600)
    assert english(dm_refused_reason(handle)).startswith("missing Attach Files in this channel")


def test_odd_values_read_as_unset() -> None:
    handle = DiscordHandle.of({"token": 5, "expires_at": "soon", "size_limit": 1.5})
    assert handle == DiscordHandle()
    assert late_note(handle) == ""
