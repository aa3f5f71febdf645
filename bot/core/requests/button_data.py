"""What every button is made of: its data format on both platforms, who may press it, which
message it acts on, and the registry that finds a button's class by its data's tag.

A button's data comes back from the client, and a modified client can send any string for
any bot message, so each class parses its own data totally (ASCII only, bounded, ids lower-
case hex, tiles 1-4 through `numbers.whole_number`; anything else is None, never an
exception). Both adapters pack and parse through the same classes: Telegram's
`callback_data` (at most 64 bytes) and Discord's `custom_id` (at most 100 characters) are
`ib:<tag>:<fields>`, where each platform keeps the tag its buttons have always carried
(`ib:r:<id>` on Telegram, `ib:reroll:<id>` on Discord), so buttons on messages posted
before the classes still work. The buttons themselves are in buttons.py.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, ClassVar, Literal, Self

from bot.core.models import MAX_COUNT, Generation
from bot.core.numbers import whole_number

if TYPE_CHECKING:
    from bot.core.models import Requester, Scope
    from bot.core.requests.service import GenerationService, PreparedRequest

Platform = Literal["telegram", "discord"]
PREFIX = "ib"
LIMITS: dict[Platform, int] = {"telegram": 64, "discord": 100}  # bytes; characters

_GENERATION_ID = re.compile(r"[0-9a-f]{1,32}\Z")
_STYLE = re.compile(r"[a-z0-9][a-z0-9-]{0,31}\Z")  # a style id: at most 32 bytes (styles.py)
WHO = re.compile(r"-?[0-9]{1,20}\Z")  # a platform user id (a chat id, for anonymous admins)
LABEL = re.compile(r"[0-9A-Za-z_-]{1,64}\Z")


def generation_id(text: str | None) -> str | None:
    return text if text is not None and _GENERATION_ID.match(text) else None


def style_id(text: str | None) -> str | None:
    return text if text is not None and _STYLE.match(text) else None


class Presser(Enum):
    """Who may press a button (checked by the core against the row or identity it names)."""

    IN_THE_CHAT = "anyone in the chat where the picture was made"
    OWNER = "the person who asked (on Discord also a moderator of the server)"
    NAMED = "the person the button names (on Telegram also an admin of the chat it names)"
    ADMIN = "the chat's admins"
    ANYONE = "anyone, for themself"


class On(Enum):
    """Which message a press may act on."""

    ROW_MESSAGE = "a message the row's delivery handle recorded"
    CARRYING_IT = "a message that itself carries this very button"
    EPHEMERAL_MENU = "an ephemeral menu (Discord), which touches no message"
    NONE = "no message: the press changes a setting and answers"


class Emphasis(Enum):
    NORMAL = "normal"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True)
class Button:
    """One action's data. Subclasses give their tags and their fields in both directions."""

    telegram: ClassVar[str | None] = None  # the tag in `callback_data`; None: not offered
    discord: ClassVar[str | None] = None  # the tag in `custom_id`
    presser: ClassVar[Presser] = Presser.IN_THE_CHAT
    on: ClassVar[On] = On.ROW_MESSAGE
    modal: ClassVar[bool] = False  # Discord: comes back as a modal's submit

    def fields(self, platform: Platform) -> tuple[str, ...]:
        raise NotImplementedError

    @classmethod
    def from_fields(
        cls, platform: Platform, fields: Sequence[str], chosen: str | None
    ) -> Self | None:
        """The button from its data's fields (and a select menu's choice); None if invalid."""
        raise NotImplementedError

    @classmethod
    def acts_on(cls, platform: Platform) -> On:
        return cls.on

    @classmethod
    def tag(cls, platform: Platform) -> str | None:
        return cls.telegram if platform == "telegram" else cls.discord

    def pack(self, platform: Platform) -> str:
        tag = self.tag(platform)
        assert tag is not None, f"{type(self).__name__} has no {platform} button"
        data = ":".join((PREFIX, tag, *self.fields(platform)))
        assert len(data.encode()) <= LIMITS[platform], data
        return data


