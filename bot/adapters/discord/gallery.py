"""`/gallery` (a private link to the server's or DM's web gallery) and `/settings gallery`."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord.answers import admin_only, reader_locale, tell
from bot.adapters.discord.identity import PLATFORM, is_moderator, is_server_admin, scope_of
from bot.adapters.discord.render import NO_MENTIONS, say
from bot.core.language import Duration, Text
from bot.core.models import Scope
from bot.core.requests.service import GenerationService
from bot.web.access import GalleryAccess

NOT_SET_UP = Text(
    "This bot has no web gallery (its operator can set one up with PUBLIC_URL and WEB_PORT)."
)
SWITCHED_OFF = Text("The gallery is switched off here; an admin can switch it on again.")
OPEN = Text("Open the gallery")


def gallery_view(link: str, locale: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label=say(OPEN, locale), url=link))
    return view


async def link_for(interaction: discord.Interaction, gallery: GalleryAccess | None) -> str | None:
    """The asker's link to the gallery of where they ask, or None (no gallery, or off)."""
    if gallery is None:
        return None
    moderator = is_server_admin(interaction) or is_moderator(interaction)
    return await gallery.link(
        PLATFORM, scope_of(interaction).id, user_id=str(interaction.user.id), admin=moderator
    )


async def with_gallery_button(
    interaction: discord.Interaction,
    gallery: GalleryAccess | None,
    view: discord.ui.View | None,
    locale: str,
) -> discord.ui.View | None:
    """`/history`'s answer offers the gallery too (a link button below its menu)."""
    link = await link_for(interaction, gallery)
    if link is None:
        return view
    view = view or discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label=say(OPEN, locale), url=link))
    return view


def _link_text(scope: Scope, hours: float) -> Text:
    valid = Duration(hours * 3600)
    if scope.is_direct:
        return Text(
            "Your private link to the pictures made in your direct messages with the bot, "
            "valid for {valid}. It signs you in: please do not share it.",
            valid=valid,
        )
    if scope.is_personal:
        return Text(
            "Your private link to the pictures made in chats I am not a member of (your own "
            "install), valid for {valid}. It signs you in: please do not share it.",
            valid=valid,
        )
    return Text(
        "Your private link to the pictures made in this server, valid for {valid}. It signs "
        "you in: please do not share it.",
        valid=valid,
    )


async def answer_with_link(
    interaction: discord.Interaction, gallery: GalleryAccess | None, service: GenerationService
) -> None:
    if gallery is None:
        await tell(service, interaction, NOT_SET_UP)
        return
    scope = scope_of(interaction)
    moderator = is_server_admin(interaction) or is_moderator(interaction)
    link = await gallery.link(PLATFORM, scope.id, user_id=str(interaction.user.id), admin=moderator)
    if link is None:
        await tell(service, interaction, SWITCHED_OFF)
        return
    locale = await reader_locale(service, interaction)
    await interaction.response.send_message(
        say(_link_text(scope, gallery.hours), locale),
        ephemeral=True,
        allowed_mentions=NO_MENTIONS,
        view=gallery_view(link, locale),
    )


def register_gallery(
    tree: app_commands.CommandTree[Any],
    settings: app_commands.Group,
    gallery: GalleryAccess | None,
    service: GenerationService,
) -> None:
    @tree.command(name="gallery", description="A private link to this server's picture gallery")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.allowed_installs(guilds=True, users=True)
    async def gallery_command(interaction: discord.Interaction) -> None:
        await answer_with_link(interaction, gallery, service)

    @settings.command(
        name="gallery",
        description="Switch this server's web gallery on or off, or revoke its links",
    )
    @app_commands.describe(
        enabled="On: members may open the gallery; off: nobody can (and old links stay dead)",
        revoke="Close every link and session given out so far (a leaked one among them)",
    )
    async def gallery_setting(
        interaction: discord.Interaction, enabled: bool | None = None, revoke: bool = False
    ) -> None:
        if not await admin_only(interaction, service):
            return
        if gallery is None:
            await tell(service, interaction, NOT_SET_UP)
            return
        scope = scope_of(interaction)
        if revoke:
            await gallery.revoke(PLATFORM, scope.id)
        if enabled is not None:
            await gallery.set_enabled(PLATFORM, scope.id, enabled)
        state = await gallery.enabled(PLATFORM, scope.id)
        await tell(service, interaction, _setting_text(state, revoke=revoke))


def _setting_text(enabled: bool, *, revoke: bool) -> Text:
    if enabled and revoke:
        return Text(
            "Every earlier link and session is closed. The gallery is on here: /gallery gives "
            "members a link."
        )
    if revoke:
        return Text(
            "Every earlier link and session is closed. The gallery is off here: links to it no "
            "longer open."
        )
    if enabled:
        return Text("The gallery is on here: /gallery gives members a link.")
    return Text("The gallery is off here: links to it no longer open.")
