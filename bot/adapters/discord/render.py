"""Everything the Discord adapter shows: texts, embeds and the buttons under a result."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import discord

from bot.core.errors import UserFacingError, retrying_words
from bot.core.language import CATALOGUES, ENGLISH, Number, Text
from bot.core.models import Generation, Info, Status, StatusUpdate, Style
from bot.core.requests.buttons import RestylePick, Show
from bot.core.text import strip_bidi

# Every message the bot sends pings nobody, unless a caller asks for one user explicitly.
NO_MENTIONS = discord.AllowedMentions.none()
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


# Markdown escaping is done here rather than with discord.utils.escape_markdown: that helper
# skips everything between the first `[` and the last `)` of a text when it sees a masked link,
# so "[a](x) **b** [c](y)" kept a live masked link and bold after the first one. It also leaves
# ordered lists, `+` lists and the angle-bracket syntax alone.
_URL = re.compile(
    r"(?<!\w)(?:https?|steam)://[^\s<]+[^<.,:;\"'\]\s]"
)  # shown as typed, like Discord
_INLINE = re.compile(r"([\\*_~|`\[])")
# `<@1>`, `<#1>`, `<:e:1>`, `<a:e:1>`, `<t:1:R>`, `</cmd:1>`: escaping the `<` itself is not
# enough (after a link, Discord takes the backslash into the link), so the first punctuation
# inside the brackets is escaped.
_ANGLE = re.compile(r"<(\w*)([@#:/])")
_LINE_START = re.compile(r"^([#>+-])", re.MULTILINE)  # headings, quotes, lists, subtext
_ORDERED_LIST = re.compile(r"^(\d+)\.", re.MULTILINE)
# Indentation is dropped: a list or quote could start after the spaces.
_INDENT = re.compile(r"^[^\S\n]+", re.MULTILINE)


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mentioning(user_id: int, text: str, limit: int = 2000) -> str:
    """`<@id> text` within Discord's content limit: the mention prefix counts too."""
    prefix = f"<@{user_id}> "
    return prefix + truncate(text, limit - len(prefix))


def shown(text: str, limit: int | None = None) -> str:
    """User (or provider) text as it may appear in a message or embed: no bidi controls, and
    every Markdown character escaped, so it shows as typed and cannot restyle our message
    (masked links, headings, lists, quotes, spoilers, code, mentions) or hide what follows.
    Truncated before escaping, so an escape is never cut in half."""
    plain = _INDENT.sub("", strip_bidi(text))
    if limit is not None:
        plain = truncate(plain, limit)
    pieces: list[str] = []
    end = 0
    for link in _URL.finditer(plain):
        pieces.append(_escape_inline(plain[end : link.start()]))
        pieces.append(link.group())
        end = link.end()
    pieces.append(_escape_inline(plain[end:]))
    escaped = _LINE_START.sub(r"\\\1", "".join(pieces))
    return _ORDERED_LIST.sub(r"\1\\.", escaped)


def _escape_inline(text: str) -> str:
    return _ANGLE.sub(r"<\1\\\2", _INLINE.sub(r"\\\1", text))


def plain(text: str, limit: int) -> str:
    """User text where Discord shows no Markdown (select options, footers): bidi removed."""
    return truncate(strip_bidi(text), limit)


def error_text(exc: UserFacingError, locale: str) -> str:
    """A refusal in the reader's `locale` (its English is `exc.message`, for the record)."""
    return f"⚠️ {say(exc.text, locale)}"


def say(text: Text, locale: str) -> str:
    """`text` in the reader's `locale`: the catalogue's words as written (their Markdown
    is ours), user text in it escaped like every other user text (`shown`)."""
    return CATALOGUES.render(text, locale, escape=shown)


def queued_text(position: int, locale: str = ENGLISH) -> str:
    if position <= 1:
        return say(Text("⏳ Queued: you are next."), locale)
    return say(Text("⏳ Queued: position {position}.", position=Number(position)), locale)


def status_text(update: StatusUpdate) -> str:
    if update.status is Status.QUEUED:
        return queued_text(update.position or 1)
    retrying = retrying_words(update.detail)
    if retrying:
        return f"⏳ {retrying}"
    extras = []
    if update.position:
        # A shared provider (the AI Horde) has its own queue: say where the request stands.
        extras.append(f"position {update.position} in the provider's queue")
    elif update.detail:
        extras.append(shown(update.detail, 200))
    if update.eta_seconds:
        extras.append(f"about {round(update.eta_seconds)} s left")
    return "🎨 Generating…" + (f" ({', '.join(extras)})" if extras else "")


_NAMED_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")  # a style id or a generation id


