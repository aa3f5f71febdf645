"""StatusEditor: the grace period, throttling, coalescing and closing of status edits."""

from __future__ import annotations

import asyncio

from telegram.error import BadRequest

from bot.adapters.telegram.status import StatusEditor

GRACE, INTERVAL = 0.2, 0.3


class Recorder:
    def __init__(self) -> None:
        self.edits: list[tuple[float, int, int, str]] = []
        self.fail_next = False

    async def edit(self, chat_id: int, message_id: int, text: str) -> None:
        self.edits.append((asyncio.get_running_loop().time(), chat_id, message_id, text))
        if self.fail_next:
            self.fail_next = False
            raise BadRequest("Message to edit not found")


def test_changes_within_the_grace_period_cost_no_edit_once_closed() -> None:
    async def run() -> list[tuple[float, int, int, str]]:
        recorder = Recorder()
        editor = StatusEditor(recorder.edit, grace=GRACE, interval=INTERVAL)
        editor.track(1, 10, "Queued")
        await editor.show(1, 10, "#3 in the queue")
        await editor.show(1, 10, "Generating")
        editor.close(1, 10)  # the picture arrived
        await asyncio.sleep(GRACE + 0.1)
        assert editor.tracked() == 0
        return recorder.edits

    assert asyncio.run(run()) == []


def test_after_the_grace_period_only_the_latest_text_is_shown_then_throttled() -> None:
    async def run() -> tuple[float, list[tuple[float, int, int, str]]]:
        loop = asyncio.get_running_loop()
        recorder = Recorder()
        editor = StatusEditor(recorder.edit, grace=GRACE, interval=INTERVAL)
        start = loop.time()
        editor.track(1, 10, "Queued")
        await editor.show(1, 10, "#3 in the queue")
        await editor.show(1, 10, "Generating")
        await asyncio.sleep(GRACE + 0.05)
        await editor.show(1, 10, "Generating: 40%")  # within the interval: held back
        await editor.show(1, 10, "Generating: 60%")
        await asyncio.sleep(INTERVAL + 0.05)
        await editor.show(1, 10, "Generating: 60%")  # already shown: no edit
        await asyncio.sleep(INTERVAL + 0.05)
        return start, recorder.edits

    start, edits = asyncio.run(run())
    assert [e[3] for e in edits] == ["Generating", "Generating: 60%"]
    assert edits[0][0] - start >= GRACE - 0.01
    assert edits[1][0] - edits[0][0] >= INTERVAL - 0.01


def test_show_now_is_immediate_and_cancels_what_was_pending() -> None:
    async def run() -> list[tuple[float, int, int, str]]:
        recorder = Recorder()
        editor = StatusEditor(recorder.edit, grace=GRACE, interval=INTERVAL)
        editor.track(2, 20, "Queued")
        await editor.show(2, 20, "Generating")
        await editor.show_now(2, 20, "The provider refused the prompt.")
        await asyncio.sleep(GRACE + 0.1)
        return recorder.edits

    assert [e[1:] for e in asyncio.run(run())] == [(2, 20, "The provider refused the prompt.")]


def test_untracked_messages_are_edited_at_once_and_a_failed_edit_is_not_fatal() -> None:
    async def run() -> list[tuple[float, int, int, str]]:
        recorder = Recorder()
        editor = StatusEditor(recorder.edit, grace=GRACE, interval=INTERVAL)
        recorder.fail_next = True
        await editor.show(3, 30, "Generating")  # e.g. resumed after a restart
        await editor.show(4, 40, "Generating")
        return recorder.edits

    assert [e[1:] for e in asyncio.run(run())] == [(3, 30, "Generating"), (4, 40, "Generating")]


def test_an_edit_refused_for_budget_is_shown_later_and_a_failure_always_goes() -> None:
    from bot.adapters.telegram.flood import OverBudget

    refused: list[str] = []
    finals: list[str] = []

    async def run() -> list[tuple[float, int, int, str]]:
        recorder = Recorder()

        async def edit(chat_id: int, message_id: int, text: str) -> None:
            if not refused:
                refused.append(text)
                raise OverBudget
            await recorder.edit(chat_id, message_id, text)

        async def final(chat_id: int, message_id: int, text: str) -> None:
            finals.append(text)

        editor = StatusEditor(edit, final_edit=final, grace=0, interval=INTERVAL)
        editor.track(1, 10, "Queued")
        await editor.show(1, 10, "Generating")
        await asyncio.sleep(INTERVAL + 0.1)
        await editor.show_now(1, 10, "Failed")
        return recorder.edits

    edits = asyncio.run(run())
    assert refused == ["Generating"]
    assert [e[3] for e in edits] == ["Generating"]  # tried again an interval later
    assert finals == ["Failed"]
