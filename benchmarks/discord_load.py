"""Drives /imagine interactions through the fake Discord's gateway, as Discord's users would.

Payloads are built before the clock starts; the sending loop runs on the fake's own event
loop and sends each one at its scheduled offset, so the schedule is not disturbed by the
harness. Times are the fake's own (`dispatched_at` when the gateway sent the interaction,
`responded_at` when the acknowledgement arrived, the first upload for the image).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from benchmarks.fake_platforms import FastDiscordDriver
from benchmarks.stats import summarize
from tests.fakes.discord_gateway import command_options, interaction_payload
from tests.support import wait_for

LATE_ACK_SECONDS = 3.0


class DiscordLoad:
    def __init__(self, driver: FastDiscordDriver) -> None:
        self.driver = driver
        self.fake = driver.fake
        self._serial = 0

    def payloads(
        self, count: int, users: int, label: str, options: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """/imagine interactions; `options` are further /imagine options (`{"count": 4}`)."""
        fake, driver = self.fake, self.driver
        data_for: dict[int, Any] = {}
        result = []
        for i in range(count):
            self._serial += 1
            data = command_options(
                fake,
                "imagine",
                driver.guild_id,
                {"prompt": f"{label} picture {self._serial}", **(options or {})},
            )
            data_for[i] = data
            result.append(
                interaction_payload(
                    fake,
                    2,
                    data,
                    user=driver.user(f"user{i % users}"),
                    channel_id=driver.channel_id,
                    guild_id=driver.guild_id,
                    permissions=0x7FFFFFFF,
                )
            )
        return result

    def send(self, payloads: list[dict[str, Any]], offsets: list[float]) -> list[str]:
        """Dispatch payload i at `offsets[i]` seconds from now; returns the interaction ids."""
        gateway = self.fake.gateway

        async def run() -> None:
            loop = asyncio.get_running_loop()
            start = loop.time()
            for payload, offset in zip(payloads, offsets, strict=True):
                delay = start + offset - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                await gateway.dispatch(payload)

        span = offsets[-1] if offsets else 0.0
        self.driver.server.call(run(), timeout=span + 60)
        return [p["id"] for p in payloads]

    def warm_up(self, count: int = 4) -> None:
        """A few requests through the whole pipeline first: connections, caches, first calls."""
        ids = self.send(self.payloads(count, count, "warm-up"), [0.0] * count)
        if self.wait_images(ids, 30) < count:
            raise RuntimeError("the warm-up requests were not delivered")

    # -- results --------------------------------------------------------------------------------

    def wait_acks(self, ids: list[str], timeout: float) -> None:
        interactions = self.fake.interactions
        deadline = time.monotonic() + timeout

        def acked() -> bool:
            return all(interactions[i].responded_at is not None for i in ids)

        # An ack can never come after the 3 s deadline (the fake refuses it), so waiting stops.
        try:
            wait_for(acked, max(0.1, deadline - time.monotonic()), interval=0.1)
        except AssertionError:
            pass

    def ack_stats(self, ids: list[str]) -> dict[str, Any]:
        interactions = self.fake.interactions
        seconds = [
            r.responded_at - r.dispatched_at
            for r in (interactions[i] for i in ids)
            if r.responded_at is not None
        ]
        missing = len(ids) - len(seconds)
        stats = summarize("ack", seconds)
        stats["acks_missing"] = missing
        stats["late_acks"] = missing + sum(1 for s in seconds if s > LATE_ACK_SECONDS)
        stats["callback_types"] = sorted(
            {r.response_type for r in (interactions[i] for i in ids) if r.response_type}
        )
        return stats

    def wait_images(self, ids: list[str], timeout: float) -> int:
        image_at = self.fake.image_at

        def count() -> int:
            return sum(1 for i in ids if i in image_at)

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if count() >= len(ids):
                break
            time.sleep(0.1)
        return count()

    def image_seconds(self, ids: list[str]) -> list[float]:
        """Command sent -> image received by the fake, for each delivered request."""
        image_at, interactions = self.fake.image_at, self.fake.interactions
        return [image_at[i] - interactions[i].dispatched_at for i in ids if i in image_at]

    def delivered_span(self, ids: list[str]) -> float:
        """First command sent -> last image received."""
        image_at, interactions = self.fake.image_at, self.fake.interactions
        times = [image_at[i] for i in ids if i in image_at]
        if not times:
            return 0.0
        return max(times) - min(interactions[i].dispatched_at for i in ids)
