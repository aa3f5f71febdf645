"""The brush editor on Discord: 🖌 answers the presser with a link, and the desk takes the edits.

Pressing 🖌 (the `VaryRegion` button under a result) is checked like Delete: the picture was
made in this server or DM, and the presser asked for it or moderates the server. The answer
is ephemeral (only the presser sees it): a link button to a signed editor link made for the
presser, naming the picture, expiring after EDITOR_LINK_HOURS, working once. The link also
carries where the result may go, decided from the press's `app_permissions` as for any
request after its interaction's 15 minutes (late_route.py): the channel, as a reply to the
picture pinging only the editor, or the editor's DMs where the bot may not post there. An
edit is drawn long after any interaction token could carry it, so the result always goes
that way (DiscordDelivery's late message, marked with a nonce and read back on retry).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import discord

from bot.adapters.discord.answers import reader_locale
from bot.adapters.discord.delivery_handle import DiscordHandle
from bot.adapters.discord.identity import PLATFORM, is_moderator, requester_of, scope_of
from bot.adapters.discord.late_route import route_handle
from bot.adapters.discord.render import NO_MENTIONS, say
from bot.core.language import Duration, Text
from bot.core.models import EditRequest, ReplyTarget, Requester, Scope
from bot.core.requests.access import Need
from bot.core.requests.buttons import VaryRegion
from bot.core.requests.service import GenerationService
from bot.web.edit_orders import USED, EditOrder, EditRefused
from bot.web.links import EditorLinks

log = logging.getLogger(__name__)

QUEUED_FROM_EDITOR = Text(
    "Queued. The new picture will be posted in the channel as a reply to this one "
    "(or in your DMs where the bot may not post there)."
)


async def open_editor(
    service: GenerationService,
    links: EditorLinks,
    interaction: discord.Interaction,
    button: VaryRegion,
) -> None:
    """The presser's own editor link, shown to them alone."""
    moderator = is_moderator(interaction)
    scope = scope_of(interaction)
    await service.generation_for(
        button.generation_id,
        requester_of(interaction),
        scope,
        Need.OWNER_OR_MODERATOR,
        moderator=moderator,
    )
    route = route_handle(interaction)
    link = links.make(
        PLATFORM,
        scope.id,
        button.generation_id,
        user_id=str(interaction.user.id),
        admin=moderator,
        route=str(route.late_route),
        channel_limit=route.channel_size_limit,
    )
    locale = await reader_locale(service, interaction)
    view = discord.ui.View(timeout=None)
    label = say(Text("Open the editor"), locale)
    view.add_item(discord.ui.Button(label=label, emoji="🖌️", url=links.url(link)))
    view.stop()
    paint = Text(
        "🖌 Paint over what should change and say what to paint there. The link is yours "
        "alone: it works once, for {valid}.",
        valid=Duration(links.hours * 3600),
    )
    await interaction.response.send_message(
        say(paint, locale),
        view=view,
        ephemeral=True,
        allowed_mentions=NO_MENTIONS,
    )


class DiscordEditDesk:
    def __init__(self, service: GenerationService) -> None:
        self.service = service

    async def submit(self, order: EditOrder, claim: Callable[[], Awaitable[bool]]) -> str:
        link = order.link
        scope = Scope(platform=PLATFORM, id=link.scope_id)
        asking = Requester(platform=PLATFORM, user_id=order.user_id, display_name=order.name)
        original = await self.service.generation_for(
            link.generation_id, asking, scope, Need.OWNER_OR_MODERATOR, moderator=link.admin
        )
        if not asking.display_name:
            name = original.user_name if original.user_id == order.user_id else order.user_id
            asking = asking.model_copy(update={"display_name": name})
        prepared = await self.service.prepare_edit(
            link.generation_id,
            order.index,
            EditRequest(action="region"),
            asking,
            scope,
            mask=order.mask,
            prompt=order.prompt,
            moderator=link.admin,
        )
        if not await claim():
            raise EditRefused(USED)
        handle = DiscordHandle(
            requester_id=order.user_id,
            guild_id=None if scope.is_direct else scope.id,
            late_route=link.route,
            channel_size_limit=link.channel_limit,
        )
        picture = DiscordHandle.of(original.handle).message_id
        target = ReplyTarget(
            platform=PLATFORM,
            chat_id=original.chat_id,
            nsfw_ok=original.policy.nsfw_ok,  # the channel the picture is in, as it was then
            reply_to_message_id=picture if isinstance(picture, str) else None,
            handle=handle,
        )
        await self.service.submit(prepared, target)
        return say(QUEUED_FROM_EDITOR, prepared.locale)
