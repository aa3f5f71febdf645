"""Pictures users send: checked and cleaned off the event loop, and moderated.

The adapter hands over the bytes it downloaded (within MAX_INPUT_IMAGE_MB, enforced while
streaming); `images.load_input` checks them by decoding (PNG, JPEG, WebP, a GIF's first
frame), refuses decompression bombs from the header and strips every piece of metadata.
It runs in a thread: decoding a large photo takes tens of milliseconds of CPU.
"""

from __future__ import annotations

import asyncio

from bot.core.image_parameters import generation_parameters
from bot.core.images import InputImage, file_type, load_input
from bot.core.safety import Moderator
from bot.settings import Settings


class InputImages:
    def __init__(self, settings: Settings, moderator: Moderator | None) -> None:
        self._max_bytes = int(settings.max_input_image_mb * 1_000_000)
        self._moderator = moderator

    async def clean(self, data: bytes) -> InputImage:
        """The picture made safe, or a plain-words BadInputImage."""
        return await asyncio.to_thread(load_input, data, max_bytes=self._max_bytes)

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
