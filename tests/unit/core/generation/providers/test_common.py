"""The shared provider scaffolding: batch plans, all-or-none parallel calls, the poll loop."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.errors import ProviderTimeout, ProviderUnavailable
from bot.core.generation.providers.common import _all_or_none, chunks
from bot.core.generation.providers.polling import Poll, Wording, follow
from bot.core.models import StatusUpdate

WORDING = Wording(queued="queued", running="running", gave_up="gave up")


def test_a_count_is_split_into_calls_of_the_batch_size() -> None:
    assert chunks(4, 4) == [4]
    assert chunks(4, 1) == [1, 1, 1, 1]
    assert chunks(3, 2) == [2, 1]
    assert chunks(4, 10) == [4]


async def test_one_failure_cancels_the_other_calls() -> None:
    finished: list[str] = []
    cancelled: list[str] = []

    async def slow(name: str) -> str:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(name)
            raise
        finished.append(name)
        return name

    async def broken() -> str:
        await asyncio.sleep(0.01)
        raise ProviderUnavailable("down")

    with pytest.raises(ProviderUnavailable):
        await _all_or_none([slow("a"), broken(), slow("b")])
    assert sorted(cancelled) == ["a", "b"] and finished == []


async def test_the_loop_reports_changes_and_cancels_on_the_way_out() -> None:
    answers = [Poll[str](position=2), Poll[str](position=2), Poll[str](running=True)]
    shown: list[tuple[int | None, str | None]] = []
    dropped: list[str] = []

    async def check(job: str) -> Poll[str]:
        return answers.pop(0) if answers else Poll(result=f"done {job}")

    async def cancel(job: str) -> None:
        dropped.append(job)

    async def progress(update: StatusUpdate) -> None:
        shown.append((update.position, update.detail))

    result = await follow(
        "j1",
        check=check,
        cancel=cancel,
        progress=progress,
        interval=0.01,
        deadline=1e18,
        wording=WORDING,
    )
    assert result == "done j1" and dropped == []
    assert shown == [(2, "queued"), (None, "running")]  # the repeat is not shown again

    async def never(job: str) -> Poll[str]:
        return Poll(position=1)

    loop = asyncio.get_running_loop()
    with pytest.raises(ProviderTimeout, match="gave up"):
        await follow(
            "j2",
            check=never,
            cancel=cancel,
            progress=progress,
            interval=0.01,
            deadline=loop.time() + 0.05,
            wording=WORDING,
        )
    task = asyncio.ensure_future(
        follow(
            "j3",
            check=never,
            cancel=cancel,
            progress=progress,
            interval=0.01,
            deadline=1e18,
            wording=WORDING,
        )
    )
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert dropped == ["j2", "j3"]
