"""Where a message nobody here can read goes: a capped Redis stream, for the operator to look at.

A job or event that fails `messages` is never acted on and never retried (it would fail the
same way each time); it is logged, copied here with the reason, and taken off its queue or
stream so it blocks nothing. The stream is `imaginebot:dead-letters:<source>`, where the source
is the queue or event stream it came from. Each entry keeps at most `RAW_LIMIT` bytes of the
message (a broken "done" event may carry a whole image) and the stream keeps only the newest
`MAX_ENTRIES`, so a flood of bad messages cannot fill Redis.
"""

from __future__ import annotations

import logging
import time

from redis.asyncio import Redis

from bot.core import metrics

log = logging.getLogger(__name__)

MAX_ENTRIES = 1000
RAW_LIMIT = 64 * 1024


def dead_letter_key(source: str) -> str:
    return f"imaginebot:dead-letters:{source}"


async def dead_letter(
    redis: Redis,
    *,
    kind: str,
    source: str,
    raw: bytes,
    reason: str,
    generation_id: str | None = None,
) -> None:
    """Log a message that could not be read and keep a bounded copy of it."""
    log.warning(
        "generation %s: unreadable %s from %s set aside (%s)",
        generation_id or "?",
        kind,
        source,
        reason,
    )
    metrics.DEAD_LETTERS.labels(kind).inc()
    await redis.xadd(
        dead_letter_key(source),
        {
            b"kind": kind.encode(),
            b"reason": reason.encode(),
            b"generation_id": (generation_id or "").encode(),
            b"size": str(len(raw)).encode(),
            b"raw": raw[:RAW_LIMIT],
            b"ts": repr(time.time()).encode(),
        },
        maxlen=MAX_ENTRIES,
        approximate=True,
    )
