"""`/language` (a person's own language, or automatic: Discord's client language) and
`/settings language` (server admins: the server's default language and whether members' own
win). The answers are catalogue texts in the reader's locale, and `/language` answers the
person alone (ephemeral)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord.answers import admin_only, reply
from bot.adapters.discord.identity import requester_of, scope_of
from bot.adapters.discord.render import say
from bot.core.language import LANGUAGES
from bot.core.requests.languages import (
    community_language_set,
    language_automatic,
    language_set,
    own_name,
    picker_prompt,
)
from bot.core.requests.service import GenerationService

AUTOMATIC = "auto"
# Each language in its own name (what the picker shows), then automatic.
CHOICES = [
    *(app_commands.Choice(name=own_name(code), value=code) for code in LANGUAGES),
    app_commands.Choice(name="Automatic", value=AUTOMATIC),
]


def register_language(tree: app_commands.CommandTree[Any], service: GenerationService) -> None:
    @tree.command(name="language", description="The language I answer you in")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.describe(language="Your language, or Automatic to follow your Discord app")
    @app_commands.choices(language=CHOICES)
    async def language(
        interaction: discord.Interaction, language: app_commands.Choice[str] | None = None
    ) -> None:
        requester, scope = requester_of(interaction), scope_of(interaction)
        if language is None:
            now = await service.locale(requester, scope)
            await reply(interaction, say(picker_prompt(now), now))
            return
        chosen = None if language.value == AUTOMATIC else language.value
        await service.set_user_language(requester, chosen)
        now = await service.locale(requester, scope)
        await reply(interaction, say(language_set(now) if chosen else language_automatic(now), now))


def add_language_setting(group: app_commands.Group, service: GenerationService) -> None:
    @group.command(name="language", description="This server's language")
    @app_commands.rename(members_win="members-win")
    @app_commands.describe(
        language="The server's language, or Automatic for the server's own Discord language",
        members_win="Members whose Discord app uses another language get theirs (default yes)",
    )
    @app_commands.choices(language=CHOICES)
    async def server_language(
        interaction: discord.Interaction,
        language: app_commands.Choice[str],
        members_win: bool = True,
    ) -> None:
        if not await admin_only(interaction, service):
            return
        requester, scope = requester_of(interaction), scope_of(interaction)
        chosen = None if language.value == AUTOMATIC else language.value
        await service.set_community_language(scope, chosen, members_win=members_win)
        community = await service.community_locale(requester, scope)
        answer = community_language_set(
            community, chosen=chosen is not None, members_win=members_win
        )
        await reply(interaction, say(answer, await service.locale(requester, scope)))
