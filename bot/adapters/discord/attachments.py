"""Pictures members attach (`/imagine image:`, `/describe`): fetched from Discord's CDN
only, with MAX_INPUT_IMAGE_MB enforced while the file streams in.

Written here rather than with `discord.Attachment.read()`: that reads the whole file into
memory with no cap, from whatever URL the interaction names. Here the URL must be Discord's
CDN (or `DISCORD_CDN_URL`), the size Discord declared is checked before anything is fetched
(cheap enough to answer before the acknowledgement), and the download stops as soon as it
passes the cap, whatever the declared size said. What comes back is checked by decoding in
the core (`bot/core/images/pixels.py`), never by its name or content type.
"""

from __future__ import annotations

import aiohttp
import discord
import yarl

from bot.adapters.discord.webhook import client_session
from bot.core.errors import BadInputImage
from bot.core.language import Number, Text
from bot.settings import Settings

DISCORD_CDN_HOSTS = ("cdn.discordapp.com", "media.discordapp.net")
CHUNK = 64 * 1024
DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=30, sock_connect=10)
NOT_FROM_DISCORD = Text("That attachment does not come from Discord, so the bot will not fetch it.")
NOT_FETCHED = Text(
    "The attached picture could not be fetched from Discord. Please attach it again."
)


def _origin(url: yarl.URL) -> tuple[str, str, int | None]:
    return url.scheme, (url.host or "").lower(), url.port


class AttachmentFetcher:
    def __init__(self, client: discord.Client, settings: Settings) -> None:
        self._client = client
        self.max_bytes = int(settings.max_input_image_mb * 1_000_000)
        if settings.discord_cdn_url:
            self._origins = {_origin(yarl.URL(settings.discord_cdn_url))}
        else:
            self._origins = {("https", host, 443) for host in DISCORD_CDN_HOSTS}

    def _too_big(self, size: int | None = None) -> BadInputImage:
        cap = Number(round(self.max_bytes / 1_000_000))
        if size is None:
            return BadInputImage(
                Text("That picture is larger than the {cap} MB this bot takes.", cap=cap)
            )
        return BadInputImage(
            Text(
                "That picture is {size} MB; the most this bot takes is {cap} MB.",
                size=Number(round(size / 1_000_000, 1)),
                cap=cap,
            )
        )

    def check(self, attachment: discord.Attachment) -> None:
        """What can be refused without fetching anything: the host and the declared size."""
        if _origin(yarl.URL(attachment.url)) not in self._origins:
            raise BadInputImage(NOT_FROM_DISCORD)
        if attachment.size > self.max_bytes:
            raise self._too_big(attachment.size)

    async def read(self, attachment: discord.Attachment) -> bytes:
        """The file's bytes, at most `max_bytes` of them (BadInputImage past that)."""
        self.check(attachment)
        received = bytearray()
        try:
            async with client_session(self._client).get(
                attachment.url, timeout=DOWNLOAD_TIMEOUT, allow_redirects=False
            ) as response:
                if response.status != 200:
                    raise BadInputImage(NOT_FETCHED)
                declared = response.content_length
                if declared is not None and declared > self.max_bytes:
                    raise self._too_big(declared)
                async for chunk in response.content.iter_chunked(CHUNK):
                    received += chunk
                    if len(received) > self.max_bytes:
                        raise self._too_big()
        except (aiohttp.ClientError, TimeoutError):
            raise BadInputImage(NOT_FETCHED) from None
        return bytes(received)
