"""The bot app in-process on a private Redis against the fake OpenAI images API: its settings and
one `/imagine` through the core."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.bootstrap import BotApp
from bot.core.models import ImagineCommand, ReplyTarget, Requester, Scope
from bot.settings import Settings
from tests.fakes.openai_images import FakeOpenAI
from tests.support import RedisServer


def settings_for(
    tmp_path: Path, openai: FakeOpenAI, redis: RedisServer, **overrides: Any
) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        redis_url=redis.url,
        openai_api_key=openai.api_key,
        openai_base_url=f"{openai.base_url}/v1",
        **overrides,
    )


async def imagine(app: BotApp, prompt: str, platform: str = "dlq") -> str:
    """One `/imagine` by one person in one chat of `platform` (a recording channel's)."""
    ticket = await app.service.imagine(
        Requester(platform=platform, user_id="1", display_name="u"),
        Scope(platform=platform, id="s"),
        ReplyTarget(platform=platform, chat_id="c", nsfw_ok=False),
        ImagineCommand(prompt=prompt),
    )
    return ticket.generation_id
