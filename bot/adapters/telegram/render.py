"""Telegram text: captions, status lines, keyboards. All user text goes through `escape`."""

from __future__ import annotations

import html
from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.errors import retrying_text
from bot.core.language import (
    CATALOGUES,
    ENGLISH,
    FIRST_STRONG_ISOLATE,
    POP_DIRECTIONAL_ISOLATE,
    Duration,
    Number,
    Plural,
    Text,
)
from bot.core.models import Generation, Info, StatusUpdate, Style
from bot.core.requests.button_data import Button
from bot.core.requests.prompt_translation import prompt_sent_text
from bot.core.text import strip_bidi

CAPTION_LIMIT = 1024
MESSAGE_LIMIT = 4096

HELP = Text(
    "🎨 <b>imaginebot</b> turns your words into pictures.\n\n"
    "/imagine a lighthouse at dusk style:anime\n"
    "/imagine a red fox in snow --ar 3:2 --no people\n"
    "/imagine four takes on a teapot count:4\n"
    "A photo with /imagine ... as its caption (or /imagine ... as a reply to one) starts from "
    "that picture; strength:0.4 keeps closer to it.\n"
    "/describe as a photo's caption (or as a reply to one): prompts for that picture\n\n"
    "/styles: every style (tap one to make it your default)\n"
    "/mystyle &lt;style&gt;: your default style (/mystyle alone clears it)\n"
    "/history: your recent pictures\n"
    "/gallery: every picture made here, on the web\n"
    "/language: the language I answer you in\n"
    "/forget_me: delete everything the bot keeps about you\n\n"
    "Group admins: /setlanguage &lt;language&gt; [members|everyone], /setstyle &lt;style&gt;, "
    "/allowstyles &lt;style,style|all&gt;, /setlimits &lt;per user&gt; [per chat] "
    "[count:&lt;1-4&gt;], /nsfw on|off, /gallery on|off|revoke, /settings\n"
    "Styles of this chat's own: /newstyle &lt;name&gt;, /editstyle, /delstyle, /exportstyle, "
    "/importstyle; any chat uses one by its code: style:#k3f9"
)

# The command list (setMyCommands): names stay English (Telegram does not localise them),
# descriptions are translated per language (command_list.py).
COMMANDS: list[tuple[str, Text]] = [
    ("imagine", Text("Make a picture: /imagine <prompt> style:<style>")),
    ("describe", Text("Prompts for a photo: send it with /describe as the caption")),
    ("styles", Text("Show the styles and pick your default")),
    ("mystyle", Text("Set or clear your default style")),
    ("history", Text("Your recent pictures")),
    ("gallery", Text("Every picture made here, on the web")),
    ("language", Text("The language I answer you in")),
    ("forget_me", Text("Delete your history and settings")),
    ("settings", Text("Group admins: show this chat's settings")),
    ("setstyle", Text("Group admins: this chat's default style")),
    ("allowstyles", Text("Group admins: the styles allowed here")),
    ("setlimits", Text("Group admins: lower the daily limits and pictures per request")),
    ("nsfw", Text("Group admins: allow NSFW pictures here (on/off)")),
    ("setlanguage", Text("Group admins: this chat's language")),
    ("newstyle", Text("Group admins: make a style of this chat's own")),
    ("editstyle", Text("Group admins: change one of this chat's styles")),
    ("delstyle", Text("Group admins: delete one of this chat's styles")),
    ("exportstyle", Text("Group admins: a style as text to import elsewhere")),
    ("importstyle", Text("Group admins: a style from exported text or a #code")),
    ("help", Text("What this bot does, with examples")),
]


# A word joiner after "@": the text looks the same, but Telegram finds no @username in it,
# so a prompt or a describe suggestion naming @someone notifies nobody.
NO_MENTION = "@\u2060"


def escape(text: str) -> str:
    """Text for an HTML-mode message: markup escaped (the bot sends with parse_mode HTML, so
    `<b>` in a prompt shows as typed), bidi controls removed (an unclosed U+202E would turn
    the rest of our message around) and @usernames made inert (no one is pinged)."""
    return html.escape(strip_bidi(text)).replace("@", NO_MENTION)


def escape_rendered(text: str) -> str:
    """A text already rendered from the catalogue (its user text stripped and isolated by
    `say_plain`), for an HTML-mode message: markup escaped, @usernames inert, the isolates
    kept."""
    return html.escape(text).replace("@", NO_MENTION)


