"""The core's service as a bot process builds it, for tests: `build_service()` on a SQLite file
in the test's directory (or the store given) and the in-process Redis stand-in (or the Redis
given), with the people, scopes and capabilities its tests share."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from arq.connections import ArqRedis

from bot.core.generation.providers.base import Capabilities
from bot.core.generation.queue import EmbeddedRedis, JobQueue
from bot.core.images.files import ImageFiles
from bot.core.limits.safety import BannedTerms, Moderator
from bot.core.models import ReplyTarget, Requester, Scope
from bot.core.requests.prompt_translation import prompt_translation
from bot.core.requests.service import GenerationService
from bot.core.requests.styles import load_catalogue
from bot.core.store import Store
from bot.settings import Settings

ALICE = Requester(platform="discord", user_id="1", display_name="alice")
GUILD = Scope(platform="discord", id="100")
TARGET = ReplyTarget(platform="discord", chat_id="300", nsfw_ok=False)
GPT_IMAGE = Capabilities(
    aspects=("1:1", "3:2", "2:3"), negative_prompt=False, seed=False, max_prompt_chars=32000
)
SQUARE_ONLY = Capabilities(
    aspects=("1:1",), negative_prompt=False, seed=False, max_prompt_chars=4000
)
REPLY_STREAM = "imaginebot:events:test"


def service_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings read from nothing but these arguments (no environment, no `.env`)."""
    values: dict[str, Any] = {"_env_file": None, "data_dir": data_dir, "openai_api_key": "sk-x"}
    return Settings(**(values | overrides))


async def build_service(
    data_dir: Path,
    *,
    capabilities: Mapping[str, Capabilities] | None = None,
    store: Store | None = None,
    redis: ArqRedis | None = None,
    banned: BannedTerms | None = None,
    moderator: Moderator | None = None,
    reply_stream: str = REPLY_STREAM,
    **overrides: Any,
) -> GenerationService:
    """A `GenerationService` wired like `bot.bootstrap` wires it; `overrides` are settings.

    Without `store`, a SQLite file in `data_dir` (the caller closes `service.store`); without
    `redis`, the in-process stand-in a bot without `REDIS_URL` runs on."""
    settings = service_settings(data_dir, **overrides)
    store = store if store is not None else await Store.open(settings.database_path)
    queue = JobQueue(redis if redis is not None else EmbeddedRedis().pool(settings), settings)
    capabilities = capabilities if capabilities is not None else {"openai": GPT_IMAGE}
    return GenerationService(
        settings=settings,
        store=store,
        styles=load_catalogue(),
        queue=queue,
        capabilities=capabilities,
        reply_stream=reply_stream,
        files=ImageFiles(settings.images_dir),
        banned=banned,
        moderator=moderator,
        translation=prompt_translation(settings, store, queue.redis, capabilities),
    )
