"""What the brush editor hands the chat that made the picture: an edit order, and the desk of
each platform that takes it.

The editor is served by the bot process's web server (WEB_PORT): only there can an edit be
queued and posted back into its chat. Each chat adapter that runs gives its `EditDesk`
(bot/adapters/*/web_edits.py); the bootstrap hands them to the gallery, so nothing under
bot/web imports an adapter. A desk checks who may edit (the picture's requester, or an admin
of its scope), prepares the edit with the core, asks `claim` to store the link's one use,
acknowledges in the chat and submits the request through the normal queue and delivery.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.core.language import Text
from bot.web.editor_links import EditorLink

USED = Text("This editor link was used already. Press 🖌 under the picture for a new one.")


class EditRefused(Exception):
    """The edit was not queued; the message (a `Text`, or a sentence a desk still words in
    English) says why, in plain words, to the person editing, in the editor's language."""

    def __str__(self) -> str:  # for logs and tests: the English words
        reason = self.args[0] if self.args else ""
        return reason.message if isinstance(reason, Text) else str(reason)


@dataclass(frozen=True)
class EditOrder:
    link: EditorLink
    user_id: str  # who is editing: the link's person, or the Mini App's checked user
    name: str
    index: int  # which picture of the request (1..4)
    mask: bytes
    prompt: str | None


class EditDesk(Protocol):
    async def submit(self, order: EditOrder, claim: Callable[[], Awaitable[bool]]) -> str | Text:
        """Queue the edit; the sentence the editor shows (a `Text` in the editor's language). Raises EditRefused when refused
        (the link stays unused unless `claim` was reached)."""
        ...


@dataclass
class EditorSetup:
    """What the editor needs beyond the gallery: the desks of the running chat adapters, and
    for Telegram's Mini App the bot token (initData is signed with it) and its window."""

    desks: dict[str, EditDesk]
    telegram_token: str | None = None
    webapp_auth_seconds: float = 3600.0
