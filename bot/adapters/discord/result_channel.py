"""Results on Discord: status edits, the picture, and the failure notice (the ResultChannel).

The picture replaces the acknowledgement by editing the interaction's original response
(twice leaves one image; a delivery that an earlier process may have made first looks at the
response and leaves one that already shows this request's file). Once the interaction token
has expired, a new message sent with the bot token is the fallback: in the channel, pinging
only the requester, or, where the bot may not post there (late_route.py), in a DM.

That message is not naturally idempotent. Before sending, the handle gets a nonce (Discord,
with `enforce_nonce`, answers a repeated nonce with the message made first instead of a second
one) and the "sent" marker; the marker is cleared on any error before Discord returned a
message id (a refusal posted nothing; a cut connection may or may not have, and the nonce
covers the retry). The id Discord returns is stored at once, and a retry reads that message
back: there, the request is delivered; gone, it is posted again.
"""

from __future__ import annotations

import asyncio
import io
import logging
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import discord

from bot.adapters.discord.delivery_handle import FAILURE_MARKER, DiscordHandle
from bot.adapters.discord.images import DEFAULT_LIMIT, fit
from bot.adapters.discord.late_route import dm_refused_reason, eta_note, with_note
from bot.adapters.discord.render import (
    describe_embed,
    mentioning,
    only_user,
    result_embed,
    say,
    shown,
    status_text,
    truncate,
)
from bot.adapters.discord.result_buttons import result_view
from bot.adapters.discord.webhook import InteractionLink
from bot.core.delivery.status_throttle import StatusThrottle
from bot.core.errors import DeliveryError, failure_text
from bot.core.models import Generation, Kind, StatusUpdate
from bot.core.ports import DeliveryHandles
from bot.core.requests.styles import StyleCatalogue

log = logging.getLogger(__name__)

CONNECTION_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)
DM_CLOSED = 50007  # "Cannot send messages to this user"


def unreachable(exc: BaseException) -> DeliveryError:
    return DeliveryError(f"Discord unreachable ({exc.__class__.__name__})", retryable=True)


@dataclass(frozen=True)
class Prepared:
    """The picture as one message may carry it."""

    data: bytes
    filename: str
    embed: discord.Embed
    reduced: bool  # re-encoded or scaled down to fit: the original could not be sent


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
    except (discord.HTTPException, *CONNECTION_ERRORS):
        return False
    return any(name.startswith(f"{generation.id}.") for name in names)


