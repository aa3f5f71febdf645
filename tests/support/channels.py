"""The recording result channel: what a platform adapter would be to the core's delivery loop,
for tests that run the core without a platform. It keeps what the loop handed it (the posted
bytes, when, the failure words) and lets a test wait for it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from bot.core.models import Generation, StatusUpdate

WAIT_SECONDS = 30.0


class RecordingChannel:
    """Registers like an adapter for `platform`; `failures_allowed=False` makes a reported
    failure an error of the test (the delivery loop logs it and the wait names it)."""

    def __init__(self, platform: str = "test", *, failures_allowed: bool = True) -> None:
        self.platform = platform
        self.failures_allowed = failures_allowed
        self.delivered: dict[str, tuple[Generation, bytes]] = {}
        self.delivered_at: dict[str, float] = {}
        self.posts: list[str] = []  # every post in order: a generation twice is a double post
        self.failed: dict[str, str] = {}
        self._changed = asyncio.Condition()

    @property
    def images(self) -> dict[str, bytes]:
        return {gid: data for gid, (_generation, data) in self.delivered.items()}

    async def show_status(self, generation: Generation, update: StatusUpdate) -> None:
        return None

    async def deliver(self, generation: Generation, image_path: Path) -> None:
        at = time.monotonic()
        async with self._changed:
            self.delivered_at.setdefault(generation.id, at)
            self.delivered[generation.id] = (generation, image_path.read_bytes())
            self.posts.append(generation.id)
            self._changed.notify_all()

    async def report_failure(self, generation: Generation) -> None:
        async with self._changed:
            self.failed[generation.id] = str(generation.failure_reason)
            self._changed.notify_all()
        if not self.failures_allowed:
            raise AssertionError(generation.failure_reason)

    async def _until(self, done: Callable[[], bool], timeout: float) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(done), timeout)

    async def settled(self, generation_id: str, timeout: float = WAIT_SECONDS) -> None:
        """Until the generation was posted or reported failed."""
        await self._until(
            lambda: generation_id in self.delivered or generation_id in self.failed, timeout
        )

    async def result(
        self, generation_id: str, timeout: float = WAIT_SECONDS
    ) -> tuple[Generation, bytes]:
        """The delivered generation and the bytes posted; a failure fails the test."""
        await self.settled(generation_id, timeout)
        assert generation_id not in self.failed, self.failed[generation_id]
        return self.delivered[generation_id]

    async def settled_count(self, count: int, timeout: float = WAIT_SECONDS) -> None:
        """Until `count` generations were posted or reported failed."""
        await self._until(lambda: len(self.delivered) + len(self.failed) >= count, timeout)
