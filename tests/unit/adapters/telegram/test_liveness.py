"""Telegram's poll liveness behind /healthz (the e2e tests in tests/e2e/test_health.py
take the real connections away; these pin the timing rules with an injected clock)."""

from __future__ import annotations

from bot.adapters.telegram.liveness import MARGIN_SECONDS, PollLiveness


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_poll_failure_is_unhealthy_at_once_and_a_success_heals_it() -> None:
    clock = Clock()
    liveness = PollLiveness(10, clock=clock)
    assert not liveness.healthy()  # nothing has reached Telegram yet
    liveness.succeeded()
    assert liveness.healthy()
    liveness.failed()
    assert not liveness.healthy()
    clock.now += 1
    liveness.succeeded()
    assert liveness.healthy()


def test_a_poller_that_stopped_polling_goes_unhealthy_after_a_poll_and_the_margin() -> None:
    clock = Clock()
    liveness = PollLiveness(10, clock=clock)
    liveness.succeeded()
    clock.now += 10 + MARGIN_SECONDS
    assert liveness.healthy()
    clock.now += 0.5
    assert not liveness.healthy()
