"""The admin `/style` group: a server's own styles (create, edit, delete, list, export, import).

Every subcommand checks in our code that the member is a server admin (`admin_only`, on the
permissions Discord resolved for this interaction); the group's default permissions are only a
hint. Reference pictures are attachment options, fetched from Discord's CDN only (the same
fetcher and size cap as /imagine's picture) after the command is acknowledged, then checked and
cleaned by the core like any input picture. Answers are private; user text in them never pings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord.answers import Readers, admin_only, reader_locale, reply
from bot.adapters.discord.attachments import AttachmentFetcher
from bot.adapters.discord.identity import requester_of, scope_of
from bot.adapters.discord.render import NO_MENTIONS, error_text, truncate
from bot.core.errors import UserFacingError
from bot.core.models import MAX_COUNT, AspectRatio, Style
from bot.core.requests.service import GenerationService
from bot.core.requests.style_recipes import MAX_EXPORT_CHARS, StyleDraft

PICTURES = ("picture1", "picture2", "picture3", "picture4")
FIELD_HELP = {
    "name": "The style's name (members type it, e.g. style:Neon Noir)",
    "recipe": "The prompt recipe; {prompt} is where the member's words go",
    "description": "One short line shown in /styles",
    "negative": "What pictures in this style should not show",
    "aspect": "The default shape when a member sets none",
    "count": "The default number of pictures when a member sets none",
    "provider": "The image provider this style prefers (one the bot has)",
    "hidden": "Hidden from members (admins still see and edit it)",
    "private": "Its code works only in this server",
    **{p: "A reference picture: the look to follow" for p in PICTURES},
}


async def say(interaction: discord.Interaction, text: str) -> None:
    """A private answer: the deferred ("thinking") response edited into it, or a new one."""
    if interaction.response.is_done():
        await interaction.edit_original_response(
            content=truncate(text, 2000), allowed_mentions=NO_MENTIONS
        )
    else:
        await reply(interaction, text)


MAX_FILES = 10  # attachments on one Discord message


def preview_files(styles: list[Style]) -> list[discord.File]:
    """The styles' preview grids as attachments (named by the style, never by a user)."""
    return [
        discord.File(s.preview_path, filename=f"preview-{s.id}.jpg")
        for s in styles
        if s.preview_path and Path(s.preview_path).is_file()
    ][:MAX_FILES]


async def with_previews(interaction: discord.Interaction, text: str, styles: list[Style]) -> None:
    """A private answer with the styles' previews attached (a plain one when none has any)."""
    files = preview_files(styles)
    if not files:
        await reply(interaction, text)
        return
    # Acknowledged first: reading and uploading the grids may take longer than Discord waits.
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)
    await interaction.edit_original_response(
        content=truncate(text, 2000), allowed_mentions=NO_MENTIONS, attachments=files
    )


def style_summary(style: Style) -> str:
    """One line about a style for its admins: name, code, flags, recipe."""
    marks = [m for m, on in (("hidden", style.hidden), ("private", style.private)) if on]
    pictures = len(style.style_references)
    extra = [f"{pictures} reference picture{'s' * (pictures != 1)}"] if pictures else []
    flags = f" ({', '.join(marks + extra)})" if marks or extra else ""
    return truncate(f"{style.label} `{style.code}`{flags}: {style.template}", 300)


