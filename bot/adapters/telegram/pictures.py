"""Pictures users send with a command: found on the message (or the one it replies to),
size-checked from what Telegram says, then downloaded from the Bot API's file URL only.

The download streams with aiohttp (already the adapter's HTTP client) instead of PTB's
`File.download_as_bytearray`, because that one reads the whole body before anything can
stop it: here the cap (MAX_INPUT_IMAGE_MB) is checked from `file_size` before downloading,
from the Content-Length header, and again on every chunk, so a file that is bigger than it
said costs at most the cap. The URL must start with the configured base file URL: a file
path from anywhere else (a local Bot API server's absolute path) is never read.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from telegram import Bot, Message
from telegram.error import BadRequest

from bot.core.errors import BadInputImage
from bot.core.language import Number, Text

CHUNK = 64 * 1024
BOT_API_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # what getFile serves at most
TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=10, sock_read=20)


@dataclass(frozen=True)
class Picture:
    file_id: str
    file_size: int | None


def picture_of(message: Message) -> Picture | None:
    """The photo (its largest size) or file on the message, else on the message it replies
    to. A file of any type counts: the core decides by decoding, never by the name."""
    for candidate in (message, message.reply_to_message, message.external_reply):
        if candidate is None:
            continue
        if candidate.photo:
            largest = candidate.photo[-1]
            return Picture(largest.file_id, largest.file_size)
        if candidate.document is not None:
            return Picture(candidate.document.file_id, candidate.document.file_size)
    return None


def too_big(max_bytes: int) -> BadInputImage:
    return BadInputImage(
        Text(
            "That picture is larger than {size} MB; send a smaller one.",
            size=Number(max_bytes / 1_000_000),
        )
    )


NOT_FROM_TELEGRAM = Text("That picture is not on Telegram's file server; send it again.")
NOT_HANDED_OVER = Text("Telegram could not hand over that picture; send it again.")
NOT_DOWNLOADED = Text("The picture could not be downloaded; send it again.")


class PictureDownloads:
    def __init__(self, bot: Bot, max_bytes: int, *, local_dir: Path | None = None) -> None:
        self.local_dir = local_dir.resolve() if local_dir is not None else None
        self.bot = bot
        self.max_bytes = min(max_bytes, BOT_API_DOWNLOAD_LIMIT)
        self._session: aiohttp.ClientSession | None = None

    def check(self, picture: Picture) -> None:
        """Refuse from the size Telegram gives, before anything is acknowledged or fetched."""
        if picture.file_size is not None and picture.file_size > self.max_bytes:
            raise too_big(self.max_bytes)

    async def fetch(self, picture: Picture) -> bytes:
        self.check(picture)
        try:
            file = await self.bot.get_file(picture.file_id)
        except BadRequest as exc:
            if "too big" in exc.message.lower():
                raise too_big(self.max_bytes) from None
            raise BadInputImage(
                "Telegram could not hand over that picture; send it again."
            ) from None
        if file.file_size is not None and file.file_size > self.max_bytes:
            raise too_big(self.max_bytes)
        url = file.file_path or ""
        if os.path.isabs(url):
            return await asyncio.to_thread(self._read_local, url)
        if not url.startswith(self.bot.base_file_url + "/"):
            raise BadInputImage(NOT_FROM_TELEGRAM)
        return await self._stream(url)

    def _read_local(self, given: str) -> bytes:
        """A `--local` server's file, only inside the configured directory (run in a thread)."""
        if self.local_dir is None:
            raise BadInputImage(NOT_FROM_TELEGRAM)
        try:
            path = Path(given).resolve(strict=True)
            if not path.is_relative_to(self.local_dir) or not path.is_file():
                raise BadInputImage(NOT_FROM_TELEGRAM)
            if path.stat().st_size > self.max_bytes:
                raise too_big(self.max_bytes)
            with path.open("rb") as handle:
                data = handle.read(self.max_bytes + 1)
        except OSError:
            raise BadInputImage(NOT_FROM_TELEGRAM) from None
        if len(data) > self.max_bytes:
            raise too_big(self.max_bytes)
        return data

    async def _stream(self, url: str) -> bytes:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        received = bytearray()
        try:
            async with self._session.get(url, allow_redirects=False) as response:
                if response.status != 200:
                    raise BadInputImage(NOT_HANDED_OVER)
                if (response.content_length or 0) > self.max_bytes:
                    raise too_big(self.max_bytes)
                async for chunk in response.content.iter_chunked(CHUNK):
                    received += chunk
                    if len(received) > self.max_bytes:
                        raise too_big(self.max_bytes)
        except (aiohttp.ClientError, TimeoutError):
            raise BadInputImage(NOT_DOWNLOADED) from None
        return bytes(received)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
