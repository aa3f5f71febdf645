"""The typed job and events: msgpack round trips, what older releases wrote, and what
happens to a message nobody can read (dead-lettered, never acted on, never blocking)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgpack
import msgspec
import pytest
from prometheus_client import REGISTRY

from bot.core.generation.deadletters import dead_letter_key
from bot.core.generation.events import EVENT_FIELD, EVENT_GROUP, EventConsumer, publish
from bot.core.generation.jobs import generate
from bot.core.generation.queue import EmbeddedRedis, pack, unpack, unpack_job
from bot.core.messages import (
    SCHEMA_VERSION,
    BadMessage,
    Done,
    DoneImage,
    Event,
    Failed,
    JobMessage,
    Progress,
    Started,
    decode_event,
    encode_event,
    job_from_wire,
    job_to_wire,
)
from bot.settings import Settings

STREAM = "imaginebot:events:test"
JOB = JobMessage(
    generation_id="g1",
    prompt="a cat, anime style",
    negative_prompt="blurry",
    aspect="3:2",
    seed=42,
    style="anime",
    providers=("openai", "horde"),
    hints={"horde": {"steps": 30, "sampler": "k_euler", "karras": True, "cfg": 7.5}},
    reply_stream=STREAM,
    created_at=1700000000.5,
    nsfw=True,
)
EVENTS: list[Event] = [
    Started(generation_id="g1", ts=1.0, provider="openai", attempt=2),
    Progress(generation_id="g1", ts=2.0, position=3, detail="waiting", eta=4.5),
    Done(
        generation_id="g1",
        ts=3.0,
        provider="openai",
        model="gpt-image-1",
        image=b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
        seed=7,
        revised_prompt="a cat",
        provider_calls=2,
    ),
    Failed(generation_id="g1", ts=4.0, code="refused", reason="No.", provider_calls=1),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.kind)
def test_every_event_survives_msgpack(event: Event) -> None:
    data = encode_event(event)
    assert decode_event(data) == event
    # On the wire it is a plain msgpack map with its kind and the schema version.
    wire = msgpack.unpackb(data, raw=False)
    assert wire["type"] == event.kind and wire["v"] == SCHEMA_VERSION


def test_the_job_survives_the_arq_envelope() -> None:
    envelope = unpack(pack({"f": "generate", "a": [job_to_wire(JOB)], "k": {}, "et": 1}))
    assert job_from_wire(envelope["a"][0]) == JOB


def test_what_the_previous_release_wrote_is_read_as_version_1() -> None:
    # Jobs and events as the untyped release packed them: no `v`, same field names.
    old_done = msgpack.packb(
        {
            "type": "done",
            "generation_id": "g0",
            "ts": 5.0,
            "provider": "openai",
            "model": "m",
            "seed": None,
            "revised_prompt": None,
            "censored": False,
            "image": b"png",
            "provider_calls": 1,
        },
        use_bin_type=True,
    )
    event = decode_event(old_done)
    # Read as version 1: its one image, and no images list of version 2.
    assert isinstance(event, Done) and event.pictures == (b"png",) and event.images == ()
    old_job = {k: v for k, v in job_to_wire(JOB).items() if k != "v"}
    old_job["providers"] = list(old_job["providers"])
    read = job_from_wire(old_job)
    assert read == JOB
    # A version-1 job is one text-to-image picture.
    assert (read.operation, read.count, read.init_image) == ("generate", 1, None)


def test_version_2_carries_the_count_the_input_picture_and_every_image() -> None:
    job = msgspec.structs.replace(
        JOB, operation="generate", count=4, init_image=b"\x89PNG-bytes", strength=0.35
    )
    wire = job_to_wire(job)
    assert wire["v"] == 2 and wire["init_image"] == b"\x89PNG-bytes"
    envelope = unpack(pack({"f": "generate", "a": [wire], "k": {}, "et": 1}))
    assert job_from_wire(envelope["a"][0]) == job
    done = Done(
        generation_id="g2",
        ts=1.0,
        provider="openai",
        model="m",
        images=tuple(DoneImage(data=bytes([k]) * 3, width=8, height=8, seed=k) for k in range(4)),
        crop_note="made at 1536x1024 (3:2), cropped to 16:9",
    )
    read = decode_event(encode_event(done))
    assert isinstance(read, Done) and read == done
    assert read.pictures == (b"\x00" * 3, b"\x01" * 3, b"\x02" * 3, b"\x03" * 3)


def test_an_unknown_version_is_refused_with_its_request_named() -> None:
    newer = msgpack.packb({**msgpack.unpackb(encode_event(EVENTS[0])), "v": 9})
    with pytest.raises(BadMessage, match="schema version 9") as caught:
        decode_event(newer)
    assert caught.value.generation_id == "g1"
    with pytest.raises(BadMessage, match="schema version 9"):
        job_from_wire({**job_to_wire(JOB), "v": 9})


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc1",  # never valid msgpack
        msgpack.packb([1, 2, 3]),
        msgpack.packb({"type": "exploded", "generation_id": "g1", "ts": 1.0}),
        msgpack.packb({"type": "done", "generation_id": "g1", "ts": 1.0, "image": "text"}),
        encode_event(EVENTS[2])[:-10],  # cut short
    ],
)
def test_malformed_event_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(BadMessage):
        decode_event(data)


def test_a_malformed_job_is_refused_without_quoting_it() -> None:
    with pytest.raises(BadMessage) as caught:
        job_from_wire({**job_to_wire(JOB), "prompt": 5, "aspect": "7:1"})
    assert caught.value.generation_id == "g1"
    assert "a cat" not in caught.value.reason


async def never_lost() -> None:
    raise AssertionError("the stream was not lost")


def dead_letters_counted(kind: str) -> float:
    return REGISTRY.get_sample_value("imaginebot_dead_letters_total", {"kind": kind}) or 0.0


def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, openai_api_key="sk-x")  # type: ignore[call-arg]


async def test_the_consumer_dead_letters_bad_events_and_handles_the_next(tmp_path: Path) -> None:
    redis = EmbeddedRedis().pool(settings(tmp_path))
    handled: list[Event] = []
    got_good = asyncio.Event()

    async def handle(event: Event) -> None:
        handled.append(event)
        got_good.set()

    consumer = EventConsumer(redis=redis, stream=STREAM, handle=handle, on_stream_lost=never_lost)
    await redis.xadd(STREAM, {EVENT_FIELD: b"\xc1garbage"})
    await redis.xadd(STREAM, {b"other": b"field"})
    await redis.xadd(
        STREAM, {EVENT_FIELD: msgpack.packb({"type": "exploded", "generation_id": "g9", "ts": 1})}
    )
    await publish(redis, STREAM, EVENTS[3])
    counted_before = dead_letters_counted("event")
    consumer.start()
    try:
        await asyncio.wait_for(got_good.wait(), 10)
        await asyncio.sleep(0.2)
    finally:
        await consumer.stop()
    assert handled == [EVENTS[3]]
    letters = await redis.xrange(dead_letter_key(STREAM))
    assert [f[b"raw"] for _, f in letters] == [
        b"\xc1garbage",
        b"",
        msgpack.packb({"type": "exploded", "generation_id": "g9", "ts": 1}),
    ]
    assert [f[b"generation_id"] for _, f in letters] == [b"", b"", b"g9"]
    assert b"exploded" in letters[2][1][b"reason"]
    assert dead_letters_counted("event") - counted_before == 3
    # Acknowledged and deleted: nothing left pending or in the stream.
    assert (await redis.xpending(STREAM, EVENT_GROUP))["pending"] == 0
    assert await redis.xlen(STREAM) == 0


class NoRuntime:
    def __init__(self, redis: Any) -> None:
        self.redis = redis

    async def run(self, *_args: Any) -> dict[str, Any]:
        raise AssertionError("an unreadable job must never run")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (unpack_job(b"\xc1\x00")["a"][0], "not msgpack"),
        (unpack_job(pack(["not", "an", "envelope"]))["a"][0], "not an ARQ job"),
        ({**job_to_wire(JOB), "seed": "many"}, "Expected `int`"),
        ({**job_to_wire(JOB), "v": 9}, "schema version 9"),
    ],
)
async def test_an_unreadable_job_is_dead_lettered_not_run(
    tmp_path: Path, payload: object, reason: str
) -> None:
    redis = EmbeddedRedis().pool(settings(tmp_path))
    ctx = {"runtime": NoRuntime(redis), "queue_name": "q", "job_try": 1, "job_id": "g1"}
    assert await generate(ctx, payload) == {"status": "dead-lettered"}
    (letter,) = await redis.xrange(dead_letter_key("q"))
    assert reason in letter[1][b"reason"].decode()
    assert letter[1][b"kind"] == b"job"


def test_an_edit_job_is_version_3_and_carries_its_mask_as_bytes() -> None:
    """An edit (inpaint / outpaint / edit by words) is the one job a version-2 worker would
    misread as plain image to image, so it alone is version 3 and carries the mask as bytes."""
    edit = msgspec.structs.replace(
        JOB, v=3, operation="outpaint", init_image=b"\xff\xd8\xffcanvas", mask=b"\x89PNGmask"
    )
    wire = job_to_wire(edit)
    assert wire["v"] == 3 and wire["mask"] == b"\x89PNGmask"
    assert job_from_wire(msgpack.unpackb(msgpack.packb(wire))) == edit
    assert job_to_wire(JOB)["v"] == 2 and job_to_wire(JOB)["mask"] is None