def plain(text: str) -> str:
    """Text shown without parse mode (button labels, callback alerts): bidi removed."""
    return strip_bidi(text)


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


GALLERY_LINK_TEXT = Text("🖼 Everything made here, in the web gallery")
FULL_SIZE_NOTE = Text("🔎 Sent smaller to fit Telegram; full size: see the gallery (/gallery).")


def user_text(text: str) -> str:
    """Text a person wrote, alone in an HTML-mode message: escaped and isolated, as a
    `UserText` inside a catalogue text is."""
    return f"{FIRST_STRONG_ISOLATE}{escape(text)}{POP_DIRECTIONAL_ISOLATE}"


def say(text: Text, locale: str) -> str:
    """`text` in the reader's `locale`, for an HTML-mode message: the catalogue's words as
    written, user text in it escaped like every other user text (`escape`)."""
    return CATALOGUES.render(text, locale, escape=escape)


def say_plain(text: Text, locale: str) -> str:
    """`text` in `locale` where Telegram shows text as it is (a press's answer, a button)."""
    return CATALOGUES.render(text, locale, escape=strip_bidi)


def style_name(style: Style, locale: str) -> str:
    """A style's name as the reader reads it, plain: a built-in style's from the `styles`
    catalogue, a chat's own style's as its admin wrote it (isolated: it is user text)."""
    if style.community:
        return f"{FIRST_STRONG_ISOLATE}{strip_bidi(style.name)}{POP_DIRECTIONAL_ISOLATE}"
    return CATALOGUES.render(Text(style.name), locale)


def style_label(style: Style, locale: str) -> str:
    """`style_name` with the style's emoji, plain (a button, an alert)."""
    return f"{style.emoji} {style_name(style, locale)}"


def style_description(style: Style, locale: str) -> str:
    if style.community:
        return strip_bidi(style.description)
    return CATALOGUES.render(Text(style.description), locale)


def caption(
    generation: Generation,
    style: Style | None,
    gallery_link: str | None = None,
    *,
    reduced: bool = False,
    locale: str = ENGLISH,
) -> str:
    """The photo caption, fitting Telegram's 1024 visible characters whatever the prompt;
    with `gallery_link`, a last line linking to the chat's web gallery (only the link text
    counts as visible); when the file sent is `reduced` from the original, a line saying so."""
    style_shown = escape(style_label(style, locale)) if style else escape(generation.style)
    details = [f"📐 {generation.aspect}"]
    if generation.seed is not None:
        details.append(f"🌱 {generation.seed}")
    if generation.provider:
        details.append(f"⚙️ {generation.provider}")
    footer = " · ".join([f"🎨 {style_shown}", *(escape(d) for d in details)])
    if reduced:
        footer = f"{footer}\n{say(FULL_SIZE_NOTE, locale)}"
    link = ""
    link_text = say(GALLERY_LINK_TEXT, locale)
    if gallery_link is not None:
        link = f'\n<a href="{html.escape(gallery_link, quote=True)}">{link_text}</a>'
    visible = len(html.unescape(footer))
    room = CAPTION_LIMIT - visible - 2 - (len(link_text) + 1 if link else 0)
    prompt = shorten(generation.prompt, room)
    return f"<b>{escape(prompt)}</b>\n{footer}{link}"


def status_text(update: StatusUpdate, locale: str = ENGLISH) -> str:
    retrying = retrying_text(update.detail)
    if retrying:
        return f"⏳ {say(retrying, locale)}"
    position = Number(update.position) if update.position else None
    eta = Duration(float(int(update.eta_seconds))) if update.eta_seconds else None
    if position is not None and eta is not None:
        text = Text(
            "🎨 Generating… (position {position} in the provider's queue, about {wait})",
            position=position,
            wait=eta,
        )
    elif position is not None:
        text = Text(
            "🎨 Generating… (position {position} in the provider's queue)", position=position
        )
    elif eta is not None:
        text = Text("🎨 Generating… (about {wait})", wait=eta)
    else:
        text = Text("🎨 Generating…")
    return say(text, locale)


def queued_text(position: int, locale: str = ENGLISH) -> str:
    if position <= 1:
        return say(Text("⏳ Queued: you are next."), locale)
    return say(Text("⏳ Queued: position {position}.", position=Number(position)), locale)


