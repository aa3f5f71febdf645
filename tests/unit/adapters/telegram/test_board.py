"""GroupBoards: when a group counts as busy, and how its one board message is kept current."""

from __future__ import annotations

import asyncio

from bot.adapters.telegram.board import GroupBoards
from bot.adapters.telegram.flood import REPLY, STATUS, FloodLimiter, OverBudget, Spend
from bot.core.language import PSEUDO
from bot.core.models import Requester, Scope
from tests.support.pseudo import assert_pseudo_localised

GROUP, PRIVATE = -100123, 42
INTERVAL = 0.2
FSI, PDI = "\u2068", "\u2069"


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.edits: list[tuple[int, int, str, Spend]] = []
        self.refuse_status = False

    async def send(self, chat_id: int, text: str, topic: int | None) -> int:
        self.sent.append((chat_id, text))
        return 900 + len(self.sent)

    async def edit(self, chat_id: int, message_id: int, text: str, spend: Spend) -> None:
        if self.refuse_status and spend is STATUS:
            raise OverBudget
        self.edits.append((chat_id, message_id, text, spend))


def make(recorder: Recorder, limit: int = 6) -> tuple[FloodLimiter, GroupBoards]:
    limiter = FloodLimiter(overall_per_second=30, group_per_minute=limit)
    return limiter, GroupBoards(limiter, recorder.send, recorder.edit, interval=INTERVAL)


def test_a_group_is_busy_once_its_budget_has_no_room_beyond_the_pictures_owed() -> None:
    async def run() -> list[bool]:
        limiter, boards = make(Recorder(), limit=6)
        seen = []
        for command in range(1, 5):
            seen.append(boards.busy(GROUP))
            # An acknowledgement spends a place and owes a picture.
            window = limiter.window(GROUP)
            await window.acquire(1, command)
            window.release()
            boards.owe(GROUP, command)
        boards.owe(PRIVATE, 1)
        seen.append(boards.busy(PRIVATE))
        return seen

    # 6 places: free - owed is 6, 4, 2, 0 before each request: the fourth one is folded.
    assert asyncio.run(run()) == [False, False, False, True, False]


def test_one_board_edited_at_most_every_interval_then_its_last_word() -> None:
    async def run() -> Recorder:
        recorder = Recorder()
        _, boards = make(recorder)
        await boards.fold(GROUP, 1, "Ann", "a fox in the snow")
        await boards.fold(GROUP, 2, "Bo", "a <b>bold</b> owl")
        await boards.fold(GROUP, 3, "Cy", "x" * 80)
        boards.generating(GROUP, 1)
        assert len(recorder.sent) == 1 and recorder.edits == []
        await asyncio.sleep(INTERVAL + 0.1)
        assert len(recorder.edits) == 1  # the three changes, in one edit
        for command in (1, 2, 3):
            boards.settle(GROUP, command)
        await asyncio.sleep(INTERVAL + 0.1)
        return recorder

    recorder = asyncio.run(run())
    assert [chat for chat, _ in recorder.sent] == [GROUP]
    assert recorder.sent[0][1].startswith("⏳ Busy here: 1 picture on the way.")
    first_edit, last = recorder.edits[0], recorder.edits[-1]
    assert first_edit[3] is STATUS
    # Names and prompts are user text: escaped and isolated (FSI ... PDI).
    assert f"🎨 {FSI}Ann{PDI}: {FSI}a fox in the snow{PDI}" in first_edit[2]
    assert f"⏳ {FSI}Bo{PDI}: {FSI}a &lt;b&gt;bold&lt;/b&gt; owl{PDI}" in first_edit[2]
    assert "x" * 39 + "…" in first_edit[2] and "x" * 40 not in first_edit[2]
    assert last[2].startswith("✅") and last[3] is REPLY
    assert len(recorder.edits) == 2


