"""Slash commands: /imagine, /styles, /mystyle, /history, the admin /settings group (its
limits and nsfw commands live in server_settings.py), /describe (describe.py),
/forget-me (privacy.py) and /share (share.py).

Every command but the admin /settings group is declared for both installations (a server's,
and a user's own: `allowed_installs`) and every context (servers, the DM with the bot, and
private channels: DMs and group DMs between users; `allowed_contexts`). Where the bot is not a
member, a request runs in the requester's personal scope and is answered through the
interaction only (identity.py, late_route.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord.answers import admin_only, refuse, reply
from bot.adapters.discord.community_styles import style_group, with_previews
from bot.adapters.discord.describe import register_describe
from bot.adapters.discord.gallery import register_gallery, with_gallery_button
from bot.adapters.discord.identity import requester_of, scope_of
from bot.adapters.discord.intake import Intake
from bot.adapters.discord.languages import add_language_setting, register_language
from bot.adapters.discord.privacy import register_forget_me
from bot.adapters.discord.render import (
    NO_MENTIONS,
    history_text,
    history_view,
    styles_text,
    truncate,
)
from bot.adapters.discord.server_settings import (
    add_server_setting_commands,
    limits_text,
    nsfw_text,
)
from bot.adapters.discord.share import register_share
from bot.core.errors import UserFacingError
from bot.core.models import DEFAULT_STRENGTH, MAX_COUNT, MAX_SEED, AspectRatio, ImagineCommand
from bot.core.requests.service import GenerationService, PreparedRequest
from bot.web.access import GalleryAccess


def register_commands(
    tree: app_commands.CommandTree[Any],
    service: GenerationService,
    intake: Intake,
    gallery: GalleryAccess | None,
) -> None:
    register_imagine(tree, service, intake)
    register_styles(tree, service)
    register_history(tree, service, gallery)
    group = settings_group(service)
    register_gallery(tree, group, gallery)
    add_language_setting(group, service)
    tree.add_command(group)
    register_forget_me(tree)
    register_describe(tree, service, intake)
    tree.add_command(style_group(service, intake.fetcher))
    register_share(tree, service)
    register_language(tree, service)


StyleChoices = Callable[
    [discord.Interaction, str], Coroutine[Any, Any, list[app_commands.Choice[str]]]
]


def style_choices(service: GenerationService, *, allowed_only: bool) -> StyleChoices:
    """Autocomplete for a style option: the scope's allowed styles, or the whole catalogue."""

    async def choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        allowed, scope = None, scope_of(interaction)
        if allowed_only:
            settings = await service.scope_settings(scope)
            allowed = settings.allowed_styles or None
        # The built-in styles and the server's own (a cached catalogue: no query per key).
        styles = (await service.style_catalogue(scope)).search(current, allowed, limit=25)
        return [app_commands.Choice(name=truncate(s.label, 100), value=s.id) for s in styles]

    return choices


def register_imagine(
    tree: app_commands.CommandTree[Any], service: GenerationService, intake: Intake
) -> None:
    allowed_style_choices = style_choices(service, allowed_only=True)

    @tree.command(
        name="imagine",
        description="Make a picture from a description",
    )
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.describe(
        prompt="What the picture should show",
        style="A look from the catalogue (see /styles)",
        aspect="Picture shape (width:height)",
        negative="What the picture should not show",
        seed="Repeat a result: the same seed and settings give a similar picture",
        count="How many pictures: 1 to 4, shown as one grid",
        image="Start from this picture (PNG, JPEG, WebP or GIF)",
        style_ref="A picture of the look to follow (style reference)",
        strength=(
            "With an image: how far the result may move from it "
            f"(0.1-1.0, default {DEFAULT_STRENGTH:g})"
        ),
    )
    @app_commands.autocomplete(style=allowed_style_choices)
    async def imagine(
        interaction: discord.Interaction,
        prompt: str,
        style: str | None = None,
        aspect: AspectRatio | None = None,
        negative: str | None = None,
        seed: app_commands.Range[int, 0, MAX_SEED] | None = None,
        count: app_commands.Range[int, 1, MAX_COUNT] | None = None,
        image: discord.Attachment | None = None,
        strength: app_commands.Range[float, 0.1, 1.0] | None = None,
        style_ref: discord.Attachment | None = None,
    ) -> None:
        # Aspect and count only when given: else the style's defaults apply.
        shape = {k: v for k, v in (("aspect", aspect), ("count", count)) if v is not None}
        command = ImagineCommand(
            prompt=prompt,
            style=style,
            negative_prompt=negative,
            seed=seed,
            **shape,
            strength=strength if strength is not None else DEFAULT_STRENGTH,
        )
        who, where = requester_of(interaction), scope_of(interaction)
        # Owed an acknowledgement until deferred: deliveries wait (core/acknowledgements.py).
        with service.acknowledgements.owed():
            if image is not None or style_ref is not None:
                await with_pictures(service, intake, interaction, command, image, style_ref)
                return
            prepare = asyncio.ensure_future(service.prepare(who, where, command))
            await intake.prepare_then_submit(interaction, prepare)


async def with_pictures(
    service: GenerationService,
    intake: Intake,
    interaction: discord.Interaction,
    command: ImagineCommand,
    image: discord.Attachment | None,
    style_ref: discord.Attachment | None,
) -> None:
    """/imagine with a picture to start from, a style reference picture, or both."""
    who, where = requester_of(interaction), scope_of(interaction)

    async def from_pictures(pictures: list[bytes]) -> PreparedRequest:
        fetched = iter(pictures)  # in the order attached: image, then style_ref
        update = {
            "image": next(fetched) if image is not None else None,
            "style_references": (next(fetched),) if style_ref is not None else (),
        }
        return await service.prepare(who, where, command.model_copy(update=update))

    attached = [a for a in (image, style_ref) if a is not None]
    await intake.with_pictures(interaction, attached, from_pictures)


