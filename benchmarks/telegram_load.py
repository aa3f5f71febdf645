"""Drives /imagine messages through the fake Telegram Bot API, as Telegram's users would.

The test suite's fake is used unchanged except for bookkeeping: this subclass notes when
each command's status reply (the acknowledgement) and its photo arrived, keyed by the
command message, counts 429 answers, and drops uploaded bytes once counted. Updates are
pushed on the fake's own loop at their scheduled offsets; the bot fetches them by real long
polling. Times are the fake's clock (time.time(), as the fake records `pushed_at`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from tests.fakes.server import ServerThread
from tests.fakes.telegram_api import FakeTelegram
from tests.support import wait_for

Key = tuple[int, int]  # (chat id, command message id)


class FastFakeTelegram(FakeTelegram):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.ack_at: dict[Key, float] = {}
        self.image_at: dict[Key, float] = {}
        self.status_of: dict[Key, Key] = {}
        self.too_many = 0
        self.image_bytes = 0
        self.downloaded_at: dict[str, float] = {}  # file_id -> when the bot asked for it

    async def handle(self, request: Any) -> Any:
        response = await super().handle(request)
        if response.status == 429:
            self.too_many += 1
        call = self.calls[-1] if self.calls else None
        if call is not None and call.files:
            # Keep the size, drop the bytes: thousands of uploads would fill the harness.
            self.image_bytes += sum(len(v) for v in call.files.values())
            call.files.clear()
        return response

    async def download(self, request: Any) -> Any:
        file_id = self.file_paths.get(request.match_info["path"])
        if file_id is not None:
            self.downloaded_at.setdefault(file_id, time.time())
        return await super().download(request)

    @staticmethod
    def _reply_key(params: dict[str, Any]) -> Key | None:
        reply = params.get("reply_parameters")
        message_id = (
            reply.get("message_id")
            if isinstance(reply, dict)
            else params.get("reply_to_message_id")
        )
        if message_id is None:
            return None
        return int(params["chat_id"]), int(message_id)

    async def m_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        result = await super().m_sendMessage(params, files)
        key = self._reply_key(params)
        if key is not None and key not in self.ack_at:
            self.ack_at[key] = time.time()
            self.status_of[(key[0], int(result["message_id"]))] = key
        return result

    async def m_editMessageMedia(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        result = await super().m_editMessageMedia(params, files)
        key = self.status_of.get((int(params["chat_id"]), int(params["message_id"])))
        if key is not None and "photo" in result:
            self.image_at.setdefault(key, time.time())
        return result

    async def m_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        result = await super().m_sendPhoto(params, files)
        key = self._reply_key(params)
        if key is not None:
            self.image_at.setdefault(key, time.time())
        return result


class TelegramDriver:
    """The fake Bot API in a background thread, with users, private chats and groups."""

    def __init__(self, *, limits: bool = False) -> None:
        self.fake = FastFakeTelegram(enforce_rates=limits)
        self.server = ServerThread(self.fake.app())

    def start(self) -> TelegramDriver:
        self.server.start()
        self.fake.base_url = self.server.url
        return self

    def stop(self) -> None:
        self.server.stop()

    def env(self) -> dict[str, str]:
        return {
            "TELEGRAM_TOKEN": self.fake.token,
            "TELEGRAM_API_BASE": f"{self.server.url}/bot",
            "TELEGRAM_FILE_BASE": f"{self.server.url}/file/bot",
        }

    def wait_ready(self, timeout: float, log: Callable[[], str]) -> None:
        calls = self.fake.calls
        wait_for(
            lambda: any(c.method == "getUpdates" for c in list(calls)),
            timeout,
            message=f"the bot's Telegram long poll\n{log()}",
        )

    def chats(self, users: int, groups: int) -> tuple[list[int], list[int]]:
        """`users` users with private chats (ids 1..users) and `groups` groups (negative ids)."""

        def make() -> tuple[list[int], list[int]]:
            for uid in range(1, users + 1):
                self.fake.user(uid, "user")
                self.fake.private_chat(uid)
            group_ids = [-1001000000000 - g for g in range(groups)]
            for gid in group_ids:
                self.fake.group(gid)
            return list(range(1, users + 1)), group_ids

        return self.server.run_sync(make)


class TelegramLoad:
    def __init__(self, driver: TelegramDriver) -> None:
        self.driver = driver
        self.fake = driver.fake
        self._serial = 0
        self.file_of: dict[Key, str] = {}  # command -> the photo's file_id

    def send(
        self,
        senders: list[tuple[int, int]],
        offsets: list[float],
        label: str,
        options: str = "",
        photo: tuple[bytes, int, int] | None = None,
    ) -> list[Key]:
        """Push `/imagine` from (chat, user) i at `offsets[i]`; returns the command keys.

        `options` goes after the prompt (`count:4`). With `photo` (JPEG bytes, width,
        height) each command is the caption of a photo of those bytes, a file of its own
        that the bot fetches through getFile, as Telegram serves photos (a JPEG, no
        metadata; the bytes are made once, not re-encoded per message)."""
        fake = self.fake
        keys: list[Key] = []
        texts = []
        for _ in senders:
            self._serial += 1
            texts.append(f"/imagine {label} picture {self._serial} {options}".rstrip())

        async def run() -> None:
            loop = asyncio.get_running_loop()
            start = loop.time()
            for (chat_id, user_id), text, offset in zip(senders, texts, offsets, strict=True):
                delay = start + offset - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                body = None
                if photo is not None:
                    data, width, height = photo
                    described = fake.add_file(data)
                    body = {"photo": [{**described, "width": width, "height": height}]}
                update = fake.message_update(chat_id, user_id, text, body=body)
                key = (chat_id, int(update["message"]["message_id"]))
                keys.append(key)
                if body is not None:
                    self.file_of[key] = body["photo"][0]["file_id"]

        self.driver.server.call(run(), timeout=(offsets[-1] if offsets else 0) + 60)
        return keys

    def pushed_at(self) -> dict[Key, float]:
        fake = self.fake
        return {
            (u["message"]["chat"]["id"], u["message"]["message_id"]): fake.pushed_at[u["update_id"]]
            for u in list(fake.updates)
            if "message" in u
        }

    def wait(
        self, table: dict[Key, float], keys: list[Key], timeout: float, quiet: float | None = None
    ) -> int:
        """Until every key is in `table`, `timeout` passed, or (with `quiet`) nothing new
        arrived for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        seen, last_change = -1, time.monotonic()
        while time.monotonic() < deadline:
            done = sum(1 for k in keys if k in table)
            if done >= len(keys):
                break
            if done != seen:
                seen, last_change = done, time.monotonic()
            elif quiet is not None and time.monotonic() - last_change > quiet:
                break
            time.sleep(0.1)
        return sum(1 for k in keys if k in table)

    def seconds(self, table: dict[Key, float], keys: list[Key]) -> list[float]:
        pushed = self.pushed_at()
        return [table[k] - pushed[k] for k in keys if k in table]

    def delivered_span(self, keys: list[Key]) -> float:
        pushed, image_at = self.pushed_at(), self.fake.image_at
        times = [image_at[k] for k in keys if k in image_at]
        return max(times) - min(pushed[k] for k in keys) if times else 0.0

    def warm_up(self, chat_id: int, user_id: int, count: int = 4) -> None:
        keys = self.send([(chat_id, user_id)] * count, [0.0] * count, "warm-up")
        if self.wait(self.fake.image_at, keys, 30) < count:
            raise RuntimeError("the warm-up requests were not delivered")
