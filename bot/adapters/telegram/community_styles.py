"""A group's own styles on Telegram: /newstyle (a short guided conversation), /editstyle,
/delstyle, /exportstyle and /importstyle. Admins only, checked in our code on every update
(`require_admin`), the conversation's replies too.

/newstyle <name> asks, in a reply the admin answers by replying, for the recipe (first line)
and any of `negative:`, `description:`, `aspect:`, `count:`, `provider:`, `hidden:`,
`private:` on the lines below it; then for up to four reference pictures, sent as replies to
that question; /done makes the style, /cancel drops it. The conversation is held by the bot
process that started it, for 15 minutes, keyed by the question message (a reply to another
message, or by another person, is not part of it). Pictures are fetched at /done with the
same downloader and size cap as /imagine's, and checked by the core like input pictures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from telegram import ForceReply, Message, Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.adapters.telegram.admins import MANAGE_STYLES, require_admin
from bot.adapters.telegram.answers import Answers, Context, Refused
from bot.adapters.telegram.identity import requester_of, scope_of
from bot.adapters.telegram.picture_requests import NOT_EDITED
from bot.adapters.telegram.pictures import Picture, PictureDownloads
from bot.adapters.telegram.render import escape, say
from bot.core.errors import UserFacingError
from bot.core.language import Number, Plural, Text, UserText
from bot.core.models import ASPECT_RATIOS, Style
from bot.core.numbers import whole_number
from bot.core.requests.service import GenerationService
from bot.core.requests.style_recipes import MAX_REFERENCES, StyleDraft

CONVERSATION_SECONDS = 15 * 60
DOING = MANAGE_STYLES


def recipe_question(name: str) -> Text:
    return Text(
        "New style <b>{name}</b>. Reply to this message with its recipe: the prompt with "
        "<code>{{prompt}}</code> where members' words go. Optional lines below it: "
        "<code>negative: ...</code>, <code>description: ...</code>, <code>aspect: 16:9</code>, "
        "<code>count: 2</code>, <code>provider: ...</code>, <code>hidden: yes</code>, "
        "<code>private: yes</code>.",
        name=UserText(name[:40]),
    )


PICTURES_QUESTION = Text(
    "Now reply to this message with up to 4 reference pictures (the look to follow), then "
    "send /done. Send /done now for none, /cancel to drop the style."
)
FIELD_NAMES = {
    "negative": "negative",
    "description": "description",
    "aspect": "aspect",
    "count": "count",
    "provider": "provider",
    "hidden": "hidden",
    "private": "private",
    "name": "name",
    "recipe": "template",
}
YES = {"yes", "y", "true", "on", "1"}
NO = {"no", "n", "false", "off", "0"}


def field_lines(lines: list[str]) -> dict[str, Any]:
    """`key: value` lines as a style's fields; a plain refusal for anything else."""
    fields: dict[str, Any] = {}
    for line in lines:
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        name = FIELD_NAMES.get(key.strip().lower())
        if not colon or name is None:
            shown = UserText(key.strip()[:30])
            raise Refused(
                Text(
                    "“{field}” is not a style field; use e.g. <code>negative: blur</code>.",
                    field=shown,
                )
            )
        fields[name] = _value(name, value.strip())
    return fields


def _value(name: str, value: str) -> Any:
    if name in ("hidden", "private"):
        if value.lower() not in YES | NO:
            raise Refused(Text("{field}: answer yes or no.", field=name))
        return value.lower() in YES
    if name == "count":
        count = whole_number(value, 1, 4)
        if count is None:
            raise Refused(Text("count: a whole number from 1 to 4."))
        return count
    if name == "aspect" and value not in ASPECT_RATIOS:
        raise Refused(Text("aspect: one of {ratios}.", ratios=", ".join(ASPECT_RATIOS)))
    return value


def summary(style: Style, locale: str) -> str:
    """A chat's style in one line, its marks in the reader's words."""
    marks = [
        say(mark, locale)
        for mark, on in ((Text("hidden"), style.hidden), (Text("private"), style.private))
        if on
    ]
    pictures = len(style.style_references)
    if pictures:
        marks.append(
            say(Plural("{count} reference picture", "{count} reference pictures", pictures), locale)
        )
    flags = f" ({', '.join(marks)})" if marks else ""
    return (
        f"{style.emoji} <b>{escape(style.name)}</b> <code>{style.code}</code>{flags}: "
        f"{escape(style.template)}"
    )


