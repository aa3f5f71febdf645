"""Acknowledgements first: delivery waits while commands are owed their first answer."""

from __future__ import annotations

import asyncio
import time

from bot.adapters.telegram.updates import AcknowledgementsFirst
from bot.core.delivery.acknowledgements import Acknowledgements


async def test_delivery_waits_until_the_owed_acknowledgement_is_paid() -> None:
    book = Acknowledgements(most_wait_seconds=5, backlog=1)
    order: list[str] = []

    async def command() -> None:
        with book.owed():
            await asyncio.sleep(0.05)
            order.append("acknowledged")
            book.paid()
            book.paid()  # said twice, paid once
            await asyncio.sleep(0.05)
            order.append("queued")

    async def delivery() -> None:
        await asyncio.sleep(0)  # the command has started
        await book.first()
        order.append("delivered")

    await asyncio.gather(command(), delivery())
    # Delivered right after the acknowledgement, not after the whole command.
    assert order == ["acknowledged", "delivered", "queued"]
    assert book.owed_now == 0


async def test_a_command_that_never_acknowledges_holds_delivery_only_until_it_ends() -> None:
    book = Acknowledgements(most_wait_seconds=5, backlog=1)
    with book.owed():
        waiting = asyncio.ensure_future(book.first())
        await asyncio.sleep(0.02)
        assert not waiting.done()
    await asyncio.wait_for(waiting, 1)
    book.paid()  # outside any command: nothing to pay
    assert book.owed_now == 0


async def test_a_stream_of_commands_cannot_starve_delivery() -> None:
    book = Acknowledgements(most_wait_seconds=0.1, backlog=1)
    with book.owed():
        started = time.monotonic()
        await book.first()
        assert 0.09 <= time.monotonic() - started < 1


async def test_every_telegram_update_is_owed_while_it_is_handled() -> None:
    book = Acknowledgements()
    processor = AcknowledgementsFirst(book)
    seen: list[int] = []

    async def handle() -> None:
        seen.append(book.owed_now)
        book.paid()
        seen.append(book.owed_now)

    await processor.do_process_update(object(), handle())
    assert seen == [1, 0] and book.owed_now == 0


async def test_a_few_commands_owed_at_once_do_not_hold_delivery() -> None:
    """Steady traffic owes a few acknowledgements at any moment; only a backlog (a burst)
    makes delivery wait."""
    book = Acknowledgements(most_wait_seconds=5, backlog=3)
    with book.owed(), book.owed():
        await asyncio.wait_for(book.first(), 0.5)  # two owed: delivery goes on
        with book.owed():
            waiting = asyncio.ensure_future(book.first())
            await asyncio.sleep(0.02)
            assert not waiting.done()  # three owed: it waits
        await asyncio.wait_for(waiting, 1)  # back to two: it goes
