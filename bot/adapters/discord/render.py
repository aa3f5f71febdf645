"""Everything the Discord adapter shows: texts, embeds and the buttons under a result."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import discord

from bot.adapters.discord.labels import KINDS, STATES
from bot.core.errors import UserFacingError, failure_text, retrying_text
from bot.core.language import CATALOGUES, ENGLISH, Duration, Number, Text, UserText
from bot.core.models import Generation, Info, Status, StatusUpdate, Style
from bot.core.requests.buttons import RestylePick, Show
from bot.core.requests.prompt_translation import prompt_sent_text
from bot.core.requests.styles import StyleCatalogue
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


# Rendered texts by message, parameters and locale. A delivered picture's card and buttons
# are some twenty texts, nearly all the same for every picture in a language: looked up and
# formatted once, they cost a dictionary read per picture (issue 29: at most 3 % of the
# bot's CPU per generation). Bounded: emptied when full (prompts make many distinct keys).
_SAID: dict[tuple[object, ...], str] = {}
SAID_MAX = 4096


def say(text: Text, locale: str) -> str:
    """`text` in the reader's `locale`: the catalogue's words as written (their Markdown
    is ours), user text in it escaped like every other user text (`shown`)."""
    key = (text.message, text.plural, text.count, locale, *text.params.items())
    try:
        found = _SAID.get(key)
    except TypeError:  # a parameter that is itself a Text (its params are a dict)
        return CATALOGUES.render(text, locale, escape=shown)
    if found is None:
        found = CATALOGUES.render(text, locale, escape=shown)
        if len(_SAID) >= SAID_MAX:
            _SAID.clear()
        _SAID[key] = found
    return found


def queued_text(position: int, locale: str = ENGLISH) -> str:
    if position <= 1:
        return say(Text("⏳ Queued: you are next."), locale)
    return say(Text("⏳ Queued: position {position}.", position=Number(position)), locale)


def status_text(update: StatusUpdate, locale: str = ENGLISH) -> str:
    if update.status is Status.QUEUED:
        return queued_text(update.position or 1, locale)
    retrying = retrying_text(update.detail)
    if retrying:
        return f"⏳ {say(retrying, locale)}"
    seconds = Duration(update.eta_seconds) if update.eta_seconds else None
    if update.position:
        # A shared provider (the AI Horde) has its own queue: say where the request stands.
        where = Number(update.position)
        if seconds:
            text = Text(
                "🎨 Generating… (position {position} in the provider's queue, about {wait} left)",
                position=where,
                wait=seconds,
            )
        else:
            text = Text(
                "🎨 Generating… (position {position} in the provider's queue)", position=where
            )
    elif update.detail:
        detail = UserText(truncate(update.detail, 200))
        if seconds:
            text = Text("🎨 Generating… ({detail}, about {wait} left)", detail=detail, wait=seconds)
        else:
            text = Text("🎨 Generating… ({detail})", detail=detail)
    elif seconds:
        text = Text("🎨 Generating… (about {wait} left)", wait=seconds)
    else:
        text = Text("🎨 Generating…")
    return say(text, locale)


_NAMED_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")  # a style id or a generation id


def parse_values(values: object) -> list[str]:
    """A select menu's chosen values: style ids and generation ids only (ASCII, bounded);
    anything else is dropped, so the action then answers "no longer supported"."""
    if not isinstance(values, list):
        return []
    return [v for v in values[:25] if isinstance(v, str) and _NAMED_ID.fullmatch(v)]


def style_name(style: Style, locale: str) -> str:
    """A style's name for the reader: a built-in style's from the catalogue (the `styles`
    area), a community style's as its admins typed it (user text)."""
    if style.community:
        return shown(style.name)
    return CATALOGUES.translations(locale).ugettext(style.name)


def style_description(style: Style, locale: str) -> str:
    if style.community:
        return shown(style.description)
    return CATALOGUES.translations(locale).ugettext(style.description)


def style_label(style: Style, locale: str) -> str:
    return f"{style.emoji} {style_name(style, locale)}"


def _field(embed: discord.Embed, name: Text, value: str, locale: str, inline: bool = True) -> None:
    embed.add_field(name=say(name, locale), value=value, inline=inline)


