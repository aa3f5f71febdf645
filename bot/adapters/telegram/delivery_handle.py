"""Telegram's part of a request's delivery handle, typed: the messages the bot posted for the
request (the status reply edited into the result, a picture sent as a new message, restyle
menus), who may answer each Remix or Edit by words prompt, an inline request's inline message
and the `file_id`s Telegram gave its picture (inline_results.py), and the mark set before a
picture is sent as a new message.

Stored as keys of the row's one JSON handle, as they always were (rows written before read
the same): a menu is `menu:<message id>`, a Remix prompt `remix_prompt:<message id>`, an Edit
by words prompt `edit_words:<message id>:<image index>`. The
core's keys (NSFW, retry timing, a chat's move) are `DeliveryPolicy`'s, never set here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, model_validator

from bot.core.models import HandlePart, HandleValue

STATUS_MESSAGE = "status_message_id"  # the acknowledgement, edited into the result
PICTURE_MESSAGE = "picture_message_id"  # the result, when it had to be sent as a new message
FALLBACK_MARKER = "fallback_sent_at"  # set before a picture is sent as a new message
MENU_PREFIX = "menu:"  # a message of buttons the bot posted for the request (restyle menu)
REMIX_PREFIX = "remix_prompt:"  # a Remix prompt message: the user id who may answer it
WORDS_PREFIX = "edit_words:"  # an Edit by words prompt message and image: who may answer it
INLINE_MESSAGE = "inline_message_id"  # the row's inline message (inline mode)
PHOTO_FILE = "photo_file_id"  # the picture's file_id once Telegram has it (shared later)
DOCUMENT_FILE = "document_file_id"  # the same, for a picture sent as a document


def menu_key(message_id: int) -> str:
    return f"{MENU_PREFIX}{message_id}"


# The first character of a Remix and of an Edit by words prompt (ForceReply messages), kept
# outside the catalogue: an answer to a prompt is told apart by it in every language, and the
# request the prompt is for by the id in its text (then checked against the row's records).
REMIX_MARK = "✏️"
EDIT_MARK = "💬"


def remix_key(prompt_message_id: int) -> str:
    """The delivery-handle key that says who may answer this Remix prompt message."""
    return f"{REMIX_PREFIX}{prompt_message_id}"


def edit_words_key(prompt_message_id: int, index: int) -> str:
    """The delivery-handle key that says who may answer this Edit by words prompt."""
    return f"{WORDS_PREFIX}{prompt_message_id}:{index}"


def _message_id(key: str, prefix: str) -> int | None:
    rest = key.removeprefix(prefix)
    return int(rest) if rest.isascii() and rest.isdigit() else None


def _words_prompt(key: str) -> tuple[int, int] | None:
    message, _, index = key.removeprefix(WORDS_PREFIX).partition(":")
    digits = [part for part in (message, index) if part.isascii() and part.isdigit()]
    return (int(message), int(index)) if len(digits) == 2 else None


class TelegramHandle(HandlePart):
    """Every key Telegram keeps in a delivery handle; unset where a row has none."""

    status_message_id: int | None = None
    picture_message_id: int | None = None
    fallback_sent_at: float | None = None
    inline_message_id: str | None = None
    photo_file_id: str | None = None
    document_file_id: str | None = None
    menus: frozenset[int] = Field(default=frozenset(), exclude=True)
    remix_prompts: dict[int, str] = Field(default_factory=dict, exclude=True)
    # (prompt message, image index) -> the user id who may answer it
    words_prompts: dict[tuple[int, int], str] = Field(default_factory=dict, exclude=True)

    @classmethod
    def owns(cls, key: str) -> bool:
        return key in cls.keys() or key.startswith((MENU_PREFIX, REMIX_PREFIX, WORDS_PREFIX))

    @model_validator(mode="before")
    @classmethod
    def _per_message_keys(cls, data: Any) -> Any:
        """`menu:<id>`, `remix_prompt:<id>` and `edit_words:<id>:<k>` keys gathered into
        `menus`, `remix_prompts` and `words_prompts` (totally: a key without an id, or an odd
        value, is left out)."""
        if not isinstance(data, Mapping):
            return data
        fields: dict[str, Any] = {}
        menus: set[int] = set()
        prompts: dict[int, str] = {}
        words: dict[tuple[int, int], str] = {}
        for key, value in data.items():
            if key.startswith(WORDS_PREFIX):
                asked = _words_prompt(key)
                if asked is not None and isinstance(value, str):
                    words[asked] = value
                continue
            if key.startswith(MENU_PREFIX):
                menu = _message_id(key, MENU_PREFIX)
                if menu is not None and value:
                    menus.add(menu)
            elif key.startswith(REMIX_PREFIX):
                prompt = _message_id(key, REMIX_PREFIX)
                if prompt is not None and isinstance(value, str):
                    prompts[prompt] = value
            else:
                fields[key] = value
        if menus:
            fields["menus"] = frozenset(menus) | fields.get("menus", frozenset())
        if prompts:
            fields["remix_prompts"] = {**fields.get("remix_prompts", {}), **prompts}
        if words:
            fields["words_prompts"] = {**fields.get("words_prompts", {}), **words}
        return fields

    def stored(self) -> dict[str, HandleValue]:
        keys = super().stored()
        keys.update({menu_key(menu): True for menu in self.menus})
        keys.update({remix_key(m): user for m, user in self.remix_prompts.items()})
        keys.update({edit_words_key(m, k): user for (m, k), user in self.words_prompts.items()})
        return keys

    def recorded_messages(self) -> set[int]:
        """Every message the bot posted for the request and recorded here."""
        ids = {self.status_message_id, self.picture_message_id, *self.menus}
        return {message for message in ids if message is not None}
