"""The in-process pipeline on the CLI platform with the fake AUTOMATIC1111 API and a private
Redis: its people, scopes and settings (the app itself is the `sd_app` fixture of
tests/e2e/conftest.py)."""

from __future__ import annotations

from pathlib import Path

from bot.core.models import (
    ReplyTarget,
    Requester,
    Scope,
)
from bot.settings import Settings
from tests.support import RedisServer

ALICE = Requester(platform="cli", user_id="alice", display_name="alice")


HERE = Scope(platform="cli", id="chat-1")


ELSEWHERE = Scope(platform="cli", id="chat-2")


TARGET = ReplyTarget(platform="cli", chat_id="chat-1", nsfw_ok=False)


def settings_for(tmp_path: Path, redis: RedisServer, **providers: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        redis_url=redis.url,
        max_pending_per_user=10,
        daily_limit_per_user=100,
        **providers,
    )
