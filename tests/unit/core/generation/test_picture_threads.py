"""A worker's own picture work runs on threads that yield the CPU to the bot."""

from __future__ import annotations

import os
import threading

from bot.core.generation.picture_threads import NICENESS, in_background


def niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


async def test_picture_work_runs_at_a_lower_priority_than_the_event_loop() -> None:
    loop_thread = niceness()
    picture_thread = await in_background(niceness)
    assert picture_thread == min(19, loop_thread + NICENESS)
    assert niceness() == loop_thread  # the caller's own priority is left alone
