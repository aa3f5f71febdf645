"""Results on Discord: status edits, the picture, and the failure notice (the ResultChannel).

The picture replaces the acknowledgement by editing the interaction's original response
(twice leaves one image; a delivery that an earlier process may have made first looks at the
response and leaves one that already shows this request's file). Once the interaction token
has expired, a new channel message that pings only the requester is the fallback; it is not
naturally idempotent, so the request's delivery handle is marked before sending and cleared
when Discord refused it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from pathlib import Path
from typing import Any

import aiohttp
import discord

from bot.adapters.discord.images import DEFAULT_LIMIT, fit
from bot.adapters.discord.render import (
    describe_embed,
    only_user,
    result_embed,
    shown,
    status_text,
    truncate,
)
from bot.adapters.discord.result_buttons import result_view
from bot.adapters.discord.webhook import InteractionLink
from bot.core.errors import DeliveryError
from bot.core.models import Generation, Kind, StatusUpdate
from bot.core.ports import DeliveryHandles
from bot.core.status_throttle import StatusThrottle
from bot.core.styles import StyleCatalogue

log = logging.getLogger(__name__)

RESULT_MESSAGE = "message_id"  # the message that shows the result (see components.py)
FALLBACK_MARKER = "fallback_sent_at"
FAILURE_MARKER = "failure_notice_sent_at"


def delivery_error(exc: discord.HTTPException) -> DeliveryError:
    """Sort Discord's refusals into retry-later and give-up, with a reason for the history."""
    if exc.status == 429 or exc.status >= 500:
        retry_after = getattr(exc, "retry_after", None)
        return DeliveryError(
            f"Discord is busy or failing (HTTP {exc.status})",
            retryable=True,
            retry_after=retry_after,
        )
    if exc.status == 403:
        return DeliveryError("missing permission to post in this channel", retryable=False)
    if exc.status == 413 or exc.code == 40005:
        return DeliveryError("the picture is too large for this channel", retryable=False)
    return DeliveryError(
        f"Discord refused the message (HTTP {exc.status}, code {exc.code})", retryable=False
    )


async def _shows(link: InteractionLink, generation: Generation) -> bool:
    """Whether the response already shows this request's picture (its files are named
    after the request); on any doubt, no: posting again leaves one picture anyway."""
    try:
        names = await link.original_filenames()
    except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError):
        return False
    return any(name.startswith(f"{generation.id}.") for name in names)


