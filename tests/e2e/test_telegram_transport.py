"""The Telegram transport and flood limiter, through python-telegram-bot's real `Bot` against
the fake Bot API enforcing Telegram's flood limits on sends and edits.

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

from bot.adapters.telegram.flood import PICTURE, REPLY, STATUS, FloodLimiter, OverBudget
from bot.adapters.telegram.transport import AiohttpRequest
from tests.fakes.server import ServerThread
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.e2e

GROUP = -100500600
PRIVATE_CHATS = list(range(1, 76))


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    fake = FakeTelegram(group_limit=20, group_window=2.0)
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


def make_bot(fake: FakeTelegram, limiter: FloodLimiter | None) -> Any:
    return ExtBot(
        fake.token,
        base_url=f"{fake.base_url}/bot",
        request=AiohttpRequest(connections=32),
        get_updates_request=AiohttpRequest(connections=1),
        rate_limiter=limiter,
    )


COUNTED = {"sendMessage", "editMessageText", "sendMediaGroup"}


def accepted_sends(fake: FakeTelegram, chat_id: int | None = None) -> list[float]:
    """When the fake accepted each counted call (a media group once per item)."""
    times = []
    for c in list(fake.calls):
        if c.method in COUNTED and c.ok:
            if chat_id is None or int(c.params["chat_id"]) == chat_id:
                items = c.params["media"] if c.method == "sendMediaGroup" else [None]
                times.extend([c.at] * len(items))
    return sorted(times)


def most_within(times: list[float], window: float) -> int:
    """The most accepted sends the fake saw within any `window` seconds."""
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def rejected(fake: FakeTelegram) -> int:
    return len(fake.rate_limited)


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
    limiter = FloodLimiter(overall_per_second=30, group_per_minute=20)
    results = asyncio.run(send_all(make_bot(fake, limiter), PRIVATE_CHATS))
    assert [type(r).__name__ for r in results if isinstance(r, BaseException)] == []
    assert rejected(fake) == 0
    times = accepted_sends(fake)
    assert len(times) == len(PRIVATE_CHATS)
    # It did use the allowance (a full window's worth at once), and never more.
    assert most_within(times, 1.0) == 30


def test_edits_count_with_sends_against_the_group_limit(fake: FakeTelegram) -> None:
    limiter = FloodLimiter(overall_per_second=30, group_per_minute=20, group_period=2.0)

    async def run() -> tuple[list[Any], list[Any]]:
        bot = make_bot(fake, limiter)
        async with bot:
            first = await bot.send_message(GROUP, "status")
            edits = await asyncio.gather(
                *(
                    bot.edit_message_text(f"edit {i}", chat_id=GROUP, message_id=first.message_id)
                    for i in range(15)
                ),
                return_exceptions=True,
            )
            sends = await asyncio.gather(
                *(bot.send_message(GROUP, f"message {i}") for i in range(10)),
                return_exceptions=True,
            )
            return edits, sends

    edits, sends = asyncio.run(run())
    assert [r for r in edits if isinstance(r, BaseException)] == []
    assert [r for r in sends if isinstance(r, BaseException)] == []
    assert rejected(fake) == 0 and fake.flood_violations == 0
    times = accepted_sends(fake, GROUP)
    assert len(times) == 26
    assert most_within(times, 2.0) == 20  # the group's allowance, edits included, never passed


def test_a_private_chat_gets_a_short_burst_then_about_one_a_second(fake: FakeTelegram) -> None:
    limiter = FloodLimiter(overall_per_second=30, group_per_minute=20)
    results = asyncio.run(send_all(make_bot(fake, limiter), [PRIVATE_CHATS[0]] * 7))
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert rejected(fake) == 0
    times = accepted_sends(fake, PRIVATE_CHATS[0])
    assert len(times) == 7
    assert most_within(times, 3.0) == 3
    assert times[-1] - times[0] >= 6.0


def test_a_media_group_counts_once_per_picture(fake: FakeTelegram) -> None:
    import io

    from PIL import Image
    from telegram import InputMediaPhoto

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    png = buffer.getvalue()
    limiter = FloodLimiter(overall_per_second=30, group_per_minute=20, group_period=2.0)

    async def run() -> None:
        bot = make_bot(fake, limiter)
        async with bot:
            album = [InputMediaPhoto(png) for _ in range(8)]
            await asyncio.gather(*(bot.send_media_group(GROUP, album) for _ in range(3)))

    asyncio.run(run())
    assert rejected(fake) == 0
    times = accepted_sends(fake, GROUP)
    assert len(times) == 24
    assert most_within(times, 2.0) <= 20


def test_the_picture_goes_before_waiting_replies_and_status_edits_never_wait(
    fake: FakeTelegram,
) -> None:
    limiter = FloodLimiter(overall_per_second=30, group_per_minute=20, group_period=2.0)

    async def run() -> tuple[list[str], BaseException | None]:
        bot = make_bot(fake, limiter)
        async with bot:
            first = await bot.send_message(GROUP, "fill")
            await asyncio.gather(*(bot.send_message(GROUP, f"fill {i}") for i in range(19)))
            # The window is full: a status edit is refused at once, without a call.
            refused: BaseException | None = None
            try:
                await bot.edit_message_text(
                    "status", chat_id=GROUP, message_id=first.message_id, rate_limit_args=STATUS
                )
            except OverBudget as exc:
                refused = exc
            replies = [
                asyncio.ensure_future(bot.send_message(GROUP, f"reply {i}", rate_limit_args=REPLY))
                for i in range(3)
            ]
            await asyncio.sleep(0.05)  # the replies are waiting first
            picture = asyncio.ensure_future(
                bot.send_message(GROUP, "picture", rate_limit_args=PICTURE)
            )
            await asyncio.gather(picture, *replies)
        order = [
            str(c.params["text"])
            for c in list(fake.calls)
            if c.method == "sendMessage" and not str(c.params["text"]).startswith("fill")
        ]
        return order, refused

    order, refused = asyncio.run(run())
    assert isinstance(refused, OverBudget)
    assert not any(c.method == "editMessageText" for c in list(fake.calls))
    assert order[0] == "picture" and sorted(order[1:]) == ["reply 0", "reply 1", "reply 2"]
    assert rejected(fake) == 0


def test_a_429_pauses_that_chat_for_its_whole_retry_after(fake: FakeTelegram) -> None:
    fake.failures["sendMessage"] = [(429, 2)]
    limiter = FloodLimiter(overall_per_second=30, group_per_minute=20)
    chat, other = PRIVATE_CHATS[0], PRIVATE_CHATS[1]

    async def run() -> list[Any]:
        bot = make_bot(fake, limiter)
        async with bot:
            told = asyncio.ensure_future(bot.send_message(chat, "first"))
            await asyncio.sleep(0.3)  # the 429 has arrived
            later = asyncio.ensure_future(bot.send_message(chat, "later"))
            elsewhere = asyncio.ensure_future(bot.send_message(other, "elsewhere"))
            return await asyncio.gather(told, later, elsewhere, return_exceptions=True)

    results = asyncio.run(run())
    assert [r for r in results if isinstance(r, BaseException)] == []
    calls = [c for c in list(fake.calls) if c.method == "sendMessage"]
    refused = calls[0]
    assert not refused.ok and refused.params["text"] == "first"
    to_chat = [c for c in calls[1:] if int(c.params["chat_id"]) == chat]
    assert sorted(str(c.params["text"]) for c in to_chat) == ["first", "later"]
    # Nothing went to that chat before Telegram's time was up; the other chat did not wait it.
    assert all(c.at - refused.at >= 2.0 for c in to_chat)
    (away,) = [c for c in calls if int(c.params["chat_id"]) == other]
    assert away.at - refused.at < 2.0
    assert len([m for m in fake.messages.values() if m.get("text") == "first"]) == 1


def test_429s_from_two_chats_at_once_pause_every_chat(fake: FakeTelegram) -> None:
    fake.failures["sendMessage"] = [(429, 2), (429, 2)]
    limiter = FloodLimiter(overall_per_second=30, group_per_minute=20)
    third = PRIVATE_CHATS[2]

    async def run() -> None:
        bot = make_bot(fake, limiter)
        async with bot:
            both = asyncio.gather(
                bot.send_message(PRIVATE_CHATS[0], "a"), bot.send_message(PRIVATE_CHATS[1], "b")
            )
            await asyncio.sleep(0.3)  # both 429s have arrived
            await asyncio.gather(both, bot.send_message(third, "c"))

    asyncio.run(run())
    calls = [c for c in list(fake.calls) if c.method == "sendMessage"]
    second_429 = max(c.at for c in calls if not c.ok)
    # Two chats told to wait at once: the limit was overall, so a third chat waited too.
    (to_third,) = [c for c in calls if int(c.params["chat_id"]) == third]
    assert to_third.ok and to_third.at - second_429 >= 2.0 - 0.01


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


def test_the_fake_refuses_what_telegram_refuses(fake: FakeTelegram) -> None:
    """Identical edits, edits of a user's message, and a second long poll at once."""
    from telegram.error import BadRequest, Conflict

    user_message = fake.message_update(PRIVATE_CHATS[0], PRIVATE_CHATS[0], "hello")["message"]

    async def run() -> list[BaseException | None]:
        bot = make_bot(fake, None)
        outcomes: list[BaseException | None] = []
        async with bot:
            sent = await bot.send_message(GROUP, "same")
            for text, message_id, chat_id in (
                ("same", sent.message_id, GROUP),
                ("mine now", user_message["message_id"], PRIVATE_CHATS[0]),
            ):
                try:
                    await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id)
                    outcomes.append(None)
                except BadRequest as exc:
                    outcomes.append(exc)
            # A second bot instance polling while the first one's long poll is open.
            first = asyncio.ensure_future(bot.get_updates(offset=10_000, timeout=2))
            await asyncio.sleep(0.3)
            async with make_bot(fake, None) as other:
                try:
                    await other.get_updates(offset=10_000, timeout=0)
                    outcomes.append(None)
                except Conflict as exc:
                    outcomes.append(exc)
            await first
        return outcomes

    not_modified, not_ours, conflict = asyncio.run(run())
    assert isinstance(not_modified, BadRequest) and "not modified" in not_modified.message
    assert isinstance(not_ours, BadRequest) and "can't be edited" in not_ours.message
    assert isinstance(conflict, Conflict) and "other getUpdates request" in conflict.message
