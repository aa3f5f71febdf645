"""Several bot processes on one completion stream: who is alive, and taking over the dead.

Every bot process reads the stream under its own consumer name in one consumer group, so
each event goes to one process. A process keeps a short-lived liveness key while it runs,
and renews the idle time of the events it is handling, so a slow delivery is never taken
from a living process. When a process dies (its liveness key expires), another claims its
unacknowledged events at once with XCLAIM and removes the dead consumer; events that stay
idle longer than the claim idle time for any other reason (a handler that failed, a process
that hangs) are claimed with XAUTOCLAIM by whoever sweeps first. The delivery's own
idempotency (edit the acknowledgement, attempt markers) makes a takeover safe.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterable

from arq.connections import ArqRedis

LIVENESS_SECONDS = 5.0  # a dead process's events are taken over this long after it died
RENEW_SECONDS = 1.5  # how often a living process says so (well inside LIVENESS_SECONDS)
DEFAULT_CLAIM_IDLE_SECONDS = 30.0


def consumer_name() -> str:
    """Unique per process run: a restarted process is a new consumer, its old self a dead one."""
    host = "".join(c for c in socket.gethostname() if c.isalnum() or c in "-_.")[:40] or "host"
    return f"{host}-{os.getpid()}-{secrets.token_hex(3)}"


def liveness_key(stream: str, consumer: str) -> str:
    return f"imaginebot:alive:{stream}:{consumer}"


async def renew(
    redis: ArqRedis, stream: str, group: str, consumer: str, held: Iterable[bytes]
) -> None:
    """Say this consumer is alive, and reset the idle time of the events it is handling."""
    ids: list[int | bytes | str | memoryview[int]] = list(held)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.set(liveness_key(stream, consumer), b"1", px=int(LIVENESS_SECONDS * 1000))
        if ids:
            pipe.xclaim(stream, group, consumer, 0, ids, justid=True)
        await pipe.execute()


async def retire(redis: ArqRedis, stream: str, consumer: str) -> None:
    """A clean stop: the events this consumer still holds may be taken over at once."""
    await redis.delete(liveness_key(stream, consumer))


async def claim_from_dead(
    redis: ArqRedis, stream: str, group: str, consumer: str
) -> list[tuple[bytes, dict[bytes, bytes]]]:
    """Claim every event held by a consumer whose liveness key is gone; forget that consumer."""
    claimed: list[tuple[bytes, dict[bytes, bytes]]] = []
    for info in await redis.xinfo_consumers(stream, group):
        name = info["name"]
        name_text = name.decode() if isinstance(name, bytes) else str(name)
        if name_text == consumer or await redis.exists(liveness_key(stream, name_text)):
            continue
        while True:
            pending = await redis.xpending_range(
                stream, group, min="-", max="+", count=100, consumername=name_text
            )
            if not pending:
                break
            ids = [entry["message_id"] for entry in pending]
            entries = await redis.xclaim(stream, group, consumer, 0, ids)
            claimed.extend((entry_id, fields) for entry_id, fields in entries if fields)
            gone = {entry_id for entry_id, fields in entries if fields} ^ set(ids)
            if gone:  # deleted from the stream meanwhile: nothing left to handle
                await redis.xack(stream, group, *gone)
        # Only an empty consumer is removed, so no event loses its place in the group.
        if not await redis.xpending_range(
            stream, group, min="-", max="+", count=1, consumername=name_text
        ):
            await redis.xgroup_delconsumer(stream, group, name_text)
    return claimed


async def claim_idle(
    redis: ArqRedis, stream: str, group: str, consumer: str, idle_seconds: float
) -> list[tuple[bytes, dict[bytes, bytes]]]:
    """XAUTOCLAIM every event nobody has touched for `idle_seconds`."""
    claimed: list[tuple[bytes, dict[bytes, bytes]]] = []
    start: bytes | str = "0-0"
    while True:
        response = await redis.xautoclaim(
            stream, group, consumer, int(idle_seconds * 1000), start_id=start, count=100
        )
        start, entries = response[0], response[1]
        claimed.extend((entry_id, fields) for entry_id, fields in entries if fields)
        if start in (b"0-0", "0-0"):
            return claimed