def result_embed(
    generation: Generation, style: Style | None, filename: str, locale: str | None = None
) -> discord.Embed:
    """The picture's card, in the requester's locale (`generation.locale`) unless another
    reader's is given (a picture shown again to its owner, or shared)."""
    locale = locale or generation.locale
    embed = discord.Embed(
        description=shown(generation.prompt, EMBED_PROMPT_LIMIT),
        colour=discord.Colour.blurple(),
        timestamp=datetime.fromtimestamp(generation.finished_at or generation.created_at, tz=UTC),
    )
    _field(embed, Text("Style"), style_label(style, locale) if style else generation.style, locale)
    _field(embed, Text("Aspect"), generation.aspect, locale)
    seeds = [image.seed for image in generation.images if image.seed is not None]
    if len(seeds) > 1:
        listed = " · ".join(f"{i}: {s}" for i, s in enumerate(seeds, 1))
        _field(embed, Text("Seeds"), listed, locale)
    else:
        _field(embed, Text("Seed"), str(seeds[0] if seeds else generation.seed), locale)
    provider = generation.provider or "?"
    if generation.model:
        provider = f"{provider} ({generation.model})"
    _field(embed, Text("Provider"), truncate(provider, 100), locale)
    # A mention inside an embed never pings, so it can name the requester safely.
    _field(embed, Text("Requested by"), f"<@{generation.user_id}>", locale)
    negative = shown(generation.negative_prompt or "", 300)
    if negative:  # Discord refuses an empty field value
        _field(embed, Text("Negative"), negative, locale, inline=False)
    embed.set_image(url=f"attachment://{filename}")
    embed.set_footer(text=say(Text("id {id}", id=generation.id), locale))
    return embed


def describe_embed(generation: Generation, filename: str) -> discord.Embed:
    """A /describe result: the prompt ideas, numbered like their "Imagine this" buttons."""
    locale = generation.locale
    lines = [f"**{i}.** {shown(text, 900)}" for i, text in enumerate(generation.suggestions, 1)]
    nothing = Text("No prompt ideas came back for this picture.")
    embed = discord.Embed(
        title=say(Text("Prompt ideas for this picture"), locale),
        description="\n\n".join(lines) or say(nothing, locale),
        colour=discord.Colour.blurple(),
    )
    _field(embed, Text("Requested by"), f"<@{generation.user_id}>", locale)
    embed.set_thumbnail(url=f"attachment://{filename}")
    embed.set_footer(text=say(Text("id {id}", id=generation.id), locale))
    return embed


def info_text(info: Info, locale: str) -> str:
    """What the Info button shows, privately: enough to make the picture again."""
    lines = [Text("**Prompt** {prompt}", prompt=UserText(truncate(info.prompt, 900)))]
    if info.negative_prompt:
        negative = UserText(truncate(info.negative_prompt, 300))
        lines.append(Text("**Negative** {negative}", negative=negative))
    if (sent := prompt_sent_text(info)) is not None:
        lines.append(sent)
    lines.append(
        Text("**Style** `{style}` · **Aspect** {aspect}", style=info.style, aspect=info.aspect)
    )
    lines.extend(_info_seeds_and_sizes(info))
    provider = plain(info.provider or "?", 60) + (f" ({info.model})" if info.model else "")
    lines.append(Text("**Provider** {provider}", provider=provider))
    if info.seconds is not None:
        lines.append(Text("**Time taken** {seconds} s", seconds=Number(round(info.seconds, 1))))
    lines.extend(_info_notes(info))
    if info.parent_id:
        kind = KINDS.get(info.kind, Text("imagine"))
        if info.parent_index:
            made_from = Text(
                "**Made from** image {index} of `{parent}` ({kind})",
                index=info.parent_index,
                parent=info.parent_id,
                kind=kind,
            )
        else:
            made_from = Text("**Made from** `{parent}` ({kind})", parent=info.parent_id, kind=kind)
        lines.append(made_from)
    lines.append(Text("-# id {id}", id=info.generation_id))
    return truncate("\n".join(say(line, locale) for line in lines), 2000)


def _info_seeds_and_sizes(info: Info) -> list[Text]:
    lines = []
    if len(info.seeds) > 1:
        seeds = " · ".join(f"{i}: {s}" for i, s in enumerate(info.seeds, 1))
        lines.append(Text("**Seeds** {seeds}", seeds=seeds))
    elif info.seeds:
        lines.append(Text("**Seed** {seed}", seed=info.seeds[0]))
    sizes = ", ".join(sorted({f"{w}x{h}" for w, h in info.sizes}))
    if sizes and len(info.sizes) > 1:
        lines.append(Text("**Size** {sizes} (each)", sizes=sizes))
    elif sizes:
        lines.append(Text("**Size** {sizes}", sizes=sizes))
    return lines


