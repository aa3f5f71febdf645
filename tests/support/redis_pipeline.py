"""The bot app in-process on a private Redis against the fake OpenAI images API: its settings and
one `/imagine` through the core."""

from __future__ import annotations

from pathlib import Path

from bot.bootstrap import BotApp
from bot.core.models import ImagineCommand, ReplyTarget, Requester, Scope
from bot.settings import Settings
from tests.fakes.openai_images import FakeOpenAI
from tests.support import RedisServer


def settings_for(tmp_path: Path, openai: FakeOpenAI, redis: RedisServer) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        redis_url=redis.url,
        openai_api_key=openai.api_key,
        openai_base_url=f"{openai.base_url}/v1",
    )


async def imagine(app: BotApp, prompt: str) -> str:
    ticket = await app.service.imagine(
        Requester(platform="dlq", user_id="1", display_name="u"),
        Scope(platform="dlq", id="s"),
        ReplyTarget(platform="dlq", chat_id="c"),
        ImagineCommand(prompt=prompt),
    )
    return ticket.generation_id
