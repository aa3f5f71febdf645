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


def scope_of(interaction: discord.Interaction) -> Scope:
    """A server is one scope; outside a server, the DM channel is its own scope."""
    if interaction.guild_id is not None:
        return Scope(platform=PLATFORM, id=str(interaction.guild_id))
    return Scope.direct(PLATFORM, str(interaction.channel_id))


def is_server_admin(interaction: discord.Interaction) -> bool:
    # `default_member_permissions` on the command is a hint server admins can override,
    # so the handler checks the permissions Discord resolved for this member itself.
    if interaction.guild_id is None:
        return False
    perms = interaction.permissions
    return perms.administrator or perms.manage_guild


def is_moderator(interaction: discord.Interaction) -> bool:
    if interaction.guild_id is None:
        return False
    perms = interaction.permissions
    return perms.administrator or perms.manage_messages


def age_restricted(interaction: discord.Interaction) -> bool:
    """Whether Discord marks the interaction's channel age-restricted (threads: their parent's).

    DMs and channels discord.py only knows partially count as not age-restricted, so NSFW
    output is never allowed there whatever the server switch says."""
    if interaction.guild_id is None:
        return False
    is_nsfw = getattr(interaction.channel, "is_nsfw", None)
    return bool(is_nsfw()) if callable(is_nsfw) else False
