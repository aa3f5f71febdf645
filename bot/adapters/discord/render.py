"""Everything the Discord adapter shows: texts, embeds and the buttons under a result."""

from __future__ import annotations

from datetime import UTC, datetime

import discord

from bot.core.errors import UserFacingError
from bot.core.models import Generation, Status, StatusUpdate, Style

# Every message the bot sends pings nobody, unless a caller asks for one user explicitly.
NO_MENTIONS = discord.AllowedMentions.none()
CUSTOM_ID_PREFIX = "ib"
EMBED_PROMPT_LIMIT = 1000  # well under the 4096 of a description; long prompts stay readable
STATUS_ICONS = {
    Status.QUEUED: "⏳",
    Status.RUNNING: "🎨",
    Status.DONE: "✅",
    Status.DELIVERED: "✅",
    Status.FAILED: "❌",
}


def only_user(user_id: int) -> discord.AllowedMentions:
    """Mentions that may ping exactly this user and nobody else."""
    return discord.AllowedMentions(
        everyone=False, roles=False, users=[discord.Object(id=user_id)], replied_user=False
    )


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_text(exc: UserFacingError) -> str:
    return f"⚠️ {exc.message}"


def queued_text(position: int) -> str:
    if position <= 1:
        return "⏳ Queued: you are next."
    return f"⏳ Queued: position {position}."


def status_text(update: StatusUpdate) -> str:
    if update.status is Status.QUEUED:
        return queued_text(update.position or 1)
    if update.detail == "retrying":
        return "⏳ The image service is busy; trying again…"
    extras = []
    if update.position:
        # A shared provider (the AI Horde) has its own queue: say where the request stands.
        extras.append(f"position {update.position} in the provider's queue")
    elif update.detail:
        extras.append(update.detail)
    if update.eta_seconds:
        extras.append(f"about {round(update.eta_seconds)} s left")
    return "🎨 Generating…" + (f" ({', '.join(extras)})" if extras else "")


def custom_id(action: str, generation_id: str) -> str:
    return f"{CUSTOM_ID_PREFIX}:{action}:{generation_id}"


def parse_custom_id(value: str) -> tuple[str, str] | None:
    parts = value.split(":")
    if len(parts) != 3 or parts[0] != CUSTOM_ID_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def result_embed(generation: Generation, style: Style | None, filename: str) -> discord.Embed:
    embed = discord.Embed(
        description=truncate(generation.prompt, EMBED_PROMPT_LIMIT),
        colour=discord.Colour.blurple(),
        timestamp=datetime.fromtimestamp(generation.finished_at or generation.created_at, tz=UTC),
    )
    embed.add_field(name="Style", value=style.label if style else generation.style)
    embed.add_field(name="Aspect", value=generation.aspect)
    embed.add_field(name="Seed", value=str(generation.seed))
    provider = generation.provider or "?"
    if generation.model:
        provider = f"{provider} ({generation.model})"
    embed.add_field(name="Provider", value=truncate(provider, 100))
    # A mention inside an embed never pings, so it can name the requester safely.
    embed.add_field(name="Requested by", value=f"<@{generation.user_id}>")
    if generation.negative_prompt:
        embed.add_field(
            name="Negative", value=truncate(generation.negative_prompt, 300), inline=False
        )
    embed.set_image(url=f"attachment://{filename}")
    embed.set_footer(text=f"id {generation.id}")
    return embed


def result_view(generation_id: str) -> discord.ui.View:
    """The buttons under a result. Their custom ids carry the generation id, so the
    component router handles them after a restart without any view kept in memory."""
    view = discord.ui.View(timeout=None)
    view.add_item(
        discord.ui.Button(
            label="Reroll",
            emoji="🎲",
            style=discord.ButtonStyle.primary,
            custom_id=custom_id("reroll", generation_id),
        )
    )
    view.add_item(
        discord.ui.Button(
            label="Restyle",
            emoji="🎨",
            style=discord.ButtonStyle.secondary,
            custom_id=custom_id("restyle", generation_id),
        )
    )
    view.add_item(
        discord.ui.Button(
            label="Delete",
            emoji="🗑️",
            style=discord.ButtonStyle.danger,
            custom_id=custom_id("delete", generation_id),
        )
    )
    # Stopped: nothing is stored in the client's view store; the router answers the clicks.
    view.stop()
    return view


def restyle_view(generation_id: str, styles: list[Style], current: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    options = [
        discord.SelectOption(
            label=truncate(style.name, 100),
            value=style.id,
            emoji=style.emoji or None,
            description=truncate(style.description, 100),
            default=style.id == current,
        )
        for style in styles[:25]
    ]
    view.add_item(
        discord.ui.Select(
            custom_id=custom_id("restyle-pick", generation_id),
            placeholder="Pick a style for a new picture",
            options=options,
        )
    )
    view.stop()
    return view


def history_view(generations: list[Generation]) -> discord.ui.View | None:
    viewable = [
        g for g in generations if g.image_path and g.status in (Status.DONE, Status.DELIVERED)
    ]
    if not viewable:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(
        discord.ui.Select(
            custom_id=custom_id("show", "history"),
            placeholder="See one of these pictures again",
            options=[
                discord.SelectOption(label=truncate(g.prompt, 100), value=g.id, description=g.style)
                for g in viewable[:25]
            ],
        )
    )
    view.stop()
    return view


def history_text(generations: list[Generation]) -> str:
    if not generations:
        return "You have not asked for any pictures yet. Try `/imagine`."
    lines = ["**Your last requests**"]
    for g in generations:
        icon = STATUS_ICONS.get(g.status, "•")
        when = f"<t:{int(g.created_at)}:R>"
        reason = f": {truncate(g.failure_reason, 120)}" if g.failure_reason else ""
        lines.append(
            f"{icon} {when} · `{g.style}` · {g.status.value}{reason}\n> {truncate(g.prompt, 150)}"
        )
    return truncate("\n".join(lines), 2000)


def styles_text(
    styles: list[Style], *, scope_default: str | None, user_default: str | None, restricted: bool
) -> str:
    lines = ["**Styles**" + (" allowed here" if restricted else "")]
    for style in styles:
        marks = []
        if style.id == scope_default:
            marks.append("server default")
        if style.id == user_default:
            marks.append("your default")
        mark = f" ({', '.join(marks)})" if marks else ""
        lines.append(f"{style.emoji} **{style.name}** `{style.id}`{mark}: {style.description}")
    return truncate("\n".join(lines), 2000)
