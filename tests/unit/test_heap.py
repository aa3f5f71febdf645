"""Objects alive after start-up are exempt from later garbage collections."""

from __future__ import annotations

import gc

from bot.heap import freeze_start_up_objects


class Kept:
    pass


def test_what_is_alive_after_start_up_is_frozen_and_garbage_is_not() -> None:
    kept = Kept()
    cycle: list[object] = []
    cycle.append(cycle)  # garbage that only the cyclic collector frees
    del cycle
    try:
        frozen = freeze_start_up_objects()
        assert frozen == gc.get_freeze_count() > 0
        # Collected first, then frozen: the cycle is gone, the live object is in the
        # permanent generation (no generation lists it any more).
        assert not any(isinstance(o, list) and o and o[0] is o for o in gc.get_objects())
        assert all(o is not kept for o in gc.get_objects())
    finally:
        gc.unfreeze()
    assert any(o is kept for o in gc.get_objects())
