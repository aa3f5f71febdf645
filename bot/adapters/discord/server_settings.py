"""`/settings limits` and `/settings nsfw`: the Discord side of Telegram's /setlimits and /nsfw.

Both call the same core functions the Telegram handlers call; only the wording and the
permission check (Manage Server, from the interaction itself) are Discord's.
"""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands

from bot.adapters.discord.answers import admin_only, refuse, reply
from bot.adapters.discord.identity import age_restricted, scope_of
from bot.core.errors import UserFacingError
from bot.core.models import MAX_COUNT, Scope
from bot.core.requests.service import GenerationService

MAX_LIMIT = 1_000_000


async def limits_text(service: GenerationService, scope: Scope) -> str:
    per_user, per_scope = await service.effective_limits(scope)
    pending = await service.effective_pending_limit(scope)
    most = await service.max_count(scope)
    return (
        f"Daily limits here: {per_user} pictures per member, "
        f"{per_scope if per_scope is not None else 'no limit'} for the server; "
        f"at most {pending} waiting per member; "
        f"up to {most} {'picture' if most == 1 else 'pictures'} per request."
    )


def nsfw_text(allowed: bool) -> str:
    if allowed:
        return "NSFW: allowed, in channels marked age-restricted only"
    return "NSFW: off"


def add_server_setting_commands(group: app_commands.Group, service: GenerationService) -> None:
    add_limits_command(group, service)
    add_nsfw_command(group, service)


def add_limits_command(group: app_commands.Group, service: GenerationService) -> None:
    @group.command(
        name="limits", description="Lower this server's limits (leave all out to see them)"
    )
    @app_commands.rename(
        per_user="per-member", per_server="per-server", pending="waiting", count="per-request"
    )
    @app_commands.describe(
        per_user="Pictures one member may make per day here",
        per_server="Pictures the whole server may make per day",
        pending="Requests one member may have waiting at once",
        count="Pictures one request may ask for (1-4; the count option of /imagine)",
        reset="Go back to the bot operator's limits first",
    )
    async def limits(
        interaction: discord.Interaction,
        per_user: app_commands.Range[int, 1, MAX_LIMIT] | None = None,
        per_server: app_commands.Range[int, 1, MAX_LIMIT] | None = None,
        pending: app_commands.Range[int, 1, MAX_LIMIT] | None = None,
        count: app_commands.Range[int, 1, MAX_COUNT] | None = None,
        reset: bool = False,
    ) -> None:
        if not await admin_only(interaction):
            return
        scope = scope_of(interaction)
        if reset:
            current: tuple[int | None, int | None, int | None] = (None, None, None)
        else:
            current = await service.scope_limit_overrides(scope)
        # Options left out keep what the server had; given ones replace it.
        new_user = per_user if per_user is not None else current[0]
        new_server = per_server if per_server is not None else current[1]
        new_pending = pending if pending is not None else current[2]
        changing = reset or any(v is not None for v in (per_user, per_server, pending, count))
        if changing:
            try:
                # Checked together first, so a refused value leaves every limit as it was.
                service.check_scope_limits(per_user=per_user, per_scope=per_server, pending=pending)
                await service.set_scope_limits(scope, per_user=new_user, per_scope=new_server)
                await service.set_scope_pending_limit(scope, new_pending)
                if reset or count is not None:
                    await service.set_scope_max_count(scope, count)
            except UserFacingError as exc:
                await refuse(interaction, exc, service)
                return
        await reply(interaction, await limits_text(service, scope))


def add_nsfw_command(group: app_commands.Group, service: GenerationService) -> None:
    @group.command(
        name="nsfw", description="Allow NSFW pictures in this server's age-restricted channels"
    )
    @app_commands.describe(choice="on: allowed in age-restricted channels only; off: never")
    async def nsfw(interaction: discord.Interaction, choice: Literal["on", "off"]) -> None:
        if not await admin_only(interaction):
            return
        allowed = choice == "on"
        await service.set_scope_nsfw(scope_of(interaction), allowed)
        if not allowed:
            await reply(interaction, "NSFW pictures are now off in this server.")
            return
        here = (
            "This channel is age-restricted, so they are allowed here."
            if age_restricted(interaction)
            else "This channel is not age-restricted, so they stay off here."
        )
        await reply(
            interaction,
            "NSFW pictures are now allowed in this server's channels marked age-restricted "
            f"(and only there; the image service must support them too). {here}",
        )