def parse_values(values: object) -> list[str]:
    """A select menu's chosen values: style ids and generation ids only (ASCII, bounded);
    anything else is dropped, so the action then answers "no longer supported"."""
    if not isinstance(values, list):
        return []
    return [v for v in values[:25] if isinstance(v, str) and _NAMED_ID.fullmatch(v)]


def result_embed(generation: Generation, style: Style | None, filename: str) -> discord.Embed:
    embed = discord.Embed(
        description=shown(generation.prompt, EMBED_PROMPT_LIMIT),
        colour=discord.Colour.blurple(),
        timestamp=datetime.fromtimestamp(generation.finished_at or generation.created_at, tz=UTC),
    )
    embed.add_field(name="Style", value=style.label if style else generation.style)
    embed.add_field(name="Aspect", value=generation.aspect)
    seeds = [image.seed for image in generation.images if image.seed is not None]
    if len(seeds) > 1:
        embed.add_field(name="Seeds", value=" · ".join(f"{i}: {s}" for i, s in enumerate(seeds, 1)))
    else:
        embed.add_field(name="Seed", value=str(seeds[0] if seeds else generation.seed))
    provider = generation.provider or "?"
    if generation.model:
        provider = f"{provider} ({generation.model})"
    embed.add_field(name="Provider", value=truncate(provider, 100))
    # A mention inside an embed never pings, so it can name the requester safely.
    embed.add_field(name="Requested by", value=f"<@{generation.user_id}>")
    negative = shown(generation.negative_prompt or "", 300)
    if negative:  # Discord refuses an empty field value
        embed.add_field(name="Negative", value=negative, inline=False)
    embed.set_image(url=f"attachment://{filename}")
    embed.set_footer(text=f"id {generation.id}")
    return embed


def describe_embed(generation: Generation, filename: str) -> discord.Embed:
    """A /describe result: the prompt ideas, numbered like their "Imagine this" buttons."""
    lines = [f"**{i}.** {shown(text, 900)}" for i, text in enumerate(generation.suggestions, 1)]
    embed = discord.Embed(
        title="Prompt ideas for this picture",
        description="\n\n".join(lines) or "No prompt ideas came back for this picture.",
        colour=discord.Colour.blurple(),
    )
    embed.add_field(name="Requested by", value=f"<@{generation.user_id}>")
    embed.set_thumbnail(url=f"attachment://{filename}")
    embed.set_footer(text=f"id {generation.id}")
    return embed


def info_text(info: Info) -> str:
    """What the Info button shows, privately: enough to make the picture again."""
    lines = [f"**Prompt** {shown(info.prompt, 900)}"]
    if info.negative_prompt:
        lines.append(f"**Negative** {shown(info.negative_prompt, 300)}")
    lines.append(f"**Style** `{info.style}` · **Aspect** {info.aspect}")
    if len(info.seeds) > 1:
        lines.append("**Seeds** " + " · ".join(f"{i}: {s}" for i, s in enumerate(info.seeds, 1)))
    elif info.seeds:
        lines.append(f"**Seed** {info.seeds[0]}")
    sizes = sorted({f"{w}x{h}" for w, h in info.sizes})
    if sizes:
        lines.append(f"**Size** {', '.join(sizes)}" + (" (each)" if len(info.sizes) > 1 else ""))
    provider = info.provider or "?"
    lines.append(f"**Provider** {plain(provider, 60)}" + (f" ({info.model})" if info.model else ""))
    if info.seconds is not None:
        lines.append(f"**Time taken** {info.seconds:.1f} s")
    if info.edit_note:
        lines.append(f"**Edit** {plain(info.edit_note, 200)}")
    if info.crop_note:
        lines.append(f"**Note** {plain(info.crop_note, 200)}")
    if info.references_note:
        lines.append(f"**Style references** {plain(info.references_note, 200)}")
    if info.tiles:
        tiles = " · ".join(f"{i}: {shown(t, 80)}" for i, t in enumerate(info.tiles, 1))
        lines.append(f"**Tiles** {tiles}")
    if info.strength is not None:
        lines.append(f"**Strength** {info.strength:g}")
    if info.parent_id:
        tile = f"image {info.parent_index} of " if info.parent_index else ""
        lines.append(f"**Made from** {tile}`{info.parent_id}` ({info.kind.value})")
    lines.append(f"-# id {info.generation_id}")
    return truncate("\n".join(lines), 2000)


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
            # The style comes with the press, as the menu's chosen value.
            custom_id=RestylePick(generation_id, current).pack("discord"),
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
            custom_id=Show().pack("discord"),
            placeholder="See one of these pictures again",
            options=[
                discord.SelectOption(label=plain(g.prompt, 100), value=g.id, description=g.style)
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
        reason = f": {shown(g.failure_reason, 200)}" if g.failure_reason else ""
        lines.append(
            f"{icon} {when} · `{g.style}` · {g.status.value}{reason}\n> {shown(g.prompt, 150)}"
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
