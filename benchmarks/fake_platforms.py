"""The test suite's fake Discord, tuned for load: constant-time lookups and a time index.

The fake used by the tests finds an interaction by token with a linear scan and keeps every
uploaded byte; at thousands of requests that would make the fake, not the bot, the
bottleneck (and the harness's memory grow by the image sizes). This subclass indexes tokens,
records when each interaction's first image arrived, and then drops the uploaded bytes
(their size is kept in `image_bytes`). Everything else, including every check the fake
makes, is the test suite's fake unchanged.
"""

from __future__ import annotations

import itertools
import time

from aiohttp import web

from tests.fakes.discord_api import TOKEN_LIFETIME, ApiError, FakeDiscord, Interaction, Write
from tests.fakes.discord_gateway import DiscordDriver
from tests.fakes.server import ServerThread


class _Writes(list[Write]):
    """The fake's write log, noting the arrival time of each interaction's first image."""

    def __init__(self) -> None:
        super().__init__()
        self.image_at: dict[str, float] = {}
        self.image_bytes = 0

    def append(self, write: Write) -> None:
        super().append(write)
        if write.files and write.interaction_id is not None:
            self.image_at.setdefault(write.interaction_id, write.at)
            for upload in write.files:
                self.image_bytes += len(upload.data)
                upload.data = b""


class FastFakeDiscord(FakeDiscord):
    def __init__(self) -> None:
        super().__init__()
        self.writes = _Writes()
        self._by_token: dict[str, Interaction] = {}
        self._indexed = 0

    @property
    def image_at(self) -> dict[str, float]:
        writes = self.writes
        assert isinstance(writes, _Writes)
        return writes.image_at

    def _record_by_token(self, request: web.Request) -> Interaction:
        if request.match_info["app"] != self.application_id:
            raise ApiError(404, 10015, "Unknown Webhook")
        token = request.match_info["token"]
        record = self._by_token.get(token)
        if record is None:
            # Interactions are only ever added: index the ones added since the last miss.
            for new in itertools.islice(self.interactions.values(), self._indexed, None):
                self._by_token[new.token] = new
            self._indexed = len(self.interactions)
            record = self._by_token.get(token)
        if record is None:
            raise ApiError(404, 10015, "Unknown Webhook")
        # The same expiry rule as the fake's own lookup.
        if record.expired or time.time() - record.created > TOKEN_LIFETIME:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        return record


class FastDiscordDriver(DiscordDriver):
    def __init__(self) -> None:
        super().__init__()
        self.fake = FastFakeDiscord()
        self.server = ServerThread(self.fake.app())
