"""The Telegram transport and send limiter, through python-telegram-bot's real `Bot` against
the fake Bot API enforcing Telegram's flood limits.

A control run without the limiter shows that the fake does answer a burst with 429s, so
the limiter's "no 429" results are not the fake being lenient.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from bot.adapters.telegram.transport import AiohttpRequest, SendLimiter
from tests.fakes.server import ServerThread
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.e2e

GROUP = -100500600
PRIVATE_CHATS = list(range(1, 76))


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    fake = FakeTelegram(enforce_rates=True, group_limit=20, group_window=2.0)
    server = ServerThread(fake.app()).start()
    fake.base_url = server.url

    def chats() -> None:
        for uid in PRIVATE_CHATS:
            fake.user(uid)
            fake.private_chat(uid)
        fake.group(GROUP)

    server.run_sync(chats)
    yield fake
    server.stop()


def make_bot(fake: FakeTelegram, limiter: SendLimiter | None) -> Any:
    return ExtBot(
        fake.token,
        base_url=f"{fake.base_url}/bot",
        request=AiohttpRequest(connections=32),
        get_updates_request=AiohttpRequest(connections=1),
        rate_limiter=limiter,
    )


def accepted_sends(fake: FakeTelegram) -> list[float]:
    return sorted(c.at for c in list(fake.calls) if c.method == "sendMessage" and c.ok)


def most_within(times: list[float], window: float) -> int:
    """The most accepted sends the fake saw within any `window` seconds."""
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def rejected(fake: FakeTelegram) -> int:
    return sum(1 for c in list(fake.calls) if c.method == "sendMessage" and not c.ok)


async def send_all(bot: Any, chat_ids: list[int]) -> list[Any]:
    async with bot:
        return await asyncio.gather(
            *(bot.send_message(chat_id, f"message {i}") for i, chat_id in enumerate(chat_ids)),
            return_exceptions=True,
        )


def test_without_the_limiter_the_fake_answers_a_burst_with_429(fake: FakeTelegram) -> None:
    results = asyncio.run(send_all(make_bot(fake, None), PRIVATE_CHATS))
    assert any(isinstance(r, RetryAfter) for r in results)
    assert rejected(fake) > 0


def test_a_burst_to_many_chats_is_sent_at_the_overall_limit_without_429(
    fake: FakeTelegram,
) -> None:
    limiter = SendLimiter(overall_per_second=30, group_per_minute=20)
    results = asyncio.run(send_all(make_bot(fake, limiter), PRIVATE_CHATS))
    assert [type(r).__name__ for r in results if isinstance(r, BaseException)] == []
    assert rejected(fake) == 0
    times = accepted_sends(fake)
    assert len(times) == len(PRIVATE_CHATS)
    # It did use the allowance (a full window's worth at once), and never more.
    assert most_within(times, 1.0) == 30


def test_one_group_gets_its_own_limit_and_edits_are_not_counted(fake: FakeTelegram) -> None:
    limiter = SendLimiter(overall_per_second=30, group_per_minute=20, group_period=2.0)

    async def run() -> tuple[list[Any], list[Any]]:
        bot = make_bot(fake, limiter)
        async with bot:
            first = await bot.send_message(GROUP, "status")
            # 30 edits of one message at once: not messages sent, so never held back.
            edits = await asyncio.gather(
                *(
                    bot.edit_message_text(f"edit {i}", chat_id=GROUP, message_id=first.message_id)
                    for i in range(30)
                ),
                return_exceptions=True,
            )
            sends = await asyncio.gather(
                *(bot.send_message(GROUP, f"message {i}") for i in range(24)),
                return_exceptions=True,
            )
            return edits, sends

    edits, sends = asyncio.run(run())
    assert [r for r in edits if isinstance(r, BaseException)] == []
    assert [r for r in sends if isinstance(r, BaseException)] == []
    assert rejected(fake) == 0
    times = accepted_sends(fake)
    assert len(times) == 25
    assert most_within(times, 2.0) == 20  # the group's allowance, used and not passed


def test_a_429_pauses_and_the_message_is_sent_once(fake: FakeTelegram) -> None:
    fake.failures["sendMessage"] = [(429, 1)]
    limiter = SendLimiter(overall_per_second=30, group_per_minute=20)
    results = asyncio.run(send_all(make_bot(fake, limiter), [PRIVATE_CHATS[0]]))
    assert not isinstance(results[0], BaseException)
    attempts = [c for c in list(fake.calls) if c.method == "sendMessage"]
    assert [c.ok for c in attempts] == [False, True]
    assert attempts[1].at - attempts[0].at >= 1.0  # waited out Telegram's retry_after
    assert len(fake.messages) == 1


def test_transport_errors_become_telegram_errors() -> None:
    """A Bot API that does not answer in time is TimedOut; one that is not there is a
    NetworkError: the adapter sorts these into retry-later, so they must not leak as
    aiohttp exceptions."""
    from aiohttp import web
    from telegram.error import NetworkError, TimedOut

    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/{tail:.*}", slow)
    server = ServerThread(app).start()
    try:

        async def call(base: str) -> BaseException | None:
            request = AiohttpRequest(read_timeout=0.3, connect_timeout=0.3)
            bot = ExtBot("123:abc", base_url=base, request=request)
            # Not `async with bot`: that would call getMe first; this call is the one tested.
            await request.initialize()
            try:
                await bot.send_message(1, "hello")
            except Exception as exc:
                return exc  # the point is which exception it is
            finally:
                await request.shutdown()
            return None

        assert isinstance(asyncio.run(call(f"{server.url}/bot")), TimedOut)
        refused = asyncio.run(call("http://127.0.0.1:9/bot"))
        assert isinstance(refused, NetworkError) and not isinstance(refused, TimedOut)
        assert "aiohttp.ClientConnectorError" in str(refused)
    finally:
        server.stop()
