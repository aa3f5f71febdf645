"""The commands that make something: /imagine (text, or with a picture), /describe, and the
answer to a Remix prompt.

A picture comes with the command as a photo or file whose caption is the command, or the
command replies to one. Its size is checked from what Telegram says before anything else;
the text is checked too (style, count, limits: `prepare` writes nothing), so a bad request
is one answer. Only then is it acknowledged, and the picture downloaded after that
(`Intake.submit_after`), from the Bot API's file URL (bot/adapters/telegram/pictures.py).

A Remix press sends a ForceReply prompt and records, in the request's delivery handle,
which message that is and who pressed (bot/adapters/telegram/buttons.py). A reply
to it is taken only from that person, only once, and only for that very prompt message:
the request id the prompt text shows is just where to look, never trusted on its own.
"""

from __future__ import annotations

import re

from telegram import Message, Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.adapters.telegram.answers import Context, Refused
from bot.adapters.telegram.delivery_handle import (
    EDIT_MARK,
    REMIX_MARK,
    TelegramHandle,
    edit_words_key,
    remix_key,
)
from bot.adapters.telegram.edit_buttons import moderates
from bot.adapters.telegram.identity import requester_of, scope_of
from bot.adapters.telegram.intake import Intake
from bot.adapters.telegram.parsing import ParseError, parse_imagine, strip_command
from bot.adapters.telegram.pictures import PictureDownloads, picture_of
from bot.core.language import Text
from bot.core.models import DEFAULT_STRENGTH, EditRequest, ImagineCommand
from bot.core.ports import DeliveryHandles
from bot.core.requests.service import GenerationService, PreparedRequest

DESCRIBE_USAGE = Text("Send /describe as the caption of a photo, or as a reply to one.")
STRENGTH_ALONE = Text(
    "strength: goes with a picture: send the photo with /imagine as its caption, "
    "or reply to a photo with /imagine."
)
STYLE_REF_ALONE = Text(
    "style_ref goes with a picture of the look to follow: send the photo with /imagine as its "
    "caption, or reply to a photo with /imagine."
)
# The request a Remix or Edit by words prompt is for: the one id in its text, whatever the
# language (the prompt's first character says which prompt it is: delivery_handle.py).
PROMPT_ID = re.compile(r"\b([0-9a-f]{16})\b")
ONLY_EDITOR = Text("Only the person who pressed Edit by words can answer this prompt.")
EDIT_USED = Text(
    "This prompt was already answered; press Edit by words again to change it once more."
)
ONLY_PRESSER = Text("Only the person who pressed Remix can answer this prompt.")
PROMPT_USED = Text("This prompt was already answered; press Remix again to change it once more.")


# Telegram sends an edited message again as `edited_message`, and python-telegram-bot's
# CommandHandler and MessageHandler take those too unless told not to. An edit is ignored, with
# no reply: the request it came from was already acknowledged (and charged) once.
NOT_EDITED = ~filters.UpdateType.EDITED


def caption_command(name: str) -> filters.BaseFilter:
    """A photo or file whose caption is `/<name>` (or `/<name>@Bot`)."""
    return (filters.PHOTO | filters.Document.ALL) & filters.CaptionRegex(rf"^/{name}(@\w+)?(\s|$)")


