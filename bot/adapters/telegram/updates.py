"""Every update is handled as a command owed its acknowledgement (bot/core/delivery/acknowledgements.py)
until the bot has answered it, so the delivery of finished pictures waits for it."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from telegram.ext import SimpleUpdateProcessor

from bot.core.delivery.acknowledgements import Acknowledgements

MAX_CONCURRENT_UPDATES = 256  # what `concurrent_updates(True)` allows


class AcknowledgementsFirst(SimpleUpdateProcessor):
    __slots__ = ("acknowledgements",)

    def __init__(self, acknowledgements: Acknowledgements) -> None:
        super().__init__(MAX_CONCURRENT_UPDATES)
        self.acknowledgements = acknowledgements

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # Paid early by the acknowledgement (Intake.acknowledge), at the latest when done.
        with self.acknowledgements.owed():
            await coroutine
