"""Two bot processes on one completion stream, over a real redis-server.

A subprocess consumer (the victim) and one in this test (the survivor) read one stream in one
consumer group. Each event is handled by exactly one of them; the victim hangs on some events
and is SIGKILLed holding them, and the survivor takes them over within seconds of its death.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from arq.connections import ArqRedis

from bot.core.generation.consumers import LIVENESS_SECONDS, RENEW_SECONDS
from bot.core.generation.events import EventConsumer, publish
from bot.core.messages import Event, Failed
from tests.support import RedisServer

pytestmark = pytest.mark.e2e

STREAM = "imaginebot:events:shared-test"
COUNT = 40

VICTIM = textwrap.dedent(
    """
    import asyncio, sys
    from arq.connections import ArqRedis
    from bot.core.generation.events import EventConsumer

    async def main() -> None:
        redis = ArqRedis.from_url(sys.argv[1])

        async def handle(event) -> None:
            await redis.rpush("victim:started", event.generation_id)
            if event.generation_id.startswith("hang"):
                await asyncio.Event().wait()  # never finishes: held until the process dies
            await redis.rpush("handled", event.generation_id)

        async def lost() -> None:
            pass

        consumer = EventConsumer(
            redis=redis, stream=sys.argv[2], handle=handle, on_stream_lost=lost,
            claim_idle_seconds=600,
        )
        consumer.start()
        await redis.set("victim:ready", consumer.consumer)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


def event(gen_id: str) -> Event:
    return Failed(generation_id=gen_id, ts=time.time(), code="test", reason="test")


async def wait_until(predicate, seconds: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_each_event_once_and_a_dead_process_events_taken_over(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    redis = ArqRedis.from_url(redis_server.url)
    victim = subprocess.Popen(
        [sys.executable, "-c", VICTIM, redis_server.url, STREAM], cwd=Path(__file__).parents[2]
    )
    survivor: EventConsumer | None = None
    try:
        await wait_until(lambda: redis.exists("victim:ready"), 20)

        async def handle(ev: Event) -> None:
            await redis.rpush("handled", ev.generation_id)

        async def lost() -> None:
            pass

        survivor = EventConsumer(
            redis=redis, stream=STREAM, handle=handle, on_stream_lost=lost, claim_idle_seconds=600
        )
        survivor.start()
        await asyncio.wait_for(survivor.backlog_done.wait(), 10)
        names = [f"g{i}" for i in range(COUNT)] + [f"hang{i}" for i in range(COUNT // 4)]
        for name in names:
            await publish(redis, STREAM, event(name))

        async def victim_holds_some() -> bool:
            started = await redis.lrange("victim:started", 0, -1)
            handled = await redis.llen("handled")
            return any(s.startswith(b"hang") for s in started) and handled >= len(names) - len(
                [s for s in started if s.startswith(b"hang")]
            )

        await wait_until(victim_holds_some, 20)
        held = [s for s in await redis.lrange("victim:started", 0, -1) if s.startswith(b"hang")]
        assert held, "the victim holds no event"
        victim.kill()
        victim.wait(10)
        killed_at = time.monotonic()

        async def all_handled() -> bool:
            return int(await redis.llen("handled")) >= len(names)

        await wait_until(all_handled, LIVENESS_SECONDS + 4 * RENEW_SECONDS + 5)
        takeover = time.monotonic() - killed_at
        await asyncio.sleep(2 * RENEW_SECONDS)  # a second handling would show up by now
        handled = [h.decode() for h in await redis.lrange("handled", 0, -1)]
        assert sorted(handled) == sorted(names)  # every event once, none twice
        assert takeover < LIVENESS_SECONDS + 3 * RENEW_SECONDS + 2
        # Nothing is left pending, and the dead consumer is gone from the group.
        assert (await redis.xpending(STREAM, "bot"))["pending"] == 0
        consumers = [c["name"] for c in await redis.xinfo_consumers(STREAM, "bot")]
        assert consumers == [survivor.consumer.encode()]
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait(10)
        if survivor is not None:
            await survivor.stop()
        await redis.aclose()


async def test_a_slow_event_is_not_taken_from_a_living_process(redis_server: RedisServer) -> None:
    """The holder renews its events' idle time, so XAUTOCLAIM leaves them alone."""
    redis = ArqRedis.from_url(redis_server.url)
    release = asyncio.Event()
    handled: list[tuple[str, str]] = []

    def handler(who: str):  # type: ignore[no-untyped-def]
        async def handle(ev: Event) -> None:
            handled.append((who, ev.generation_id))
            if who == "slow":
                await release.wait()

        return handle

    async def lost() -> None:
        pass

    slow = EventConsumer(
        redis=redis,
        stream=STREAM,
        handle=handler("slow"),
        on_stream_lost=lost,
        claim_idle_seconds=1,
    )
    slow.start()
    other: EventConsumer | None = None
    try:
        await asyncio.wait_for(slow.backlog_done.wait(), 10)
        await publish(redis, STREAM, event("slow1"))

        async def started() -> bool:
            return bool(handled)

        await wait_until(started, 10)
        other = EventConsumer(
            redis=redis,
            stream=STREAM,
            handle=handler("other"),
            on_stream_lost=lost,
            claim_idle_seconds=1,
        )
        other.start()
        await asyncio.sleep(1 + 3 * RENEW_SECONDS)  # well past the claim idle time
        assert handled == [("slow", "slow1")]
        release.set()

        async def acknowledged() -> bool:
            return int((await redis.xpending(STREAM, "bot"))["pending"]) == 0

        await wait_until(acknowledged, 5)
        assert handled == [("slow", "slow1")]
    finally:
        release.set()
        for consumer in (slow, other):
            if consumer is not None:
                await consumer.stop()
        await redis.aclose()
