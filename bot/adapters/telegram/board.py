"""A busy group's one status message, instead of a reply per request.

A group may receive 20 messages a minute, sends and edits together. Every request owes the
group one message, its picture; a personal "Queued…" reply and the edits after it cost more.
So while a group's budget has room for the pictures already owed (plus `BUSY_RESERVE`),
requests are acknowledged as in a private chat; once it has not, new requests are folded
into the group's *board*: one message listing the waiting requests, sent once and then
edited at most every `BOARD_INTERVAL` seconds, and only from spare budget (the limiter's
`STATUS` priority), never from a picture's share. Each picture then arrives as a reply to
its command. When the last listed request is settled, the board says so (that edit waits its
turn) and the next busy spell starts a new one. Private chats are never folded.

What is owed is counted per chat from acknowledgement to the picture (or failure); after a
restart the count starts again from zero, which only makes the bot fold later.

In a forum group each topic has a board of its own, sent into that topic (`message_thread_id`:
a message without one lands in General, which may be closed); the budget stays the chat's.
A board that cannot be sent raises, and the request is then acknowledged with a reply.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram.error import BadRequest, TelegramError

from bot.adapters.telegram.flood import REPLY, STATUS, FloodLimiter, OverBudget, Spend
from bot.adapters.telegram.render import say, user_text
from bot.core.language import ENGLISH, Number, Plural, Text

log = logging.getLogger(__name__)

BOARD_INTERVAL = 5.0  # seconds between two edits of a group's board
BUSY_RESERVE = 2  # places kept free beyond the pictures owed before folding starts
LISTED = 10  # requests named on the board; the rest are counted
PROMPT_SHOWN = 40

SendFn = Callable[[int, str, int | None], Awaitable[int]]  # (chat, text, topic) -> message id
BoardKey = tuple[int, int | None]  # (chat, forum topic or None)
EditFn = Callable[[int, int, str, Spend], Awaitable[None]]


@dataclass
class _Item:
    name: str
    prompt: str
    generating: bool = False


@dataclass
class _Board:
    message_id: int | None = None
    items: dict[int, _Item] = field(default_factory=dict)  # command message id -> request
    shown: str = ""
    locale: str = ENGLISH  # the community's: everyone in the chat reads the board
    last_edit: float = 0.0
    timer: asyncio.TimerHandle | None = None
    creating: asyncio.Lock = field(default_factory=asyncio.Lock)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


def board_text(items: list[_Item], locale: str = ENGLISH) -> str:
    """The board in the community's `locale`: names and prompts are user text (isolated)."""
    if not items:
        return say(Text("✅ Every waiting picture here has been posted."), locale)
    count = len(items)
    busy = Plural(
        "⏳ Busy here: {count} picture on the way. Each one arrives as a reply to its command.",
        "⏳ Busy here: {count} pictures on the way. Each one arrives as a reply to its command.",
        count,
    )
    lines = [say(busy, locale)]
    for item in items[:LISTED]:
        prompt = item.prompt if len(item.prompt) <= PROMPT_SHOWN else item.prompt[:39] + "…"
        mark = "🎨" if item.generating else "⏳"
        lines.append(f"{mark} {user_text(item.name)}: {user_text(prompt)}")
    if count > LISTED:
        lines.append(say(Text("… and {count} more", count=Number(count - LISTED)), locale))
    return "\n".join(lines)


