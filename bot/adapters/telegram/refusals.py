"""Refusals to one person in a group are answered once, then kept quiet for a while.

Every message the bot sends into a group counts toward Telegram's ~20 per minute for that
group, so a person sending refused commands (bad input, limits reached, admin-only commands)
in a loop would otherwise delay everyone's pictures. The first refusal is answered (with a
note that the next ones stay unanswered for a while); later ones within the quiet period
send nothing. Private chats are not limited: a refusal there costs only the person asking.
A dict of deadlines is all this needs, so it is hand-written.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.core.language import Duration, Text

_FORGET_AFTER = 10_000  # entries before expired ones are dropped


class RefusalGate:
    def __init__(self, quiet_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.quiet_seconds = quiet_seconds
        self.clock = clock
        self._until: dict[tuple[int, str], float] = {}

    @property
    def note(self) -> Text:
        return Text(
            "(I will not answer more refused commands from you here for {wait}.)",
            wait=Duration(self.quiet_seconds),
        )

    def allow(self, chat_id: int, who: str) -> bool:
        """True when this refusal may be sent (and starts the quiet period), False to stay quiet."""
        if self.quiet_seconds <= 0:
            return True
        now = self.clock()
        key = (chat_id, who)
        until = self._until.get(key)
        if until is not None and now < until:
            return False
        self._until[key] = now + self.quiet_seconds
        if len(self._until) > _FORGET_AFTER:
            self._until = {k: v for k, v in self._until.items() if v > now}
        return True