def register_styles(tree: app_commands.CommandTree[Any], service: GenerationService) -> None:
    """/styles and /mystyle."""

    any_style_choices = style_choices(service, allowed_only=False)

    @tree.command(
        name="styles",
        description="List the picture styles",
    )
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.allowed_installs(guilds=True, users=True)
    async def styles(interaction: discord.Interaction) -> None:
        scope = scope_of(interaction)
        settings = await service.scope_settings(scope)
        allowed = await service.allowed_styles(scope)
        text = styles_text(
            allowed,
            scope_default=settings.default_style or service.settings.default_style,
            user_default=await service.user_style(requester_of(interaction)),
            restricted=bool(settings.allowed_styles),
        )
        # The server's own styles show their previews (the grids made when they were saved).
        await with_previews(interaction, text, [s for s in allowed if s.community])

    @tree.command(
        name="mystyle",
        description="Set your own default style (leave empty to clear it)",
    )
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.describe(style="Your default style everywhere; leave out to clear")
    @app_commands.autocomplete(style=any_style_choices)
    async def mystyle(interaction: discord.Interaction, style: str | None = None) -> None:
        try:
            chosen = await service.set_user_style(
                requester_of(interaction), style, scope_of(interaction)
            )
        except UserFacingError as exc:
            await refuse(interaction, exc, service)
            return
        if chosen is None:
            await reply(interaction, "Your default style is cleared.")
        else:
            await reply(interaction, f"Your default style is now {chosen.label}.")


def register_history(
    tree: app_commands.CommandTree[Any], service: GenerationService, gallery: GalleryAccess | None
) -> None:
    @tree.command(
        name="history",
        description="Your last 10 pictures",
    )
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.allowed_installs(guilds=True, users=True)
    async def history(interaction: discord.Interaction) -> None:
        rows = await service.history(requester_of(interaction), limit=10)
        view = await with_gallery_button(interaction, gallery, history_view(rows))
        text = history_text(rows)
        if view is None:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
        else:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=NO_MENTIONS, view=view
            )


def default_style_choices(service: GenerationService) -> StyleChoices:
    """Autocomplete for /settings default-style: the allowed styles, and "none" to reset."""

    async def choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        scope = scope_of(interaction)
        settings = await service.scope_settings(scope)
        catalogue = await service.style_catalogue(scope)
        styles = catalogue.search(current, settings.allowed_styles or None, limit=24)
        found = [app_commands.Choice(name=truncate(s.label, 100), value=s.id) for s in styles]
        return [*found, app_commands.Choice(name="(none: use the bot's default)", value="none")]

    return choices


def settings_group(service: GenerationService) -> app_commands.Group:
    group = app_commands.Group(
        name="settings",
        description="Server settings for imaginebot (server admins)",
        default_permissions=discord.Permissions(manage_guild=True),
        allowed_contexts=app_commands.AppCommandContext(guild=True),
        allowed_installs=app_commands.AppInstallationType(guild=True),
    )
    style_choices = default_style_choices(service)

    @group.command(name="show", description="Show this server's settings")
    async def show(interaction: discord.Interaction) -> None:
        if not await admin_only(interaction):
            return
        scope = scope_of(interaction)
        settings = await service.scope_settings(scope)
        default = settings.default_style or f"{service.settings.default_style} (bot default)"
        allowed = ", ".join(settings.allowed_styles) if settings.allowed_styles else "all styles"
        await reply(
            interaction,
            f"Default style: {default}\nAllowed styles: {allowed}\n"
            f"{await limits_text(service, scope)}\n{nsfw_text(settings.nsfw)}",
        )

    @group.command(name="default-style", description="Set the server's default style")
    @app_commands.describe(style="The style used when a member picks none ('none' to reset)")
    @app_commands.autocomplete(style=style_choices)
    async def default_style(interaction: discord.Interaction, style: str) -> None:
        if not await admin_only(interaction):
            return
        text = None if style.strip().lower() in ("none", "reset", "") else style
        try:
            chosen = await service.set_scope_default(scope_of(interaction), text)
        except UserFacingError as exc:
            await refuse(interaction, exc, service)
            return
        if chosen is None:
            await reply(interaction, "This server now uses the bot's default style.")
        else:
            await reply(interaction, f"This server's default style is now {chosen.label}.")

    add_allowed_styles_command(group, service)
    add_server_setting_commands(group, service)
    return group


def add_allowed_styles_command(group: app_commands.Group, service: GenerationService) -> None:
    @group.command(name="allowed-styles", description="Limit which styles members may use")
    @app_commands.describe(styles="Comma-separated style names, or 'all'")
    async def allowed_styles(interaction: discord.Interaction, styles: str) -> None:
        if not await admin_only(interaction):
            return
        parts = [p.strip() for p in styles.split(",") if p.strip()]
        everything = not parts or [p.lower() for p in parts] == ["all"]
        try:
            chosen = await service.set_allowed_styles(
                scope_of(interaction), None if everything else parts
            )
        except UserFacingError as exc:
            await refuse(interaction, exc, service)
            return
        if not chosen:
            await reply(interaction, "Members may use every style.")
        else:
            names = ", ".join(s.label for s in chosen)
            await reply(interaction, f"Members may now use: {names}.")
