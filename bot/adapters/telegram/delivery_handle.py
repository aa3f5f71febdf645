"""Telegram's part of a request's delivery handle, typed: the messages the bot posted for the
request (the status reply edited into the result, a picture sent as a new message, restyle
menus), who may answer each Remix prompt, and the mark set before a picture is sent as a new
message.

Stored as keys of the row's one JSON handle, as they always were (rows written before read
the same): a menu is `menu:<message id>`, a Remix prompt `remix_prompt:<message id>`. The
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


def menu_key(message_id: int) -> str:
    return f"{MENU_PREFIX}{message_id}"


def remix_key(prompt_message_id: int) -> str:
    """The delivery-handle key that says who may answer this Remix prompt message."""
    return f"{REMIX_PREFIX}{prompt_message_id}"


def _message_id(key: str, prefix: str) -> int | None:
    rest = key.removeprefix(prefix)
    return int(rest) if rest.isascii() and rest.isdigit() else None


class TelegramHandle(HandlePart):
    """Every key Telegram keeps in a delivery handle; unset where a row has none."""

    status_message_id: int | None = None
    picture_message_id: int | None = None
    fallback_sent_at: float | None = None
    menus: frozenset[int] = Field(default=frozenset(), exclude=True)
    remix_prompts: dict[int, str] = Field(default_factory=dict, exclude=True)

    @classmethod
    def owns(cls, key: str) -> bool:
        return key in cls.keys() or key.startswith((MENU_PREFIX, REMIX_PREFIX))

    @model_validator(mode="before")
    @classmethod
    def _per_message_keys(cls, data: Any) -> Any:
        """`menu:<id>` and `remix_prompt:<id>` keys gathered into `menus` and
        `remix_prompts` (totally: a key without an id, or an odd value, is left out)."""
        if not isinstance(data, Mapping):
            return data
        fields: dict[str, Any] = {}
        menus: set[int] = set()
        prompts: dict[int, str] = {}
        for key, value in data.items():
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
        return fields

    def stored(self) -> dict[str, HandleValue]:
        keys = super().stored()
        keys.update({menu_key(menu): True for menu in self.menus})
        keys.update({remix_key(m): user for m, user in self.remix_prompts.items()})
        return keys

    def recorded_messages(self) -> set[int]:
        """Every message the bot posted for the request and recorded here."""
        ids = {self.status_message_id, self.picture_message_id, *self.menus}
        return {message for message in ids if message is not None}
