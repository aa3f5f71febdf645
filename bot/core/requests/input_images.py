"""Pictures users send: checked and cleaned off the event loop, and moderated.

The adapter hands over the bytes it downloaded (within MAX_INPUT_IMAGE_MB, enforced while
streaming); `images.load_input` checks them by decoding (PNG, JPEG, WebP, a GIF's first
frame), refuses decompression bombs from the header and strips every piece of metadata.
It runs in a thread: decoding a large photo takes tens of milliseconds of CPU.

A picture in hand costs memory until its job is queued: the download, the decoded pixels,
the cleaned copy and the job's message (about 10 MB for a 2 MB phone photo). A burst of
photos must not hold all of them at once, so each bot process handles `PICTURES_AT_ONCE`
(download, check, clean, queue) and the rest wait their turn after their acknowledgement,
holding nothing but the file's id. The cleaning runs on threads of its own, as many as
that: the pixels of every picture then come from the same few malloc arenas, which are
reused, rather than from a new arena on each thread of the default pool.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from functools import partial

from bot.core.images.parameters import generation_parameters
from bot.core.images.pixels import InputImage, file_type, load_input
from bot.core.limits.safety import Moderator
from bot.settings import Settings

PICTURES_AT_ONCE = 2  # one on the network while the other decodes


class InputImages:
    def __init__(self, settings: Settings, moderator: Moderator | None) -> None:
        self._max_bytes = int(settings.max_input_image_mb * 1_000_000)
        self._moderator = moderator
        self._slots = asyncio.Semaphore(PICTURES_AT_ONCE)
        self._threads = ThreadPoolExecutor(PICTURES_AT_ONCE, thread_name_prefix="input-images")

    def slot(self) -> AbstractAsyncContextManager[None]:
        """Held from the download of a user's picture until its job is queued (or refused)."""
        return self._slots

    async def clean(self, data: bytes) -> InputImage:
        """The picture made safe, or a plain-words BadInputImage."""
        clean = partial(load_input, data, max_bytes=self._max_bytes)
        return await asyncio.get_running_loop().run_in_executor(self._threads, clean)

    def own_parameters(self, data: bytes) -> tuple[str, ...]:
        """The prompt a picture says it was made with (AUTOMATIC1111's or ComfyUI's PNG
        text), read before cleaning removes it; empty when it says nothing or is too big."""
        if len(data) > self._max_bytes:
            return ()
        found = generation_parameters(data)
        return (found.prompt,) if found is not None and found.prompt.strip() else ()

    async def flagged(self, data: bytes) -> bool:
        """The moderation check on a cleaned picture, where the moderator takes pictures."""
        check = getattr(self._moderator, "flagged_image", None)
        if check is None:
            return False
        _extension, mime = file_type(data)
        return bool(await check(data, mime))
