"""People, scopes and capabilities for tests of the core's service."""

from __future__ import annotations

from bot.core.models import ReplyTarget, Requester, Scope
from bot.core.providers.base import Capabilities

ALICE = Requester(platform="discord", user_id="1", display_name="alice")


GUILD = Scope(platform="discord", id="100")


TARGET = ReplyTarget(platform="discord", chat_id="300")


GPT_IMAGE = Capabilities(
    aspects=("1:1", "3:2", "2:3"), negative_prompt=False, seed=False, max_prompt_chars=32000
)