class StyleCommands:
    """The handlers of the `/style` group, with what they share."""

    def __init__(self, service: GenerationService, fetcher: AttachmentFetcher) -> None:
        self.service = service
        self.fetcher = fetcher

    async def pictures(
        self, interaction: discord.Interaction, attachments: list[discord.Attachment | None]
    ) -> list[bytes]:
        """The attached pictures' bytes: foreign URLs and oversized files refused first."""
        chosen = [a for a in attachments if a is not None]
        for attachment in chosen:
            self.fetcher.check(attachment)
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=True, thinking=True)
        return [await self.fetcher.read(a) for a in chosen]

    async def create(self, interaction: discord.Interaction, fields: dict[str, Any]) -> None:
        attachments = [fields.pop(p) for p in PICTURES]
        draft = StyleDraft(**{k: v for k, v in fields.items() if v is not None})
        pictures = await self.pictures(interaction, attachments)
        style = await self.service.community.create(
            scope_of(interaction), requester_of(interaction), draft, pictures
        )
        await say(
            interaction,
            f"Created {style_summary(style)}\nMembers use it as style:{style.id}; any server "
            f"on this bot as style:{style.code}"
            + (" (private: here only)." if style.private else ".")
            + await self.preview(interaction, style),
        )

    async def preview(self, interaction: discord.Interaction, style: Style) -> str:
        """Queue the style's preview when it has none (new, or its look changed); what to
        tell the admin about it."""
        if style.hidden:
            return "\nA hidden style gets its preview once it is shown."
        try:
            if not await self.service.preview_style(scope_of(interaction), style):
                return ""
        except UserFacingError as exc:
            locale = await reader_locale(self.service, interaction)
            return f"\nNo preview was made: {error_text(exc, locale)}"
        return "\nIts preview is being made: /style list or /styles shows it when done."

    async def edit(
        self, interaction: discord.Interaction, style: str, fields: dict[str, Any]
    ) -> None:
        attachments = [fields.pop(p) for p in PICTURES]
        remove = fields.pop("remove_pictures")
        changes = {k: v for k, v in fields.items() if v is not None}
        if remove:
            pictures: list[bytes] | None = []
        elif any(attachments):
            pictures = await self.pictures(interaction, attachments)
        else:
            pictures = None
        edited = await self.service.community.edit(scope_of(interaction), style, changes, pictures)
        await say(
            interaction, f"Saved {style_summary(edited)}" + await self.preview(interaction, edited)
        )

    async def listing(self, interaction: discord.Interaction) -> None:
        own = await self.service.community.styles_of(scope_of(interaction))
        if not own:
            await say(interaction, "This server has no styles of its own yet: /style create.")
            return
        await with_previews(interaction, "\n".join(style_summary(s) for s in own), own)

    async def export(self, interaction: discord.Interaction, style: str) -> None:
        text = await self.service.community.export(scope_of(interaction), style)
        await say(
            interaction,
            "Paste this into /style import on any server (or bot):\n```yaml\n"
            + text.replace("```", "'''")
            + "```",
        )

    async def import_(
        self,
        interaction: discord.Interaction,
        text: str | None,
        file: discord.Attachment | None,
        name: str | None,
    ) -> None:
        if file is not None:
            self.fetcher.check(file)
            if (file.size or 0) > MAX_EXPORT_CHARS * 4:
                await say(interaction, "That file is too big to be an exported style.")
                return
            await interaction.response.defer(ephemeral=True, thinking=True)
            text = (await self.fetcher.read(file)).decode("utf-8", errors="replace")
        if not text:
            await say(interaction, "Give the exported text, a .yaml file, or a style's #code.")
            return
        style = await self.service.community.import_text(
            scope_of(interaction), requester_of(interaction), text, name
        )
        await say(interaction, f"Imported {style_summary(style)}")


def _guarded(handler: Any, readers: Readers) -> Any:
    """Admins only; the core's refusals answered in its words."""

    async def run(interaction: discord.Interaction, *args: Any) -> None:
        if not await admin_only(interaction):
            return
        try:
            await handler(interaction, *args)
        except UserFacingError as exc:
            await say(interaction, error_text(exc, await reader_locale(readers, interaction)))

    return run


def style_group(service: GenerationService, fetcher: AttachmentFetcher) -> app_commands.Group:
    group = app_commands.Group(
        name="style",
        description="This server's own styles (server admins)",
        default_permissions=discord.Permissions(manage_guild=True),
        allowed_contexts=app_commands.AppCommandContext(guild=True),
        allowed_installs=app_commands.AppInstallationType(guild=True),
    )
    commands = StyleCommands(service, fetcher)
    _add_create(group, commands)
    _add_edit(group, commands)
    _add_others(group, commands)
    return group