def _info_notes(info: Info) -> list[Text]:
    """The notes of an edit, a crop, style references, tiles and strength."""
    lines = []
    # Each note in the reader's words where the core gives them (`*_text`), else its English.
    edit = info.edit_text or (UserText(truncate(info.edit_note, 200)) if info.edit_note else None)
    crop = info.crop_text or (UserText(truncate(info.crop_note, 200)) if info.crop_note else None)
    references = info.references_text or (
        UserText(truncate(info.references_note, 200)) if info.references_note else None
    )
    if edit:
        lines.append(Text("**Edit** {note}", note=edit))
    if crop:
        lines.append(Text("**Note** {note}", note=crop))
    if references:
        lines.append(Text("**Style references** {note}", note=references))
    if info.tiles:
        tiles = " · ".join(f"{i}: {shown(t, 80)}" for i, t in enumerate(info.tiles, 1))
        lines.append(Text("**Tiles** {tiles}", tiles=tiles))
    if info.strength is not None:
        lines.append(Text("**Strength** {strength}", strength=Number(info.strength)))
    return lines


def restyle_view(
    generation_id: str, styles: list[Style], current: str, locale: str
) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    options = [
        discord.SelectOption(
            label=truncate(plain_style_name(style, locale), 100),
            value=style.id,
            emoji=style.emoji or None,
            description=truncate(plain_style_description(style, locale), 100),
            default=style.id == current,
        )
        for style in styles[:25]
    ]
    view.add_item(
        discord.ui.Select(
            # The style comes with the press, as the menu's chosen value.
            custom_id=RestylePick(generation_id, current).pack("discord"),
            placeholder=say(Text("Pick a style for a new picture"), locale),
            options=options,
        )
    )
    view.stop()
    return view


def plain_style_name(style: Style, locale: str) -> str:
    """For a select option, where Discord shows no Markdown (so nothing is escaped)."""
    if style.community:
        return plain(style.name, 100)
    return CATALOGUES.translations(locale).ugettext(style.name)


def plain_style_label(style: Style, locale: str) -> str:
    """A style's emoji and name where Discord shows no Markdown (choices, options)."""
    return f"{style.emoji} {plain_style_name(style, locale)}"


def plain_style_description(style: Style, locale: str) -> str:
    if style.community:
        return plain(style.description, 100)
    return CATALOGUES.translations(locale).ugettext(style.description)


def history_view(
    generations: list[Generation], locale: str, styles: StyleCatalogue | None = None
) -> discord.ui.View | None:
    """The menu of the pictures to see again, each with its style's name in the reader's
    language (a style `styles` does not know, a server's own, by its id)."""
    viewable = [
        g for g in generations if g.image_path and g.status in (Status.DONE, Status.DELIVERED)
    ]
    if not viewable:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(
        discord.ui.Select(
            custom_id=Show().pack("discord"),
            placeholder=say(Text("See one of these pictures again"), locale),
            options=[
                discord.SelectOption(
                    label=plain(g.prompt, 100),
                    value=g.id,
                    description=_style_of(g, locale, styles),
                )
                for g in viewable[:25]
            ],
        )
    )
    view.stop()
    return view


def _style_of(generation: Generation, locale: str, styles: StyleCatalogue | None) -> str:
    style = styles.find(generation.style) if styles is not None else None
    return truncate(plain_style_name(style, locale), 100) if style else generation.style


def history_text(generations: list[Generation], locale: str) -> str:
    if not generations:
        return say(Text("You have not asked for any pictures yet. Try `/imagine`."), locale)
    lines = [say(Text("**Your last requests**"), locale)]
    for g in generations:
        icon = STATUS_ICONS.get(g.status, "•")
        when = f"<t:{int(g.created_at)}:R>"
        state = say(STATES.get(g.status, Text("queued")), locale)
        failed = g.failure_reason or g.failure_code
        reason = f": {truncate(say(failure_text(g.failure_code, g.failure_reason), locale), 200)}"
        reason = reason if failed else ""
        lines.append(f"{icon} {when} · `{g.style}` · {state}{reason}\n> {shown(g.prompt, 150)}")
    return truncate("\n".join(lines), 2000)


def styles_text(
    styles: list[Style],
    locale: str,
    *,
    scope_default: str | None,
    user_default: str | None,
    restricted: bool,
) -> str:
    title = Text("**Styles allowed here**") if restricted else Text("**Styles**")
    lines = [say(title, locale)]
    for style in styles:
        marks = []
        if style.id == scope_default:
            marks.append(say(Text("server default"), locale))
        if style.id == user_default:
            marks.append(say(Text("your default"), locale))
        mark = f" ({', '.join(marks)})" if marks else ""
        name, description = style_name(style, locale), style_description(style, locale)
        lines.append(f"{style.emoji} **{name}** `{style.id}`{mark}: {description}")
    return truncate("\n".join(lines), 2000)
