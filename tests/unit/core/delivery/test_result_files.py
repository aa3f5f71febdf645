"""A finished request's files: the originals byte for byte, and the grid the worker sent
stored as it came (composed here only when a done event from an older worker has none)."""

from __future__ import annotations

import io
import time
from pathlib import Path

from fakeredis import FakeAsyncRedis
from PIL import Image

from bot.core.delivery.result_files import store_result
from bot.core.generation.jobs import WorkerRuntime
from bot.core.generation.operations import Outcome
from bot.core.generation.providers.base import ProviderImage
from bot.core.images.files import ImageFiles
from bot.core.images.pixels import compose_grid
from bot.core.messages import Done, DoneImage, Event

GEN_ID = "0123456789abcdef"


def png(colour: tuple[int, int, int], side: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), colour).save(out, format="PNG")
    return out.getvalue()


def done(pictures: list[bytes], grid: bytes = b"") -> Done:
    images = tuple(
        DoneImage(data=data, width=64, height=64, seed=10 + i) for i, data in enumerate(pictures)
    )
    return Done(
        generation_id=GEN_ID, ts=time.time(), provider="p", model="m", images=images, grid=grid
    )


def test_the_grid_a_worker_sent_is_stored_as_it_came(tmp_path: Path) -> None:
    pictures = [png((200, 0, 0)), png((0, 200, 0)), png((0, 0, 200)), png((90, 90, 90))]
    # A grid no bot would compose from these (other pictures, other size): it must be stored
    # byte for byte, not made again.
    sent = compose_grid([png((1, 2, 3), 100)] * 2).data
    stored = store_result(ImageFiles(tmp_path), GEN_ID, done(pictures, sent))
    assert stored.path is not None and Path(stored.path).read_bytes() == sent
    assert (stored.width, stored.height) == Image.open(io.BytesIO(sent)).size
    assert [Path(i.path).read_bytes() for i in stored.images] == pictures
    assert [i.seed for i in stored.images] == [10, 11, 12, 13]


def test_a_done_event_without_a_grid_has_it_composed_here(tmp_path: Path) -> None:
    pictures = [png((200, 0, 0)), png((0, 200, 0))]
    stored = store_result(ImageFiles(tmp_path), GEN_ID, done(pictures))
    assert stored.path is not None
    expected = compose_grid(pictures)
    assert Path(stored.path).read_bytes() == expected.data
    assert (stored.width, stored.height) == (expected.width, expected.height)


async def test_a_worker_sends_the_grid_with_several_images_and_none_with_one() -> None:

    pictures = [png((200, 0, 0)), png((0, 200, 0)), png((0, 0, 200))]
    runtime = WorkerRuntime(
        FakeAsyncRedis(),  # type: ignore[arg-type]
        {},
        max_tries=1,
        backoff_seconds=0,
    )
    sent: list[Event] = []

    async def emit(event: Event) -> None:
        sent.append(event)

    def outcome(datas: list[bytes]) -> Outcome:
        images = tuple(ProviderImage(data=d, model="m", seed=i) for i, d in enumerate(datas))
        return Outcome(model="m", images=images)

    await runtime._done(emit, GEN_ID, "p", outcome(pictures))
    await runtime._done(emit, GEN_ID, "p", outcome(pictures[:1]))
    several, one = sent
    assert isinstance(several, Done) and isinstance(one, Done)
    assert several.grid == compose_grid(pictures).data
    assert one.grid == b""