def error_text(message: str) -> str:
    return "❌ " + escape(shorten(message, MESSAGE_LIMIT - 10))


def error_words(text: Text, locale: str) -> str:
    """A refusal or a failure in the reader's `locale`, for an HTML-mode message."""
    return "❌ " + say(text, locale)


def info_text(info: Info, locale: str = ENGLISH, style: Style | None = None) -> str:
    """What the Info button shows, as plain text (an alert has no parse mode; a reply
    escapes it): seeds, sizes, provider and model and time first, the prompt last, so a
    shortened alert loses only the end of the prompt."""
    seeds = ", ".join(str(s) for s in info.seeds)
    sizes = ", ".join(sorted({f"{w}x{h}" for w, h in info.sizes})) or "?"
    made_by = " ".join(p for p in (info.provider, info.model) if p) or "?"
    lines = [
        say_plain(
            Plural("🌱 Seed {seeds}", "🌱 Seeds {seeds}", len(info.seeds), seeds=seeds), locale
        ),
        f"📐 {info.aspect}, {sizes}",
        f"⚙️ {made_by}",
    ]
    if info.seconds is not None:
        lines.append(
            say_plain(Text("⏱ {seconds} s", seconds=Number(round(info.seconds, 1))), locale)
        )
    lines.append(f"🎨 {style_name(style, locale) if style else info.style}")
    if info.strength is not None:
        strength = Number(info.strength)
        lines.append(
            say_plain(Text("🖼 from a picture, strength {strength}", strength=strength), locale)
        )
    notes = (
        ("🪄", info.edit_text, info.edit_note),
        ("✂️", info.crop_text, info.crop_note),
        ("🖼", info.references_text, info.references_note),
    )
    for mark, words, note in notes:  # the note's words in the reader's language, when known
        if words is not None or note:
            lines.append(f"{mark} {say_plain(words, locale) if words is not None else note}")
    if info.tiles:
        lines.append("🔢 " + " · ".join(f"{i}: {t}" for i, t in enumerate(info.tiles, 1)))
    lines.append(f"📝 {info.prompt}")
    if (sent := prompt_sent_text(info)) is not None:
        lines.append(say_plain(sent, ENGLISH))
    if info.negative_prompt:
        lines.append(f"🚫 {info.negative_prompt}")
    return plain("\n".join(lines))


def describe_text(generation: Generation, locale: str = ENGLISH) -> str:
    """A /describe's answer: the suggestions, numbered like their buttons."""
    if not generation.suggestions:
        return say(Text("🔎 No prompt could be found for this picture."), locale)
    lines = [say(Text("🔎 <b>Prompts for this picture</b>"), locale)]
    room = (MESSAGE_LIMIT - 100) // max(1, len(generation.suggestions))
    for number, suggestion in enumerate(generation.suggestions, start=1):
        lines.append(f"{number}. {escape(shorten(suggestion, room))}")
    return "\n".join(lines)


def style_keyboard(
    styles: list[Style], pick: Callable[[str], Button], locale: str = ENGLISH, columns: int = 2
) -> InlineKeyboardMarkup:
    """One button per style, its data the button `pick` makes of the style id."""
    buttons = [
        InlineKeyboardButton(style_label(s, locale), callback_data=pick(s.id).pack("telegram"))
        for s in styles
    ]
    return InlineKeyboardMarkup([buttons[i : i + columns] for i in range(0, len(buttons), columns)])


def styles_text(
    styles: list[Style], scope_default: str | None, mine: str | None, locale: str = ENGLISH
) -> str:
    lines = [say(Text("<b>Styles</b> (tap one to make it your default)"), locale)]
    for style in styles:
        marks = []
        if style.id == mine:
            marks.append(say(Text("your default"), locale))
        if style.id == scope_default:
            marks.append(say(Text("chat default"), locale))
        suffix = f" — <i>{', '.join(marks)}</i>" if marks else ""
        if style.code:  # a chat's own style: its code works in any chat (unless private)
            suffix = f" <code>{style.code}</code>{suffix}"
        name = escape(style_name(style, locale))
        description = escape(style_description(style, locale))
        lines.append(f"{style.emoji} <b>{name}</b> <code>{style.id}</code>: {description}{suffix}")
    return "\n".join(lines)