@dataclass
class Draft:
    """One /newstyle conversation: who, what so far, which question it answers."""

    user_id: str
    name: str
    question: int  # the message id replies must answer
    started: float = field(default_factory=time.monotonic)
    fields: dict[str, Any] = field(default_factory=dict)
    pictures: list[Picture] = field(default_factory=list)

    @property
    def has_recipe(self) -> bool:
        return "template" in self.fields


class StyleCommands:
    def __init__(
        self, service: GenerationService, answers: Answers, downloads: PictureDownloads
    ) -> None:
        self.service = service
        self.answers = answers
        self.downloads = downloads
        self._drafts: dict[tuple[int, str], Draft] = {}  # (chat id, user id)

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        for name, callback in (
            ("newstyle", self.newstyle),
            ("done", self.done),
            ("cancel", self.cancel),
            ("editstyle", self.editstyle),
            ("delstyle", self.delstyle),
            ("exportstyle", self.exportstyle),
            ("importstyle", self.importstyle),
        ):
            application.add_handler(CommandHandler(name, callback, filters=NOT_EDITED))
        # A group of its own: a text reply may also be a Remix prompt's answer (group 0).
        answers = filters.REPLY & ~filters.COMMAND & NOT_EDITED
        application.add_handler(
            MessageHandler(
                answers & (filters.TEXT | filters.PHOTO | filters.Document.ALL), self.reply
            ),
            group=1,
        )

    def _draft(self, message: Message, user_id: str) -> Draft | None:
        key = (message.chat_id, user_id)
        draft = self._drafts.get(key)
        if draft is not None and time.monotonic() - draft.started > CONVERSATION_SECONDS:
            del self._drafts[key]
            return None
        return draft

    async def newstyle(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        await require_admin(update, context.bot, DOING)
        name = " ".join(context.args or []).strip()
        if not name:
            raise Refused(Text("Usage: /newstyle &lt;name&gt;, e.g. /newstyle Neon Noir"))
        asked = await self.answers.reply(
            message,
            say(recipe_question(name), await self.answers.reader(update)),
            reply_markup=ForceReply(selective=True),
        )
        who = requester_of(update).user_id
        self._drafts[(message.chat_id, who)] = Draft(who, name, asked.message_id)

    async def reply(self, update: Update, context: Context) -> None:
        """An answer to one of our questions; anything else is left alone."""
        message = update.effective_message
        if message is None or message.reply_to_message is None:
            return
        draft = self._draft(message, requester_of(update).user_id)
        if draft is None or message.reply_to_message.message_id != draft.question:
            return
        await require_admin(update, context.bot, DOING)
        if not draft.has_recipe:
            lines = (message.text or "").splitlines() or [""]
            draft.fields = {"template": lines[0].strip(), **field_lines(lines[1:])}
            locale = await self.answers.reader(update)
            asked = await self.answers.reply(
                message, say(PICTURES_QUESTION, locale), reply_markup=ForceReply(selective=True)
            )
            draft.question = asked.message_id
            return
        picture = _own_picture(message)
        if picture is None:
            raise Refused(Text("Reply with a picture, or send /done."))
        if len(draft.pictures) >= MAX_REFERENCES:
            raise Refused(
                Text("A style takes at most {most} pictures; send /done.", most=MAX_REFERENCES)
            )
        self.downloads.check(picture)
        draft.pictures.append(picture)
        kept = Text(
            "Picture {count} of up to {most} kept.",
            count=Number(len(draft.pictures)),
            most=MAX_REFERENCES,
        )
        await self.answers.reply(message, say(kept, await self.answers.reader(update)))

    async def done(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        who = requester_of(update).user_id
        draft = self._draft(message, who)
        if draft is None or not draft.has_recipe:
            raise Refused(Text("No new style is waiting for /done here; start with /newstyle."))
        await require_admin(update, context.bot, DOING)
        del self._drafts[(message.chat_id, who)]
        pictures = [await self.downloads.fetch(p) for p in draft.pictures]
        draft_style = StyleDraft(**{**draft.fields, "name": draft.name})
        style = await self.service.community.create(
            scope_of(update), requester_of(update), draft_style, pictures
        )
        locale = await self.answers.reader(update)
        use = (
            Text(
                "Use it here as <code>style:{id}</code>; its code works only in this chat.",
                id=UserText(style.id),
            )
            if style.private
            else Text(
                "Use it here as <code>style:{id}</code>; any chat on this bot can use "
                "<code>style:{code}</code>.",
                id=UserText(style.id),
                code=style.code,
            )
        )
        created = say(Text("Created {style}", style=summary(style, locale)), locale)
        await self.answers.reply(
            message,
            f"{created}\n{say(use, locale)}" + await self.preview(update, style, locale),
        )

    async def preview(self, update: Update, style: Style, locale: str) -> str:
        """Queue the style's preview when it needs one; what to tell the admin about it."""
        if style.hidden:
            return "\n" + say(Text("A hidden style gets its preview once it is shown."), locale)
        try:
            if not await self.service.preview_style(scope_of(update), style):
                return ""
        except UserFacingError as exc:
            return "\n" + say(Text("No preview was made: {reason}", reason=exc.text), locale)
        return "\n" + say(Text("Its preview is being made: /styles shows it when done."), locale)

    async def cancel(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        dropped = self._drafts.pop((message.chat_id, requester_of(update).user_id), None)
        answer = Text("Dropped.") if dropped else Text("Nothing to cancel.")
        await self.answers.reply(message, say(answer, await self.answers.reader(update)))

    async def editstyle(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        await require_admin(update, context.bot, DOING)
        text = _after_command(message.text)
        name, _, rest = text.partition("\n")
        if not name.strip() or not rest.strip():
            raise Refused(
                Text(
                    "Usage: /editstyle &lt;name&gt; and, on the lines below, what changes: "
                    "<code>recipe: ...</code>, <code>negative: ...</code>, "
                    "<code>hidden: yes</code> …"
                )
            )
        style = await self.service.community.edit(
            scope_of(update), name.strip(), field_lines(rest.splitlines())
        )
        locale = await self.answers.reader(update)
        saved = say(Text("Saved {style}", style=summary(style, locale)), locale)
        await self.answers.reply(message, saved + await self.preview(update, style, locale))

    async def delstyle(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        await require_admin(update, context.bot, DOING)
        name = " ".join(context.args or [])
        if not name:
            raise Refused(Text("Usage: /delstyle &lt;name&gt;"))
        gone = await self.service.community.delete(scope_of(update), name)
        deleted = Text("Deleted {style}.", style=UserText(f"{gone.emoji} {gone.name}"))
        await self.answers.reply(message, say(deleted, await self.answers.reader(update)))

    async def exportstyle(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        await require_admin(update, context.bot, DOING)
        name = " ".join(context.args or [])
        if not name:
            raise Refused(Text("Usage: /exportstyle &lt;name or #code&gt;"))
        text = await self.service.community.export(scope_of(update), name)
        intro = Text("Send this with /importstyle in any chat (or to another bot):")
        locale = await self.answers.reader(update)
        await self.answers.reply(message, f"{say(intro, locale)}\n<pre>{escape(text)}</pre>")

    async def importstyle(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        await require_admin(update, context.bot, DOING)
        text = _after_command(message.text) or (
            (message.reply_to_message.text or "") if message.reply_to_message else ""
        )
        if not text.strip():
            raise Refused(
                Text(
                    "Usage: /importstyle followed by an exported style (or a #code), or as a "
                    "reply to a message holding one."
                )
            )
        style = await self.service.community.import_text(
            scope_of(update), requester_of(update), text
        )
        locale = await self.answers.reader(update)
        imported = Text("Imported {style}", style=summary(style, locale))
        await self.answers.reply(message, say(imported, locale))


def _own_picture(message: Message) -> Picture | None:
    """The photo (largest size) or file on this message itself, not the one it replies to."""
    if message.photo:
        largest = message.photo[-1]
        return Picture(largest.file_id, largest.file_size)
    if message.document is not None:
        return Picture(message.document.file_id, message.document.file_size)
    return None


def _after_command(text: str | None) -> str:
    """What follows the command word (on its line or the next ones)."""
    parts = (text or "").split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""
