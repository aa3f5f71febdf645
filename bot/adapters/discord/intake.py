"""A request's way in on Discord: validate, acknowledge within 3 s, queue, show the position.

Slash commands (/imagine) and buttons (Reroll, Restyle) both end here. What the adapter
needs later to edit the acknowledgement from any process (the interaction token and its
expiry, the file size limits, where a late picture may go) goes into the request's delivery
handle. Where a late picture could not be posted in the channel, the acknowledgement says so,
and shortly before the token ends the response says the request is still being worked on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress

import aiohttp
import discord

from bot.adapters.discord.answers import reader_locale, refuse
from bot.adapters.discord.attachments import AttachmentFetcher
from bot.adapters.discord.delivery_handle import DiscordHandle
from bot.adapters.discord.identity import PLATFORM, age_restricted
from bot.adapters.discord.images import DEFAULT_LIMIT
from bot.adapters.discord.late_route import (
    STILL_WORKING_LEAD,
    late_note,
    route_handle,
    with_note,
)
from bot.adapters.discord.render import NO_MENTIONS, error_text, queued_text
from bot.adapters.discord.webhook import InteractionLink
from bot.core.delivery.status_throttle import StatusThrottle
from bot.core.errors import UserFacingError
from bot.core.models import ReplyTarget
from bot.core.requests.service import GenerationService, PreparedRequest

log = logging.getLogger(__name__)

TOKEN_LIFETIME = 15 * 60
TOKEN_MARGIN = 60  # stop using a token a minute early: a slow upload must not straddle expiry
# Validation normally takes milliseconds; past this, acknowledge first so the 3 s rule holds.
PREPARE_BUDGET_SECONDS = 2.0

Preparing = asyncio.Future[PreparedRequest] | asyncio.Task[PreparedRequest]


def token_expiry(interaction: discord.Interaction) -> float:
    """When the interaction's token stops working, on this machine's clock. The token lives 15
    minutes from the interaction's creation (its id), not from when the bot got it: a gateway
    that resumes replays interactions late. An age outside those 15 minutes means the clocks
    disagree (Discord never sends an expired interaction), so it then counts from now."""
    now = time.time()
    age = now - interaction.created_at.timestamp()
    if not 0 <= age < TOKEN_LIFETIME:
        age = 0.0
    return now - age + TOKEN_LIFETIME


def delivery_handle(interaction: discord.Interaction) -> DiscordHandle:
    route = route_handle(interaction)
    return DiscordHandle(
        application_id=str(interaction.application_id),
        interaction_id=str(interaction.id),
        token=interaction.token,
        expires_at=token_expiry(interaction) - TOKEN_MARGIN,
        requester_id=str(interaction.user.id),
        guild_id=str(interaction.guild_id) if interaction.guild_id else None,
        size_limit=int(interaction.filesize_limit or DEFAULT_LIMIT),
        late_route=route.late_route,
        late_missing=route.late_missing,
        channel_size_limit=route.channel_size_limit,
    )


class Intake:
    def __init__(
        self,
        client: discord.Client,
        service: GenerationService,
        status: StatusThrottle[str],
        fetcher: AttachmentFetcher,
    ) -> None:
        self.client = client
        self.service = service
        self.status = status
        self.fetcher = fetcher
        self._reminders: set[asyncio.Task[None]] = set()

    async def with_picture(
        self,
        interaction: discord.Interaction,
        attachment: discord.Attachment,
        prepare: Callable[[bytes], Awaitable[PreparedRequest]],
    ) -> None:
        """A request that starts from one attached picture (see `with_pictures`)."""

        async def first(pictures: list[bytes]) -> PreparedRequest:
            return await prepare(pictures[0])

        await self.with_pictures(interaction, [attachment], first)

    async def with_pictures(
        self,
        interaction: discord.Interaction,
        attachments: Sequence[discord.Attachment],
        prepare: Callable[[list[bytes]], Awaitable[PreparedRequest]],
    ) -> None:
        """A request with attached pictures (one to start from, style references): refuse a
        foreign URL or a declared size over the cap at once, acknowledge, and only then
        fetch the files (a download must never hold up the acknowledgement) and hand their
        bytes to the core, in the order given."""
        try:
            for attachment in attachments:
                self.fetcher.check(attachment)
        except UserFacingError as exc:
            await refuse(interaction, exc, self.service)
            return
        await self._defer(interaction)

        # A few pictures at a time: each holds megabytes until its job is queued.
        async with self.service.picture_slot():

            async def fetched() -> PreparedRequest:
                return await prepare([await self.fetcher.read(a) for a in attachments])

            await self.prepare_then_submit(interaction, asyncio.ensure_future(fetched()))

    async def _defer(self, interaction: discord.Interaction) -> None:
        """The public acknowledgement ("thinking…"); results waiting for it may go now."""
        await interaction.response.defer(thinking=True)
        self.service.acknowledgements.paid()

    async def prepare_then_submit(
        self, interaction: discord.Interaction, prepare: Preparing, *, reply_to: str | None = None
    ) -> None:
        """Validate before acknowledging, so bad input gets an ephemeral answer; but never let
        validation push the acknowledgement past Discord's 3 seconds."""
        done, _ = await asyncio.wait({prepare}, timeout=PREPARE_BUDGET_SECONDS)
        if not done and not interaction.response.is_done():  # a picture's was already
            await self._defer(interaction)
        try:
            prepared = await prepare
        except UserFacingError as exc:
            if interaction.response.is_done():
                locale = await reader_locale(self.service, interaction)
                await interaction.edit_original_response(
                    content=error_text(exc, locale), allowed_mentions=NO_MENTIONS
                )
            else:
                await refuse(interaction, exc, self.service)
            return
        if not interaction.response.is_done():
            await self._defer(interaction)
        await self.submit(interaction, prepared, reply_to=reply_to)

    async def submit(
        self,
        interaction: discord.Interaction,
        prepared: PreparedRequest,
        *,
        reply_to: str | None = None,
    ) -> None:
        """After `defer()`: write and enqueue the request, then show its queue position."""
        # A button's result answers the message the button is on (U posts a reply to the
        # grid); the late fallback message then replies to it too. A press in an ephemeral
        # menu names the channel message it is about (`reply_to`), or none.
        source = interaction.message
        if reply_to is None and source is not None and not source.flags.ephemeral:
            reply_to = str(source.id)
        handle = delivery_handle(interaction)
        target = ReplyTarget(
            platform=PLATFORM,
            chat_id=str(interaction.channel_id),
            # The core allows NSFW output only where the chat may show it: on Discord, a
            # channel marked age-restricted, on top of the server's /settings nsfw switch.
            nsfw_ok=age_restricted(interaction),
            reply_to_message_id=reply_to,
            handle=handle,
        )
        link = InteractionLink(self.client, interaction.application_id, interaction.token)
        try:
            ticket = await self.service.submit(prepared, target)
        except UserFacingError as exc:
            await link.edit_original(content=error_text(exc, prepared.locale))
            return
        queued = with_note(queued_text(ticket.position, prepared.locale), handle)
        await self.status.show(ticket.generation_id, queued, link.edit_text)
        if handle.has_deadline:
            self._remind(ticket.generation_id, link, handle)

    def _remind(self, generation_id: str, link: InteractionLink, handle: DiscordHandle) -> None:
        """Shortly before the token ends, say the request is still on (and where it will go)."""
        ends = handle.expires_at
        if ends is None:
            return
        task = asyncio.create_task(self._still_working(generation_id, link, handle, ends))
        self._reminders.add(task)
        task.add_done_callback(self._reminders.discard)

    async def _still_working(
        self, generation_id: str, link: InteractionLink, handle: DiscordHandle, ends: float
    ) -> None:
        await asyncio.sleep(max(0.0, ends - STILL_WORKING_LEAD - time.time()))
        if self.status.is_final(generation_id) or time.time() >= ends:
            return
        try:
            # Another bot process may have delivered it: a picture is never covered by text.
            if await link.original_filenames():
                return
            await self.status.show(generation_id, late_note(handle), link.edit_text)
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.info("generation %s: still-working edit failed: %s", generation_id, exc)

    async def aclose(self) -> None:
        for task in list(self._reminders):
            task.cancel()
        for task in list(self._reminders):
            with suppress(asyncio.CancelledError):
                await task