class GroupBoards:
    def __init__(
        self,
        limiter: FloodLimiter,
        send: SendFn,
        edit: EditFn,
        *,
        interval: float = BOARD_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limiter = limiter
        self._send = send
        self._edit = edit
        self.interval = interval
        self._clock = clock
        self._owed: dict[int, set[int]] = {}  # chat -> command message ids acknowledged
        self._boards: dict[BoardKey, _Board] = {}

    # -- budget ---------------------------------------------------------------------------------

    def _boards_in(self, chat_id: int) -> int:
        return sum(1 for chat, _topic in self._boards if chat == chat_id)

    def owed(self, chat_id: int) -> int:
        return len(self._owed.get(chat_id, ())) + self._boards_in(chat_id)

    def busy(self, chat_id: int) -> bool:
        """A group whose budget has no room beyond the pictures it is owed."""
        if chat_id >= 0:
            return False
        if self._boards_in(chat_id):
            return True
        free = self._limiter.free(chat_id)
        return free is not None and free - self.owed(chat_id) < BUSY_RESERVE

    def owe(self, chat_id: int, command_id: int) -> None:
        self._owed.setdefault(chat_id, set()).add(command_id)

    # -- the board ------------------------------------------------------------------------------

    async def fold(
        self,
        chat_id: int,
        command_id: int,
        name: str,
        prompt: str,
        topic: int | None = None,
        locale: str = ENGLISH,
    ) -> None:
        """List a request on the board of its chat (and forum topic), sending the board if
        there is none; raises (listing nothing) when the board cannot be sent. `locale` is
        the community's, which the board speaks from then on."""
        key = (chat_id, topic)
        board = self._boards.setdefault(key, _Board())
        board.locale = locale
        board.items[command_id] = _Item(name, prompt)
        self.owe(chat_id, command_id)
        async with board.creating:
            if board.message_id is None:
                text = board_text(list(board.items.values()), board.locale)
                try:
                    board.message_id = await self._send(chat_id, text, topic)
                except BaseException:
                    board.items.pop(command_id, None)
                    self._settle_owed(chat_id, command_id)
                    if not board.items and self._boards.get(key) is board:
                        del self._boards[key]
                    raise
                board.shown, board.last_edit = text, self._clock()
                return
        self._schedule(key, board)

    def generating(self, chat_id: int, command_id: int, topic: int | None = None) -> None:
        key = (chat_id, topic)
        board = self._boards.get(key)
        item = board.items.get(command_id) if board else None
        if board is not None and item is not None and not item.generating:
            item.generating = True
            self._schedule(key, board)

    def settle(self, chat_id: int, command_id: int | None, topic: int | None = None) -> None:
        """The request's picture (or its failure) was posted."""
        if command_id is None:
            return
        self._settle_owed(chat_id, command_id)
        key = (chat_id, topic)
        board = self._boards.get(key)
        if board is not None and board.items.pop(command_id, None) is not None:
            self._schedule(key, board)

    def close_all(self) -> None:
        for board in self._boards.values():
            if board.timer is not None:
                board.timer.cancel()
        self._boards.clear()

    def _settle_owed(self, chat_id: int, command_id: int) -> None:
        owed = self._owed.get(chat_id)
        if owed is not None:
            owed.discard(command_id)
            if not owed:
                del self._owed[chat_id]

    def _schedule(self, key: BoardKey, board: _Board) -> None:
        if board.timer is not None or board.message_id is None:
            return
        delay = max(0.0, board.last_edit + self.interval - self._clock())
        loop = asyncio.get_running_loop()
        board.timer = loop.call_later(delay, self._due, key, board)

    def _due(self, key: BoardKey, board: _Board) -> None:
        board.timer = None
        task = asyncio.get_running_loop().create_task(self._refresh(key, board))
        board.tasks.add(task)
        task.add_done_callback(board.tasks.discard)

    async def _refresh(self, key: BoardKey, board: _Board) -> None:
        chat_id = key[0]
        if self._boards.get(key) is not board or board.message_id is None:
            return
        items = list(board.items.values())
        text = board_text(items, board.locale)
        if text == board.shown:
            return
        final = not items
        if final:
            del self._boards[key]  # the next busy spell starts a board of its own
        try:
            await self._edit(chat_id, board.message_id, text, REPLY if final else STATUS)
            board.shown, board.last_edit = text, self._clock()
        except OverBudget:
            board.last_edit = self._clock()  # no spare budget now: look again later
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                log.debug("board edit in %s failed: %s", chat_id, exc)
        except TelegramError as exc:
            log.debug("board edit in %s failed: %s", chat_id, exc)
        if not final and board.shown != board_text(list(board.items.values()), board.locale):
            self._schedule(key, board)
