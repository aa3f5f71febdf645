"""StatusThrottle, the status-edit rules both adapters share: nothing after the final word,
the final word waits for an edit on its way, refused edits come back, failures stay quiet.

(The grace period, the interval and coalescing are covered through Telegram's StatusEditor
in tests/unit/adapters/telegram/test_status.py, and through Discord on simcord in tests/adapters.)"""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.core.delivery.status_throttle import StatusThrottle

INTERVAL = 0.2


class NotNow(Exception):
    pass


class Message:
    """A chat message whose text the throttle edits; records every edit in order."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.started = asyncio.Event()
        self.release: asyncio.Event | None = None

    async def edit(self, text: str) -> None:
        self.started.set()
        if self.release is not None:
            await self.release.wait()
        self.texts.append(text)


def test_no_status_edit_follows_the_final_word() -> None:
    async def run() -> list[str]:
        throttle: StatusThrottle[str] = StatusThrottle(interval=INTERVAL)
        message = Message()
        await throttle.show("g1", "Queued", message.edit)  # shown at once
        await throttle.show("g1", "Generating", message.edit)  # held for the interval
        async with throttle.finishing("g1"):
            message.texts.append("PICTURE")
        await throttle.show("g1", "Generating: 90%", message.edit)  # a late event
        await asyncio.sleep(INTERVAL * 2)
        assert throttle.is_final("g1") and throttle.tracked() == 0
        return message.texts

    assert asyncio.run(run()) == ["Queued", "PICTURE"]


def test_the_final_word_waits_for_an_edit_already_on_its_way() -> None:
    async def run() -> list[str]:
        throttle: StatusThrottle[str] = StatusThrottle(interval=INTERVAL)
        message = Message()
        message.release = asyncio.Event()
        editing = asyncio.create_task(throttle.show("g1", "Generating", message.edit))
        await message.started.wait()  # the edit request is out; its answer has not come

        async def final() -> None:
            async with throttle.finishing("g1"):
                message.texts.append("PICTURE")

        finishing = asyncio.create_task(final())
        await asyncio.sleep(0.05)
        assert message.texts == []  # the picture has not overtaken the status edit
        message.release.set()
        await asyncio.gather(editing, finishing)
        return message.texts

    assert asyncio.run(run()) == ["Generating", "PICTURE"]


def test_an_edit_refused_for_now_is_made_an_interval_later() -> None:
    async def run() -> tuple[list[str], int]:
        throttle: StatusThrottle[str] = StatusThrottle(interval=INTERVAL, deferred=(NotNow,))
        message = Message()
        refused = 0

        async def edit(text: str) -> None:
            nonlocal refused
            if not refused:
                refused += 1
                raise NotNow
            await message.edit(text)

        await throttle.show("g1", "Generating", edit)
        assert message.texts == []
        await asyncio.sleep(INTERVAL * 2)
        return message.texts, refused

    assert asyncio.run(run()) == (["Generating"], 1)


def test_a_failed_edit_is_logged_not_raised_and_the_next_text_still_goes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def run() -> list[str]:
        throttle: StatusThrottle[str] = StatusThrottle(interval=INTERVAL)
        message = Message()

        async def broken(text: str) -> None:
            raise RuntimeError("platform said no")

        await throttle.show("g1", "Generating", broken)  # does not raise
        await throttle.show("g1", "Generating: 50%", message.edit)
        await asyncio.sleep(INTERVAL * 2)
        return message.texts

    with caplog.at_level(logging.WARNING, logger="bot.core.delivery.status_throttle"):
        assert asyncio.run(run()) == ["Generating: 50%"]
    assert any("status edit of g1 failed" in r.getMessage() for r in caplog.records)


def test_messages_followed_and_finished_keys_remembered_are_bounded() -> None:
    async def run() -> tuple[int, bool, bool]:
        throttle: StatusThrottle[int] = StatusThrottle(
            interval=INTERVAL, max_tracked=100, final_memory=50
        )
        for key in range(250):
            throttle.track(key, "Queued")
        for key in range(120):
            throttle.close(key)
        return throttle.tracked(), throttle.is_final(0), throttle.is_final(119)

    tracked, oldest_final, newest_final = asyncio.run(run())
    assert tracked <= 100
    assert not oldest_final and newest_final  # the oldest finished keys are forgotten first


def test_closing_cancels_what_is_pending() -> None:
    async def run() -> list[str]:
        throttle: StatusThrottle[str] = StatusThrottle(interval=INTERVAL, grace=INTERVAL)
        message = Message()
        throttle.track("g1", "Queued")
        await throttle.show("g1", "Generating", message.edit)  # within the grace period
        await throttle.aclose()
        await asyncio.sleep(INTERVAL * 2)
        return message.texts

    assert asyncio.run(run()) == []


def test_edits_over_the_per_second_budget_wait_and_show_the_latest_text() -> None:
    async def run() -> tuple[list[list[str]], list[list[str]]]:
        throttle: StatusThrottle[str] = StatusThrottle(interval=INTERVAL, per_second=3)
        messages = [Message() for _ in range(5)]
        for i, message in enumerate(messages):
            await throttle.show(f"g{i}", "Queued: 2", message.edit)
        at_once = [list(m.texts) for m in messages]
        for i, message in enumerate(messages):
            await throttle.show(f"g{i}", "Generating", message.edit)
        await asyncio.sleep(2.2)  # budget for all five more edits has come since
        return at_once, [m.texts for m in messages]

    at_once, later = asyncio.run(run())
    # Three of five within the budget of 3 a second; the other two waited ...
    assert at_once == [["Queued: 2"]] * 3 + [[]] * 2
    # ... and then showed only the latest text, like any held edit.
    assert later[3:] == [["Generating"], ["Generating"]]
    assert all(texts[-1] == "Generating" for texts in later)
