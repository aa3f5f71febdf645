"""`imaginebot upscale`, `vary` and `describe`: follow-ups on the command line, through the
same service calls (and the same ownership and scope checks) as the chat buttons."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.cli_imagine import read_picture, run_request
from bot.core.models import ReplyTarget, Requester, Scope, Ticket
from bot.core.requests.service import GenerationService
from bot.settings import Settings


async def follow_up(
    settings: Settings, action: str, generation_id: str, index: int, output: Path | None
) -> int:
    """U<index> or V<index> of an earlier request made from this terminal."""

    async def submit(
        service: GenerationService, who: Requester, scope: Scope, target: ReplyTarget
    ) -> Ticket:
        if action == "upscale":
            prepared = await service.prepare_upscale(generation_id, index, who, scope)
        else:
            prepared = await service.prepare_vary(generation_id, index, who, scope)
        return await service.submit(prepared, target)

    return await run_request(settings, submit, output)


async def describe(settings: Settings, path: Path) -> int:
    """Prompt suggestions for a picture, its own generation parameters first."""
    try:
        picture = read_picture(path, settings)
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2

    async def submit(
        service: GenerationService, who: Requester, scope: Scope, target: ReplyTarget
    ) -> Ticket:
        return await service.submit(await service.prepare_describe(picture, who, scope), target)

    return await run_request(settings, submit, None, writes=False)
