"""Who is asking and where: core identities and permission checks from an interaction."""

from __future__ import annotations

import discord

from bot.core.models import Requester, Scope

PLATFORM = "discord"


def requester_of(interaction: discord.Interaction) -> Requester:
    """Who asks, with the language their Discord client is set to (`locale`) and, in a
    server, the server's (`guild_locale`): the core picks the reader's locale from them."""
    user = interaction.user
    server = interaction.guild_locale if interaction.guild_id is not None else None
    return Requester(
        platform=PLATFORM,
        user_id=str(user.id),
        display_name=user.display_name,
        language=_tag(interaction.locale),
        community_language=_tag(server),
    )


def _tag(locale: object) -> str | None:
    """discord.py's `Locale` (or the raw value of one it does not know) as its tag."""
    if locale is None:
        return None
    return str(getattr(locale, "value", locale))


def bot_is_member(interaction: discord.Interaction) -> bool:
    """Whether the bot is where the interaction happened: its own DM with the user, or a
    server that installed it (`authorizing_integration_owners` names the server, or the bot
    knows the server from the gateway: a member using their own install there). A DM or
    group DM between users (context 2) and a server without the bot reach it only through
    a user install: there it can answer only through the interaction."""
    if interaction.guild_id is None:
        return not interaction.context.private_channel
    if interaction.is_guild_integration():
        return True
    return interaction.client.get_guild(interaction.guild_id) is not None


def scope_of(interaction: discord.Interaction) -> Scope:
    """A server that has the bot is one scope (its limits and settings hold for its members,
    even through their own install); the DM with the bot is its own scope; anywhere else the
    bot is not a member, the requester's personal scope."""
    if not bot_is_member(interaction):
        return Scope.personal(PLATFORM, str(interaction.user.id))
    if interaction.guild_id is not None:
        return Scope(platform=PLATFORM, id=str(interaction.guild_id))
    return Scope.direct(PLATFORM, str(interaction.channel_id))


def is_server_admin(interaction: discord.Interaction) -> bool:
    # `default_member_permissions` on the command is a hint server admins can override,
    # so the handler checks the permissions Discord resolved for this member itself.
    if interaction.guild_id is None or not bot_is_member(interaction):
        return False  # no server settings where the bot is not a member
    perms = interaction.permissions
    return perms.administrator or perms.manage_guild


def is_moderator(interaction: discord.Interaction) -> bool:
    if interaction.guild_id is None or not bot_is_member(interaction):
        return False
    perms = interaction.permissions
    return perms.administrator or perms.manage_messages


def age_restricted(interaction: discord.Interaction) -> bool:
    """Whether Discord marks the interaction's channel age-restricted (threads: their parent's).

    DMs and channels discord.py only knows partially count as not age-restricted, so NSFW
    output is never allowed there whatever the server switch says."""
    if interaction.guild_id is None or not bot_is_member(interaction):
        return False  # a server without the bot: its rules are unknown, so never
    is_nsfw = getattr(interaction.channel, "is_nsfw", None)
    return bool(is_nsfw()) if callable(is_nsfw) else False