class DiscordDelivery:
    def __init__(
        self,
        client: discord.Client,
        status: StatusThrottle[str],
        styles: StyleCatalogue,
        handles: DeliveryHandles,
    ) -> None:
        self.client = client
        self.status = status
        self.styles = styles
        self.handles = handles

    def _link(self, generation: Generation) -> InteractionLink | None:
        handle = generation.handle
        token, app_id = handle.get("token"), handle.get("application_id")
        expires_at = handle.get("expires_at")
        if not isinstance(token, str) or app_id is None:
            return None
        if not isinstance(expires_at, int | float) or time.time() >= expires_at:
            return None
        return InteractionLink(self.client, int(str(app_id)), token)

    async def show_status(self, generation: Generation, update: StatusUpdate) -> None:
        link = self._link(generation)
        if link is None:
            return
        await self.status.show(generation.id, status_text(update), link.edit_text)

    async def deliver(self, generation: Generation, image_path: Path) -> None:
        async with self.status.finishing(generation.id):
            await self._deliver(generation, image_path)

    async def _deliver(self, generation: Generation, image_path: Path) -> None:
        if generation.handle.get(FALLBACK_MARKER):
            # A channel message was (or may have been) posted by an earlier attempt; posting
            # again could show the picture twice, so this counts as delivered.
            log.info("generation %s: fallback message already sent", generation.id)
            return
        link = self._link(generation)
        if link is not None and generation.may_be_posted and await _shows(link, generation):
            log.info("generation %s: already shows its picture", generation.id)
            return
        limit = generation.handle.get("size_limit")
        size_limit = limit if isinstance(limit, int) and limit > 0 else DEFAULT_LIMIT
        try:
            data, extension = await asyncio.to_thread(fit, image_path, size_limit)
        except (OSError, ValueError) as exc:
            raise DeliveryError(
                f"the picture could not be prepared: {exc}", retryable=False
            ) from exc
        filename = f"{generation.id}.{extension}"
        if generation.kind is Kind.DESCRIBE:
            embed = describe_embed(generation, filename)
        else:
            embed = result_embed(generation, self.styles.find(generation.style), filename)
        if link is not None:
            try:
                message_id = await link.edit_original(
                    content=None,
                    embed=embed,
                    attachments=[discord.File(io.BytesIO(data), filename=filename)],
                    view=result_view(generation),
                )
                await self._record(generation, message_id)
                return
            except discord.HTTPException as exc:
                if exc.status not in (401, 404):
                    raise delivery_error(exc) from exc
                log.info("generation %s: interaction token no longer valid", generation.id)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                raise DeliveryError(
                    f"Discord unreachable ({exc.__class__.__name__})", retryable=True
                ) from exc
        await self._fallback(generation, data, filename, embed)

    @staticmethod
    def _requester_id(generation: Generation) -> int:
        value = generation.handle.get("requester_id") or generation.user_id
        return int(str(value))

    async def _fallback(
        self, generation: Generation, data: bytes, filename: str, embed: discord.Embed
    ) -> None:
        """The token expired: post a new channel message that pings only the requester."""
        # Marked before sending (set-if-unset, one statement): if the process dies mid-send,
        # a retry must not post twice, nor may two processes both post.
        if not await self.handles.claim_handle_key(generation.id, FALLBACK_MARKER, time.time()):
            log.info("generation %s: fallback message already sent", generation.id)
            return
        requester = self._requester_id(generation)
        channel = self.client.get_partial_messageable(int(generation.chat_id))
        extra: dict[str, Any] = {}
        if generation.reply_to_message_id:  # a button's result replies to its message
            extra["reference"] = discord.MessageReference(
                message_id=int(generation.reply_to_message_id),
                channel_id=int(generation.chat_id),
                fail_if_not_exists=False,
            )
        try:
            sent = await channel.send(
                content=f"<@{requester}> your picture is ready.",
                embed=embed,
                file=discord.File(io.BytesIO(data), filename=filename),
                view=result_view(generation),
                allowed_mentions=only_user(requester),
                **extra,
            )
        except discord.HTTPException as exc:
            # Discord answered, so nothing was posted: the marker must not block a retry.
            await self.handles.update_handle(generation.id, {FALLBACK_MARKER: None})
            raise delivery_error(exc) from exc
        await self._record(generation, str(sent.id))
        log.info("generation %s: posted as a channel message (token expired)", generation.id)

    async def _record(self, generation: Generation, message_id: str | None) -> None:
        """The message that shows the result: its buttons act on it, and only on it."""
        if message_id is not None:
            await self.handles.update_handle(generation.id, {RESULT_MESSAGE: message_id})

    async def report_failure(self, generation: Generation) -> None:
        async with self.status.finishing(generation.id):
            reason = generation.failure_reason or "The picture could not be made."
            text = truncate(f"❌ “{shown(generation.prompt, 80)}”: {shown(reason, 1500)}", 2000)
            link = self._link(generation)
            if link is not None:
                try:
                    # The public "queued" message goes; the reason is shown to the requester only.
                    await link.send_ephemeral(text)
                    await link.delete_original()
                    return
                except discord.HTTPException as exc:
                    if exc.status not in (401, 404):
                        raise
            if not await self.handles.claim_handle_key(generation.id, FAILURE_MARKER, time.time()):
                return
            requester = self._requester_id(generation)
            channel = self.client.get_partial_messageable(int(generation.chat_id))
            await channel.send(
                content=f"<@{requester}> {text}", allowed_mentions=only_user(requester)
            )