class PictureRequests:
    def __init__(
        self,
        service: GenerationService,
        intake: Intake,
        downloads: PictureDownloads,
        handles: DeliveryHandles,
    ) -> None:
        self.service = service
        self.intake = intake
        self.downloads = downloads
        self.handles = handles

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        # An edited command arrives again (`edited_message`): it never makes a second picture.
        new = NOT_EDITED
        application.add_handler(CommandHandler("imagine", self.imagine, filters=new))
        application.add_handler(CommandHandler("describe", self.describe, filters=new))
        application.add_handler(MessageHandler(caption_command("imagine") & new, self.imagine))
        application.add_handler(MessageHandler(caption_command("describe") & new, self.describe))
        application.add_handler(
            MessageHandler(filters.REPLY & filters.TEXT & ~filters.COMMAND & new, self.remix_answer)
        )

    @staticmethod
    def _command_text(message: Message, username: str) -> str | None:
        """The command's text, or None when it is addressed to another bot."""
        text = message.text or message.caption or ""
        first = text.split(maxsplit=1)[0] if text.strip() else ""
        if "@" in first and first.split("@", 1)[1].lower() != username.lower():
            return None
        return strip_command(text)

    async def imagine(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        text = self._command_text(message, context.bot.username)
        if text is None:
            return
        parsed = parse_imagine(text)
        # Aspect and count only when the text set them: else the style's defaults apply.
        shape = {k: getattr(parsed, k) for k in ("aspect", "count") if k in parsed.given}
        command = ImagineCommand(
            prompt=parsed.prompt,
            style=parsed.style,
            negative_prompt=parsed.negative_prompt,
            seed=parsed.seed,
            **shape,
            strength=parsed.strength if parsed.strength is not None else DEFAULT_STRENGTH,
        )
        requester, scope = requester_of(update), scope_of(update)
        picture = picture_of(message)
        # Checked before the acknowledgement: the text, and the size Telegram gives.
        prepared = await self.service.prepare(requester, scope, command)
        if picture is None:
            if parsed.strength is not None:
                raise ParseError(STRENGTH_ALONE)
            if parsed.style_ref:
                raise ParseError(STYLE_REF_ALONE)
            await self.intake.submit(message, prepared)
            return
        self.downloads.check(picture)
        # The picture is what to start from, or with `style_ref` the look to follow.
        role = "style_references" if parsed.style_ref else "image"

        async def with_picture() -> PreparedRequest:
            data = await self.downloads.fetch(picture)
            given = (data,) if parsed.style_ref else data
            return await self.service.prepare(
                requester, scope, command.model_copy(update={role: given})
            )

        await self.intake.submit_after(
            message, (requester, scope), parsed.prompt, with_picture, locale=prepared.locale
        )

    async def describe(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or self._command_text(message, context.bot.username) is None:
            return
        picture = picture_of(message)
        if picture is None:
            raise Refused(DESCRIBE_USAGE)
        self.downloads.check(picture)
        requester, scope = requester_of(update), scope_of(update)

        async def described() -> PreparedRequest:
            data = await self.downloads.fetch(picture)
            return await self.service.prepare_describe(data, requester, scope)

        locale = await self.service.locale(requester, scope)
        await self.intake.submit_after(
            message,
            (requester, scope),
            "🔎",  # what the busy board lists for a /describe: it has no prompt
            described,
            locale=locale,
            makes_picture=False,
        )

    async def remix_answer(self, update: Update, context: Context) -> None:
        """A reply to one of our Remix prompts: the request again with this prompt."""
        message = update.effective_message
        prompt_message = message.reply_to_message if message is not None else None
        if message is None or prompt_message is None or message.text is None:
            return
        author = prompt_message.from_user
        if author is None or author.id != context.bot.id:
            return  # a reply to something else: not for this bot
        asked = prompt_message.text or ""
        found = PROMPT_ID.search(asked)
        if found is None or not asked.startswith((EDIT_MARK, REMIX_MARK)):
            return
        if asked.startswith(EDIT_MARK):
            await self.edit_answer(update, context, message, prompt_message, found.group(1))
            return
        requester, scope = requester_of(update), scope_of(update)
        original = await self.service.generation_for(found.group(1), requester, scope)
        key = remix_key(prompt_message.message_id)
        allowed = TelegramHandle.of(original.handle).remix_prompts.get(prompt_message.message_id)
        if allowed is None:
            raise Refused(PROMPT_USED)
        if allowed != requester.user_id:
            raise Refused(ONLY_PRESSER)
        parsed = parse_imagine(message.text)
        negative = parsed.negative_prompt or original.negative_prompt
        prepared = await self.service.prepare_remix(
            original.id, parsed.prompt, negative, requester, scope
        )
        # Used once: taken by compare-and-clear in one statement, so of two quick replies
        # (in one process or two) exactly one runs; the other hears that it was used.
        if not await self.handles.take_handle_value(original.id, key, requester.user_id):
            raise Refused(PROMPT_USED)
        await self.intake.submit(message, prepared)

    async def edit_answer(
        self,
        update: Update,
        context: Context,
        message: Message,
        prompt_message: Message,
        generation_id: str,
    ) -> None:
        """A reply to one of our Edit by words prompts: that image edited as it says. Taken
        once, from the person who pressed the button only (recorded in the row's handle,
        with the image the prompt asked about)."""
        requester, scope = requester_of(update), scope_of(update)
        original = await self.service.generation_for(generation_id, requester, scope)
        asked = TelegramHandle.of(original.handle).words_prompts
        index = next((k for (m, k) in asked if m == prompt_message.message_id), None)
        if index is None:
            raise Refused(EDIT_USED)
        key = edit_words_key(prompt_message.message_id, index)
        allowed = asked[(prompt_message.message_id, index)]
        if allowed != requester.user_id:
            raise Refused(ONLY_EDITOR)
        prepared = await self.service.prepare_edit(
            original.id,
            index,
            EditRequest(action="words"),
            requester,
            scope,
            prompt=message.text or "",
            moderator=await moderates(update, context, original),
        )
        if not await self.handles.take_handle_value(original.id, key, requester.user_id):
            raise Refused(EDIT_USED)
        await self.intake.submit(message, prepared)