class DiscordDelivery:
    def __init__(
        self,
        client: discord.Client,
        status: StatusThrottle[str],
        styles: StyleCatalogue,
        handles: DeliveryHandles,
        *,
        has_gallery: bool = False,
    ) -> None:
        self.client = client
        self.status = status
        self.styles = styles
        self.handles = handles
        self.has_gallery = has_gallery
        self.brush = False  # the 🖌 button (web_edits.py): where the bot serves the editor

    def _link(self, generation: Generation) -> InteractionLink | None:
        handle = DiscordHandle.of(generation.handle)
        token, app_id, expires_at = handle.token, handle.application_id, handle.expires_at
        if token is None or app_id is None:
            return None
        if expires_at is None or time.time() >= expires_at:
            return None
        return InteractionLink(self.client, int(str(app_id)), token)

    async def show_status(self, generation: Generation, update: StatusUpdate) -> None:
        link = self._link(generation)
        if link is None:
            return
        handle = DiscordHandle.of(generation.handle)
        text = with_note(status_text(update), handle)
        if late := eta_note(handle, update.eta_seconds):
            text = f"{status_text(update)}\n{late}"
        await self.status.show(generation.id, text, link.edit_text)

    async def deliver(self, generation: Generation, image_path: Path) -> None:
        async with self.status.finishing(generation.id):
            await self._deliver(generation, image_path)

    async def _deliver(self, generation: Generation, image_path: Path) -> None:
        link = self._link(generation)
        if link is not None and generation.may_be_posted and await _shows(link, generation):
            log.info("generation %s: already shows its picture", generation.id)
            return
        if link is not None:
            limit = DiscordHandle.of(generation.handle).size_limit
            prepared = await self._prepare(generation, image_path, limit)
            try:
                message_id = await link.edit_original(
                    content=self._smaller_note(prepared),
                    embed=prepared.embed,
                    attachments=[discord.File(io.BytesIO(prepared.data), prepared.filename)],
                    view=result_view(generation, brush=self.brush),
                )
                await self._record(generation, message_id)
                return
            except discord.HTTPException as exc:
                if exc.status not in (401, 404):
                    raise delivery_error(exc) from exc
                log.info("generation %s: interaction token no longer valid", generation.id)
            except CONNECTION_ERRORS as exc:
                raise unreachable(exc) from exc
        await self._late(generation, image_path)

    async def _prepare(self, generation: Generation, image_path: Path, limit: object) -> Prepared:
        size_limit = limit if isinstance(limit, int) and limit > 0 else DEFAULT_LIMIT
        try:
            (data, extension), original = await asyncio.gather(
                asyncio.to_thread(fit, image_path, size_limit),
                asyncio.to_thread(lambda: image_path.stat().st_size),
            )
        except (OSError, ValueError) as exc:
            raise DeliveryError(
                f"the picture could not be prepared: {exc}", retryable=False
            ) from exc
        filename = f"{generation.id}.{extension}"
        if generation.kind is Kind.DESCRIBE:
            embed = describe_embed(generation, filename)
        else:
            embed = result_embed(generation, self.styles.find(generation.style), filename)
        return Prepared(data, filename, embed, reduced=original > size_limit)

    def _smaller_note(self, prepared: Prepared) -> str | None:
        if not prepared.reduced:
            return None
        note = "Made smaller to fit Discord's upload limit here"
        if self.has_gallery:  # the original is kept there
            return f"{note}; full size: see the gallery (`/gallery`)."
        return f"{note}."

    @staticmethod
    def _requester_id(generation: Generation) -> int:
        value = DiscordHandle.of(generation.handle).requester_id or generation.user_id
        return int(str(value))

    async def _late_channel(self, generation: Generation) -> discord.abc.Messageable:
        """Where a message sent with the bot token goes: the channel, or the requester's DMs
        where the bot may not post in the channel."""
        if not DiscordHandle.of(generation.handle).goes_direct:
            return self.client.get_partial_messageable(int(generation.chat_id))
        try:
            return await self.client.create_dm(discord.Object(id=self._requester_id(generation)))
        except discord.HTTPException as exc:
            raise delivery_error(exc) from exc
        except CONNECTION_ERRORS as exc:
            raise unreachable(exc) from exc

    async def _late(self, generation: Generation, image_path: Path) -> None:
        """The token expired: post a new message that pings only the requester, once; where
        the bot is not a member, nothing can be posted: the picture stays in the requester's
        history and gallery, as the response told them (late_route.py)."""
        if DiscordHandle.of(generation.handle).only_interaction:
            await self.handles.update_handle(
                generation.id, DiscordHandle(kept_after_token_at=time.time())
            )
            log.info("generation %s: token over; kept in history and gallery", generation.id)
            return
        channel = await self._late_channel(generation)
        posted = await self._read_back(generation, channel)
        if posted:
            log.info("generation %s: its late message is there already", generation.id)
            return
        # A message known gone needs a new nonce: the old one would name it again.
        handle = DiscordHandle.of(generation.handle)
        nonce = None if posted is False else handle.fallback_nonce
        direct = handle.goes_direct
        # Bot-token messages are capped by the server's own limit (the user's Nitro does not
        # count); in a DM, by Discord's default.
        limit = DEFAULT_LIMIT if direct else handle.channel_size_limit
        prepared = await self._prepare(generation, image_path, limit)
        requester = self._requester_id(generation)
        text = "your picture is ready."
        if direct:
            text = f"your picture is ready (I may not post it in <#{generation.chat_id}>)."
        if note := self._smaller_note(prepared):
            text = f"{text} {note}"
        extra: dict[str, Any] = {}
        if generation.reply_to_message_id and not direct:  # a button's result replies to it
            extra["reference"] = discord.MessageReference(
                message_id=int(generation.reply_to_message_id),
                channel_id=int(generation.chat_id),
                fail_if_not_exists=False,
            )
        await self._post_once(
            generation,
            channel,
            nonce,
            content=mentioning(requester, text),
            embed=prepared.embed,
            file=discord.File(io.BytesIO(prepared.data), filename=prepared.filename),
            view=result_view(generation, brush=self.brush),
            allowed_mentions=only_user(requester),
            **extra,
        )
        where = "a DM" if direct else "a channel message"
        log.info("generation %s: posted as %s (token expired)", generation.id, where)

    async def _read_back(
        self, generation: Generation, channel: discord.abc.Messageable
    ) -> bool | None:
        """Whether the message a previous attempt stored is still there (read back, never
        taken on faith: the row says `delivered` only when the picture is in the chat);
        None when no attempt got as far as a message id."""
        stored = DiscordHandle.of(generation.handle).fallback_message_id
        if stored is None or not stored.isdigit():
            return None
        try:
            await channel.fetch_message(int(stored))
        except discord.NotFound:
            log.info("generation %s: its late message is gone; posting again", generation.id)
            await self.handles.update_handle(
                generation.id, DiscordHandle(fallback_message_id=None, fallback_nonce=None)
            )
            return False
        except discord.HTTPException as exc:
            raise delivery_error(exc) from exc
        except CONNECTION_ERRORS as exc:
            raise unreachable(exc) from exc
        return True

    async def _post_once(
        self,
        generation: Generation,
        channel: discord.abc.Messageable,
        nonce: str | None,
        **message: Any,
    ) -> None:
        """Send, marked before with the nonce of this attempt (an earlier attempt's, when it
        may have posted), and store the id Discord returned."""
        nonce = nonce or secrets.token_hex(12)  # Discord takes at most 25 characters
        # Marked before sending, with the nonce a repeat must carry to be recognised.
        await self.handles.update_handle(
            generation.id, DiscordHandle(fallback_sent_at=time.time(), fallback_nonce=nonce)
        )
        try:
            sent = await channel.send(nonce=nonce, **message)
        except discord.HTTPException as exc:
            # Discord refused it, so nothing was posted (after a 5xx it may have been: the
            # nonce, kept, covers that): the marker must not block a retry.
            await self.handles.update_handle(generation.id, DiscordHandle(fallback_sent_at=None))
            if exc.code == DM_CLOSED:
                reason = dm_refused_reason(DiscordHandle.of(generation.handle))
                raise DeliveryError(reason, retryable=False) from exc
            raise delivery_error(exc) from exc
        except CONNECTION_ERRORS as exc:
            # No message id came back: posted or not, nobody knows. The retry sends the same
            # nonce, so Discord hands back the first message if there is one.
            await self.handles.update_handle(generation.id, DiscordHandle(fallback_sent_at=None))
            raise unreachable(exc) from exc
        await self.handles.update_handle(
            generation.id, DiscordHandle(fallback_message_id=str(sent.id))
        )
        await self._record(generation, str(sent.id))

    async def _record(self, generation: Generation, message_id: str | None) -> None:
        """The message that shows the result: its buttons act on it, and only on it."""
        if message_id is not None:
            await self.handles.update_handle(generation.id, DiscordHandle(message_id=message_id))

    async def report_failure(self, generation: Generation) -> None:
        async with self.status.finishing(generation.id):
            reason = failure_text(generation.failure_code, generation.failure_reason)
            words = say(reason, generation.locale)
            text = f"❌ “{shown(generation.prompt, 80)}”: {words}"
            link = self._link(generation)
            if link is not None:
                try:
                    # The public "queued" message goes; the reason is shown to the requester only.
                    await link.send_ephemeral(truncate(text, 2000))
                    await link.delete_original()
                    return
                except discord.HTTPException as exc:
                    if exc.status not in (401, 404):
                        raise
            if DiscordHandle.of(generation.handle).only_interaction:
                return  # no channel to say it in: the row keeps the reason (`/history`)
            if not await self.handles.claim_handle_key(generation.id, FAILURE_MARKER, time.time()):
                return
            requester = self._requester_id(generation)
            channel = await self._late_channel(generation)
            try:
                await channel.send(
                    content=mentioning(requester, text), allowed_mentions=only_user(requester)
                )
            except discord.HTTPException as exc:
                # The row keeps the reason (`/history` shows it); nowhere else to say it.
                log.info("generation %s: failure notice refused: %s", generation.id, exc)
