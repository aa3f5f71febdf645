"""What a request from a place without the bot is told about Discord's 15 minutes: the
deadline up front, a provider estimate past it, and "not ready in time" near the end."""

from __future__ import annotations

import time

from bot.adapters.discord.delivery_handle import INTERACTION, DiscordHandle
from bot.adapters.discord.late_route import eta_note, late_note


def handle(ends: float, route: str = INTERACTION) -> DiscordHandle:
    # as a row stores it, read back
    return DiscordHandle.of({"late_route": route, "expires_at": ends})


def test_the_first_answer_names_the_deadline_and_where_the_picture_stays() -> None:
    ends = time.time() + 800
    note = late_note(handle(ends))
    assert f"<t:{int(ends)}:t>" in note and "not a member here" in note
    assert "/history" in note and "/share" in note
    assert handle(ends).only_interaction and handle(ends).has_deadline


def test_near_the_end_it_says_not_ready_in_time() -> None:
    ends = time.time() + 30
    assert "Not ready in time" in late_note(handle(ends))


def test_a_provider_estimate_past_the_deadline_is_told_and_one_within_it_is_not() -> None:
    ends = time.time() + 300
    assert "about 15 minutes more" in eta_note(handle(ends), 900)
    assert eta_note(handle(ends), 60) == ""
    assert eta_note(handle(ends), None) == ""
    assert eta_note(handle(ends, route="channel"), 900) == ""  # a late message can still come