def _add_create(group: app_commands.Group, commands: StyleCommands) -> None:
    create_handler = _guarded(commands.create, commands.service)

    @group.command(name="create", description="Create a style of this server")
    @app_commands.describe(**FIELD_HELP)
    async def create(
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, 32],
        recipe: app_commands.Range[str, 1, 1000],
        description: app_commands.Range[str, 0, 100] | None = None,
        negative: app_commands.Range[str, 0, 1000] | None = None,
        aspect: AspectRatio | None = None,
        count: app_commands.Range[int, 1, MAX_COUNT] | None = None,
        provider: str | None = None,
        hidden: bool = False,
        private: bool = False,
        picture1: discord.Attachment | None = None,
        picture2: discord.Attachment | None = None,
        picture3: discord.Attachment | None = None,
        picture4: discord.Attachment | None = None,
    ) -> None:
        texts = {"name": name, "template": recipe, "description": description}
        shape = {"negative": negative, "aspect": aspect, "count": count, "provider": provider}
        flags = {"hidden": hidden, "private": private}
        pictures = dict(zip(PICTURES, (picture1, picture2, picture3, picture4), strict=True))
        await create_handler(interaction, {**texts, **shape, **flags, **pictures})


def _add_edit(group: app_commands.Group, commands: StyleCommands) -> None:
    edit_handler = _guarded(commands.edit, commands.service)

    @group.command(name="edit", description="Change a style of this server")
    @app_commands.describe(
        style="The style to change",
        remove_pictures="Remove its reference pictures",
        **FIELD_HELP,
    )
    async def edit(
        interaction: discord.Interaction,
        style: str,
        name: app_commands.Range[str, 1, 32] | None = None,
        recipe: app_commands.Range[str, 1, 1000] | None = None,
        description: app_commands.Range[str, 0, 100] | None = None,
        negative: app_commands.Range[str, 0, 1000] | None = None,
        aspect: AspectRatio | None = None,
        count: app_commands.Range[int, 1, MAX_COUNT] | None = None,
        provider: str | None = None,
        hidden: bool | None = None,
        private: bool | None = None,
        picture1: discord.Attachment | None = None,
        picture2: discord.Attachment | None = None,
        picture3: discord.Attachment | None = None,
        picture4: discord.Attachment | None = None,
        remove_pictures: bool = False,
    ) -> None:
        texts = {"name": name, "template": recipe, "description": description}
        shape = {"negative": negative, "aspect": aspect, "count": count, "provider": provider}
        flags = {"hidden": hidden, "private": private, "remove_pictures": remove_pictures}
        pictures = dict(zip(PICTURES, (picture1, picture2, picture3, picture4), strict=True))
        await edit_handler(interaction, style, {**texts, **shape, **flags, **pictures})


def _add_others(group: app_commands.Group, commands: StyleCommands) -> None:
    @group.command(name="delete", description="Delete a style of this server")
    @app_commands.describe(style="The style to delete")
    async def delete(interaction: discord.Interaction, style: str) -> None:
        async def run(interaction: discord.Interaction) -> None:
            gone = await commands.service.community.delete(scope_of(interaction), style)
            await say(interaction, f"Deleted {gone.label}.")

        await _guarded(run, commands.service)(interaction)

    @group.command(name="list", description="This server's own styles, hidden ones too")
    async def listing(interaction: discord.Interaction) -> None:
        await _guarded(commands.listing, commands.service)(interaction)

    @group.command(name="export", description="A style as text to import elsewhere")
    @app_commands.describe(style="The style's name, or any style's #code")
    async def export(interaction: discord.Interaction, style: str) -> None:
        await _guarded(commands.export, commands.service)(interaction, style)

    @group.command(name="import", description="A style from exported text, a file or a #code")
    @app_commands.describe(
        text="The exported text, or a style's #code",
        file="An exported style as a .yaml file",
        name="Import it under this name",
    )
    async def import_(
        interaction: discord.Interaction,
        text: str | None = None,
        file: discord.Attachment | None = None,
        name: app_commands.Range[str, 1, 32] | None = None,
    ) -> None:
        await _guarded(commands.import_, commands.service)(interaction, text, file, name)