def test_a_refused_board_edit_is_tried_again_later() -> None:
    async def run() -> Recorder:
        recorder = Recorder()
        _, boards = make(recorder)
        await boards.fold(GROUP, 1, "Ann", "one")
        recorder.refuse_status = True
        await boards.fold(GROUP, 2, "Bo", "two")
        await asyncio.sleep(INTERVAL + 0.1)
        assert recorder.edits == []  # refused: no spare budget
        recorder.refuse_status = False
        await asyncio.sleep(INTERVAL + 0.1)
        return recorder

    recorder = asyncio.run(run())
    assert len(recorder.edits) == 1 and f"Bo{PDI}: {FSI}two" in recorder.edits[0][2]


def test_a_board_that_cannot_be_sent_falls_back_to_a_reply_and_drops_nothing() -> None:
    """A busy group's board refused (its topic closed, a network error): the request is
    acknowledged with a status reply instead, never dropped."""
    from types import SimpleNamespace
    from typing import Any

    from telegram.error import BadRequest

    from bot.adapters.telegram.intake import QUEUED, Intake

    class Busy(GroupBoards):
        def busy(self, chat_id: int) -> bool:
            return True

    async def refused(chat_id: int, text: str, topic: int | None) -> int:
        raise BadRequest("TOPIC_CLOSED")

    class Anchor:
        chat_id, message_id, message_thread_id, is_topic_message = GROUP, 7, 55, True

        def __init__(self) -> None:
            self.replies: list[str] = []

        async def reply_text(self, text: str, **_kw: Any) -> Any:
            self.replies.append(text)
            return SimpleNamespace(message_id=900)

    tracked: list[tuple[int, int, str]] = []
    paid: list[bool] = []
    recorder = Recorder()
    limiter = FloodLimiter(overall_per_second=30, group_per_minute=6)
    boards = Busy(limiter, refused, recorder.edit, interval=INTERVAL)

    async def community_locale(*_who: object) -> str:
        return "en"

    service = SimpleNamespace(
        acknowledgements=SimpleNamespace(paid=lambda: paid.append(True)),
        community_locale=community_locale,
    )
    status = SimpleNamespace(track=lambda *args: tracked.append(args))
    intake = Intake(service, boards, status, None, None)  # type: ignore[arg-type]
    anchor = Anchor()

    ann = Requester(platform="telegram", user_id="5", display_name="Ann")
    who = (ann, Scope(platform="telegram", id=str(GROUP)))
    status_id = asyncio.run(intake.acknowledge(anchor, who, "a fox", "en"))  # type: ignore[arg-type]
    assert status_id == 900 and anchor.replies == [QUEUED.message]
    assert tracked == [(GROUP, 900, QUEUED.message)] and paid == [True]
    assert boards.owed(GROUP) == 1  # owed its picture, listed on no board


def test_the_board_speaks_the_communitys_language() -> None:
    """The board is everyone's: it is worded in the locale it was folded with (the
    community's), names and prompts isolated, every wording of it catalogue text."""

    async def run() -> Recorder:
        recorder = Recorder()
        _, boards = make(recorder)
        for command in range(1, 13):  # past the ten listed: "… and 2 more"
            await boards.fold(GROUP, command, "Ann", f"fox {command}", locale="ru")
        await boards.fold(GROUP, 13, "Bo", "owl", locale=PSEUDO)
        await asyncio.sleep(INTERVAL + 0.1)
        for command in range(1, 14):
            boards.settle(GROUP, command)
        await asyncio.sleep(INTERVAL + 0.1)
        return recorder

    recorder = asyncio.run(run())
    assert recorder.sent[0][1].startswith("⏳ Здесь оживлённо: в пути 1 картинка.")
    shown = [("board", text) for _, _, text, _ in recorder.edits]
    assert shown[0][1].endswith("\n⟦… åñd 3 möré⟧")
    assert_pseudo_localised(shown, verbatim=("Ann", "Bo"))
