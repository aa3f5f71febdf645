"""Discord's attachment CDN for the fake: the files users attach to a slash command.

Discord hands a bot each attachment of a command resolved in `data.resolved.attachments`,
with a `url` on its CDN (cdn.discordapp.com in production) signed by the query parameters
`ex` (expiry, hex seconds), `is` (issued) and `hm` (an HMAC over the path and both). The CDN
answers only a URL whose signature matches and has not expired (404 otherwise), so a bot
must fetch the URL as Discord gave it. It runs on its own port, a host of its own: a URL
pointing anywhere else is not Discord's CDN. Every request is recorded in `hits` with the
number of bytes sent, so a test can tell a file that was never fetched.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from PIL import Image

SIGNED_FOR = 24 * 3600
CHUNK = 64 * 1024
TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif"}


def picture_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the header (a PNG's IHDR read directly, so a decompression
    bomb still has its size), or None for what is not a picture."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    try:
        with Image.open(io.BytesIO(data)) as picture:
            return picture.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


@dataclass
class Hit:
    path: str
    status: int
    at: float = field(default_factory=time.monotonic)  # when the request arrived
    sent: int = 0
    ended: float | None = None  # when the answer was complete (or given up)


def most_at_once(hits: list[Hit]) -> int:
    """The most requests the CDN was answering at the same moment."""
    edges = sorted(
        [(h.at, 1) for h in hits] + [(h.ended or float("inf"), -1) for h in hits],
        key=lambda edge: (edge[0], edge[1]),
    )
    most = current = 0
    for _at, step in edges:
        current += step
        most = max(most, current)
    return most


@dataclass
class FakeCdn:
    base_url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)  # path -> bytes
    hits: list[Hit] = field(default_factory=list)
    chunked: set[str] = field(default_factory=set)
    delay: float = 0.0  # seconds before each answer: a slow CDN
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/ephemeral-attachments/{app}/{aid}/{filename}", self.serve)
        return app

    def _signature(self, path: str, expires: str, issued: str) -> str:
        return hmac.new(self._key, f"{path}{expires}{issued}".encode(), hashlib.sha256).hexdigest()

    def attach(
        self,
        application_id: str,
        attachment_id: str,
        data: bytes,
        filename: str,
        *,
        host: str | None = None,
        declared_size: int | None = None,
    ) -> dict[str, Any]:
        """Store a file as an attachment of a command and return the attachment object
        Discord would resolve for it (width and height only when the header says so, as
        Discord reads them). `host` puts the URL elsewhere (not the CDN); `declared_size`
        makes the attachment claim another size and the CDN send the file chunked, without
        a Content-Length, so only a cap counted while streaming can stop it."""
        path = f"/ephemeral-attachments/{application_id}/{attachment_id}/{filename}"
        self.files[path] = data
        if declared_size is not None:
            self.chunked.add(path)
        issued = f"{int(time.time()):x}"
        expires = f"{int(time.time()) + SIGNED_FOR:x}"
        query = f"?ex={expires}&is={issued}&hm={self._signature(path, expires, issued)}&"
        url = f"{host or self.base_url}{path}{query}"
        extension = filename.rsplit(".", 1)[-1].lower()
        attachment: dict[str, Any] = {
            "id": attachment_id,
            "filename": filename,
            "size": len(data) if declared_size is None else declared_size,
            "url": url,
            "proxy_url": url,
            "ephemeral": True,
        }
        if extension in TYPES:
            attachment["content_type"] = TYPES[extension]
        size = picture_size(data)
        if size is not None:
            attachment["width"], attachment["height"] = size
        return attachment

    async def serve(self, request: web.Request) -> web.StreamResponse:
        hit = Hit(request.path, 404)
        self.hits.append(hit)
        try:
            return await self._serve(request, hit)
        finally:
            hit.ended = time.monotonic()

    async def _serve(self, request: web.Request, hit: Hit) -> web.StreamResponse:
        path = request.path
        await asyncio.sleep(self.delay)
        expires, issued = request.query.get("ex", ""), request.query.get("is", "")
        signature = request.query.get("hm", "")
        data = self.files.get(path)
        good = hmac.compare_digest(signature, self._signature(path, expires, issued))
        try:
            fresh = int(expires, 16) > time.time()
        except ValueError:
            fresh = False
        if data is None or not good or not fresh:
            return web.Response(status=404, text="This content is no longer available.")
        hit.status = 200
        kind = TYPES.get(path.rsplit(".", 1)[-1].lower(), "application/octet-stream")
        response = web.StreamResponse(headers={"Content-Type": kind})
        if path in self.chunked:
            response.enable_chunked_encoding()
        else:
            response.content_length = len(data)
        await response.prepare(request)
        try:
            for start in range(0, len(data), CHUNK):
                await response.write(data[start : start + CHUNK])
                hit.sent += len(data[start : start + CHUNK])
            await response.write_eof()
        except ConnectionError:
            pass  # the client stopped reading: `sent` says how far it got
        return response
