"""Result channels for tests that run the core without a platform: each records what the delivery
loop handed it (the image bytes, the failure words) and lets the test wait for it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.core.models import (
    Generation,
    StatusUpdate,
)


class Collect:
    platform = "bench"

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.delivered: list[str] = []
        self.failed: list[str] = []
        self.done = asyncio.Event()

    async def show_status(self, generation: Generation, update: StatusUpdate) -> None:
        return None

    async def deliver(self, generation: Generation, image_path: Path) -> None:
        self.delivered.append(generation.id)
        self._check()

    async def report_failure(self, generation: Generation) -> None:
        self.failed.append(str(generation.failure_reason))
        self._check()

    def _check(self) -> None:
        if len(self.delivered) + len(self.failed) >= self.expected:
            self.done.set()


class Delivered:
    platform = "dlq"

    def __init__(self) -> None:
        self.images: dict[str, bytes] = {}
        self.event = asyncio.Event()

    async def show_status(self, generation: Generation, update: StatusUpdate) -> None:
        return None

    async def deliver(self, generation: Generation, image_path: Path) -> None:
        self.images[generation.id] = image_path.read_bytes()
        self.event.set()

    async def report_failure(self, generation: Generation) -> None:
        raise AssertionError(generation.failure_reason)


class Results:
    """A result channel that keeps what it was given, as an adapter would post it."""

    platform = "cli"

    def __init__(self) -> None:
        self.delivered: dict[str, tuple[Generation, bytes]] = {}
        self.failed: dict[str, str] = {}
        self._arrived = asyncio.Condition()

    async def show_status(self, generation: Generation, update: StatusUpdate) -> None:
        return None

    async def deliver(self, generation: Generation, image_path: Path) -> None:
        async with self._arrived:
            self.delivered[generation.id] = (generation, image_path.read_bytes())
            self._arrived.notify_all()

    async def report_failure(self, generation: Generation) -> None:
        async with self._arrived:
            self.failed[generation.id] = str(generation.failure_reason)
            self._arrived.notify_all()

    async def result(self, generation_id: str) -> tuple[Generation, bytes]:
        async with self._arrived:
            await asyncio.wait_for(
                self._arrived.wait_for(
                    lambda: generation_id in self.delivered or generation_id in self.failed
                ),
                30,
            )
        assert generation_id not in self.failed, self.failed[generation_id]
        return self.delivered[generation_id]
