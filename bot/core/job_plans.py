"""What a request needs of the provider chain, and the job a worker gets for a stored row.

The job is built from the row (and its stored input picture), so a row written before a
restart becomes the same job again after it: the style is rendered from the row, the input
picture read from its file, the chain filtered again by what the request needs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from bot.core.errors import NoCapableProvider
from bot.core.imagefiles import ImageFiles
from bot.core.messages import JobMessage, Operation
from bot.core.models import Generation, Kind, Scope, Style
from bot.core.preferences import Preferences
from bot.core.providers.base import Capabilities
from bot.core.providers.chain import Needs, select
from bot.core.queue import JobQueue
from bot.core.styles import StyleCatalogue
from bot.settings import Settings

log = logging.getLogger(__name__)

OPERATIONS: dict[Kind, Operation] = {Kind.UPSCALE: "upscale", Kind.DESCRIBE: "describe"}
FOLLOW_UPS = (Kind.UPSCALE, Kind.VARY)  # start from one of the bot's own stored images
DEFAULT_STRENGTH = 0.6


def providers_for(
    capabilities: Mapping[str, Capabilities], kind: Kind, has_image: bool, known: bool = False
) -> tuple[str, ...]:
    """The chain filtered by what the request needs; a plain refusal when none can.
    Any aspect is made by every provider (at its nearest size, then cropped). An upscale
    without an upscaler hands back the original; a describe of a picture that carries its
    own parameters needs no describer."""
    needs = Needs(
        image_input=has_image and kind not in OPERATIONS,
        upscale=kind is Kind.UPSCALE,
        describe=kind is Kind.DESCRIBE,
    )
    try:
        return tuple(select(capabilities, needs))
    except NoCapableProvider:
        if kind is Kind.UPSCALE or (kind is Kind.DESCRIBE and known):
            return ()
        raise


class JobPlans:
    def __init__(
        self,
        *,
        settings: Settings,
        styles: StyleCatalogue,
        preferences: Preferences,
        queue: JobQueue,
        capabilities: Mapping[str, Capabilities],
        reply_stream: str,
        files: ImageFiles,
    ) -> None:
        self._settings = settings
        self._styles = styles
        self._preferences = preferences
        self._queue = queue
        self._capabilities = dict(capabilities)
        self._reply_stream = reply_stream
        self._files = files

    def providers_for(self, kind: Kind, has_image: bool, known: bool = False) -> tuple[str, ...]:
        return providers_for(self._capabilities, kind, has_image, known)

    def job(
        self,
        generation: Generation,
        style: Style,
        rendered_prompt: str,
        scope_nsfw: bool,
        providers: tuple[str, ...],
        input_image: bytes | None,
    ) -> JobMessage:
        # NSFW only when the scope allows it AND the adapter said this chat may show it
        # (a Discord channel that is not age-restricted never may).
        nsfw = scope_nsfw and generation.handle.get("nsfw_ok") is True
        return JobMessage(
            generation_id=generation.id,
            prompt=rendered_prompt,
            negative_prompt=", ".join(p for p in (generation.negative_prompt, style.negative) if p),
            aspect=generation.aspect,
            seed=generation.seed,
            style=style.id,
            providers=providers,
            hints={k: dict(v) for k, v in style.providers.items()},
            reply_stream=self._reply_stream,
            created_at=generation.created_at,
            nsfw=nsfw,
            operation=OPERATIONS.get(generation.kind, "generate"),
            count=generation.count,
            init_image=input_image,
            strength=generation.strength if generation.strength is not None else DEFAULT_STRENGTH,
        )

    async def job_for(self, generation: Generation) -> JobMessage:
        """The job of a stored row (after a restart: its style is rendered from the row)."""
        style = self._styles.find(generation.style) or self._styles.get(
            self._settings.default_style
        )
        scope = Scope(platform=generation.platform, id=generation.scope_id)
        scope_settings = await self._preferences.scope_settings(scope)
        image = None
        if generation.input_path:
            image = await asyncio.to_thread(self._files.read, generation.input_path)
        providers = self.providers_for(
            generation.kind, image is not None, bool(generation.suggestions)
        )
        rendered = style.render(generation.prompt)
        return self.job(generation, style, rendered, scope_settings.nsfw, providers, image)

    async def resume_job(self, generation: Generation) -> None:
        """Enqueue again after a restart; a no-op when Redis still knows the job."""
        if await self._queue.enqueue(await self.job_for(generation)):
            log.info("generation %s: re-enqueued after restart", generation.id)