@dataclass(frozen=True)
class RowButton(Button):
    """A button about one request: `ib:<tag>:<generation id>`."""

    generation_id: str

    def fields(self, platform: Platform) -> tuple[str, ...]:
        return (self.generation_id,)

    @classmethod
    def from_fields(
        cls, platform: Platform, fields: Sequence[str], chosen: str | None
    ) -> Self | None:
        if len(fields) != 1 or generation_id(fields[0]) is None:
            return None
        return cls(fields[0])


@dataclass(frozen=True)
class TileButton(RowButton):
    """A button about one image of a request: `ib:<tag>:<generation id>:<tile 1-4>`."""

    index: int

    def fields(self, platform: Platform) -> tuple[str, ...]:
        return (self.generation_id, str(self.index))

    @classmethod
    def from_fields(
        cls, platform: Platform, fields: Sequence[str], chosen: str | None
    ) -> Self | None:
        if len(fields) != 2 or generation_id(fields[0]) is None:
            return None
        index = whole_number(fields[1], 1, MAX_COUNT)
        return None if index is None else cls(fields[0], index)


class FollowUp:
    """A button that starts a new request from a delivered one: the core call it makes."""

    def prepare(
        self, service: GenerationService, requester: Requester, scope: Scope
    ) -> Awaitable[PreparedRequest]:
        raise NotImplementedError


class ModeratedFollowUp(FollowUp):
    """A follow-up only the requester, or a moderator of the picture's own scope, may make
    (the edits): the adapter says whether the presser moderates where they pressed."""

    def prepare_as(
        self, service: GenerationService, requester: Requester, scope: Scope, *, moderator: bool
    ) -> Awaitable[PreparedRequest]:
        raise NotImplementedError

    def prepare(
        self, service: GenerationService, requester: Requester, scope: Scope
    ) -> Awaitable[PreparedRequest]:
        return self.prepare_as(service, requester, scope, moderator=False)


@dataclass(frozen=True)
class ResultAction(RowButton):
    """One of the buttons in the row under a result (reroll, restyle, remix, info, delete)."""

    label: ClassVar[str] = ""
    telegram_emoji: ClassVar[str] = ""
    discord_emoji: ClassVar[str] = ""
    emphasis: ClassVar[Emphasis] = Emphasis.NORMAL
    telegram_row: ClassVar[int] = 0  # Telegram: again (reroll, restyle, remix), then the rest

    @classmethod
    def offered(cls, generation: Generation) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class TileAction(TileButton):
    """U<k> / V<k>: one row of them, or one button for a single picture."""

    short: ClassVar[str] = ""
    label: ClassVar[str] = ""
    telegram_emoji: ClassVar[str] = ""

    @classmethod
    def offered(cls, generation: Generation) -> bool:
        raise NotImplementedError


# -- the registry ------------------------------------------------------------------------------


class Registry:
    """The button classes by their tag on each platform; one class per tag."""

    def __init__(self, *classes: type[Button]) -> None:
        self.classes = classes
        self._by_tag: dict[Platform, dict[str, type[Button]]] = {"telegram": {}, "discord": {}}
        for cls in classes:
            for platform in ("telegram", "discord"):
                tag = cls.tag(platform)
                if tag is None:
                    continue
                if tag in self._by_tag[platform] or ":" in tag:
                    raise ValueError(f"{platform} tag {tag!r} of {cls.__name__} is taken")
                self._by_tag[platform][tag] = cls

    def parse(self, platform: Platform, data: str, chosen: str | None = None) -> Button | None:
        """The button `data` names, or None for anything not ours, altered or too long."""
        if len(data) > LIMITS[platform] or not data.isascii():
            return None
        prefix, _, rest = data.partition(":")
        tag, _, tail = rest.partition(":")
        cls = self._by_tag[platform].get(tag) if prefix == PREFIX else None
        if cls is None or not rest.count(":"):
            return None
        return cls.from_fields(platform, tail.split(":"), chosen)

    def tags(self, platform: Platform) -> dict[str, type[Button]]:
        return dict(self._by_tag[platform])


# Under a result, in this order: one row per tile action, then the result actions.
