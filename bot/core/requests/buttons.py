"""Every button the bot posts, one class each: its data, who may press it, what it calls.

`presser` says who may press (the core's access checks enforce it: bot/core/requests/access.py),
`on` which message a press may act on (the adapter checks it: a message the row recorded,
a message that carries this very button, or an ephemeral menu). A `FollowUp` also names the
core call it makes (`prepare`), so an adapter runs every follow-up the same way: check the
message, prepare, submit. A new follow-up button is one class here, added to `BUTTONS` and,
to be shown under results, to `RESULT_ACTIONS` or `TILE_ACTIONS` (docs/architecture.md).
The data format, the registry and the base classes are in button_data.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

from bot.core.requests.button_data import (
    LABEL,
    WHO,
    Button,
    Emphasis,
    FollowUp,
    On,
    Platform,
    Presser,
    Registry,
    ResultAction,
    RowButton,
    TileAction,
    TileButton,
    generation_id,
    style_id,
)

if TYPE_CHECKING:
    from bot.core.models import Requester, Scope
    from bot.core.requests.service import GenerationService, PreparedRequest


@dataclass(frozen=True)
class Reroll(ResultAction, FollowUp):
    telegram, discord = "r", "reroll"
    label, telegram_emoji, discord_emoji = "Reroll", "🔁", "🎲"
    emphasis = Emphasis.PRIMARY
    offered_by = "reroll"

    def prepare(
        self, service: GenerationService, requester: Requester, scope: Scope
    ) -> Awaitable[PreparedRequest]:
        return service.prepare_variation(self.generation_id, requester, scope, style=None)


@dataclass(frozen=True)
class RestyleMenu(ResultAction):
    """Offers the styles; the pick is `RestylePick`."""

    telegram, discord = "s", "restyle"
    label, telegram_emoji, discord_emoji = "Restyle", "🎨", "🎨"
    offered_by = "restyle"


@dataclass(frozen=True)
class Remix(ResultAction):
    """Asks for the new prompt (Telegram: a ForceReply; Discord: `RemixSubmit`'s modal)."""

    telegram, discord = "m", "remix"
    label, telegram_emoji, discord_emoji = "Remix", "✏️", "✏️"
    offered_by = "remix"


@dataclass(frozen=True)
class Info(ResultAction):
    telegram, discord = "i", "info"
    label, telegram_emoji, discord_emoji = "Info", "ℹ️", "ℹ️"
    telegram_row = 1
    offered_by = "info"


@dataclass(frozen=True)
class Delete(ResultAction):
    """The message first, the row after."""

    telegram, discord = "D", "delete"
    presser = Presser.OWNER
    label, telegram_emoji, discord_emoji = "Delete", "🗑", "🗑️"
    telegram_row = 1
    emphasis = Emphasis.DANGER
    offered_by = "delete"


@dataclass(frozen=True)
class Upscale(TileAction, FollowUp):
    telegram, discord = "u", "upscale"
    short, label, telegram_emoji = "U", "Upscale", "⬆️"
    offered_by = "upscale"

    def prepare(
        self, service: GenerationService, requester: Requester, scope: Scope
    ) -> Awaitable[PreparedRequest]:
        return service.prepare_upscale(self.generation_id, self.index, requester, scope)


@dataclass(frozen=True)
class Vary(TileAction, FollowUp):
    telegram, discord = "v", "vary"
    short, label, telegram_emoji = "V", "Vary", "🔀"
    offered_by = "vary"

    def prepare(
        self, service: GenerationService, requester: Requester, scope: Scope
    ) -> Awaitable[PreparedRequest]:
        return service.prepare_vary(self.generation_id, self.index, requester, scope)


@dataclass(frozen=True)
class ImagineThis(TileButton, FollowUp):
    """Suggestion k of a /describe, imagined."""

    telegram, discord = "t", "imagine-this"

    def prepare(
        self, service: GenerationService, requester: Requester, scope: Scope
    ) -> Awaitable[PreparedRequest]:
        return service.prepare_suggestion(self.generation_id, self.index, requester, scope)


# -- menus and answers that follow a press -----------------------------------------------------


@dataclass(frozen=True)
class RestylePick(RowButton, FollowUp):
    """Telegram: `ib:S:<id>:<style>`, one button per style; Discord: `ib:restyle-pick:<id>`
    on an ephemeral select menu whose chosen value is the style."""

    telegram, discord = "S", "restyle-pick"
    style: str

    def fields(self, platform: Platform) -> tuple[str, ...]:
        if platform == "telegram":
            return (self.generation_id, self.style)
        return (self.generation_id,)

    @classmethod
    def from_fields(
        cls, platform: Platform, fields: Sequence[str], chosen: str | None
    ) -> Self | None:
        if platform == "telegram":
            if len(fields) != 2:
                return None
            gid, style = generation_id(fields[0]), style_id(fields[1])
        else:
            gid = generation_id(fields[0]) if len(fields) == 1 else None
            style = style_id(chosen)
        return None if gid is None or style is None else cls(gid, style)

    @classmethod
    def acts_on(cls, platform: Platform) -> On:
        # Telegram's menu of styles is a message recorded by the row; Discord's is ephemeral.
        return On.ROW_MESSAGE if platform == "telegram" else On.EPHEMERAL_MENU

    def prepare(
        self, service: GenerationService, requester: Requester, scope: Scope
    ) -> Awaitable[PreparedRequest]:
        return service.prepare_variation(self.generation_id, requester, scope, style=self.style)


@dataclass(frozen=True)
class RemixSubmit(RowButton):
    """Discord's Remix modal, submitted: the new prompt in its text inputs."""

    discord = "remix-submit"
    modal = True


@dataclass(frozen=True)
class FullSize(RowButton):
    """Telegram: the picture's file as a document."""

    telegram = "f"


@dataclass(frozen=True)
class Show(Button):
    """Discord's history menu (ephemeral): the chosen value is the picture to show again.
    The custom id carries a label (`ib:show:history`) that means nothing."""

    discord = "show"
    presser = Presser.OWNER
    on = On.EPHEMERAL_MENU
    generation_id: str = ""  # the chosen value; the menu itself names none

    def fields(self, platform: Platform) -> tuple[str, ...]:
        return ("history",)

    @classmethod
    def from_fields(
        cls, platform: Platform, fields: Sequence[str], chosen: str | None
    ) -> Self | None:
        if len(fields) != 1 or not LABEL.match(fields[0]):
            return None
        # The chosen value is looked up among the presser's own pictures (bounded ASCII).
        if chosen is None or not LABEL.match(chosen):
            return None
        return cls(chosen)


@dataclass(frozen=True)
class StylePick(Button):
    """A default style from a Telegram /styles or /setstyle menu; empty clears it."""

    on = On.NONE
    style: str | None

    def fields(self, platform: Platform) -> tuple[str, ...]:
        return (self.style or "",)

    @classmethod
    def from_fields(
        cls, platform: Platform, fields: Sequence[str], chosen: str | None
    ) -> Self | None:
        if len(fields) != 1:
            return None
        if fields[0] == "":
            return cls(None)
        style = style_id(fields[0])
        return None if style is None else cls(style)


@dataclass(frozen=True)
class MyDefault(StylePick):
    telegram = "d"
    presser = Presser.ANYONE


@dataclass(frozen=True)
class ChatDefault(StylePick):
    telegram = "A"
    presser = Presser.ADMIN


@dataclass(frozen=True)
class ForgetAnswer(Button):
    """An answer to "delete my data?", naming the identity whose data it is about."""

    presser = Presser.NAMED
    on = On.CARRYING_IT
    who: str

    def fields(self, platform: Platform) -> tuple[str, ...]:
        return (self.who,)

    @classmethod
    def from_fields(
        cls, platform: Platform, fields: Sequence[str], chosen: str | None
    ) -> Self | None:
        if len(fields) != 1 or not WHO.match(fields[0]):
            return None
        return cls(fields[0])


@dataclass(frozen=True)
class ForgetConfirm(ForgetAnswer):
    telegram, discord = "F", "forget"


@dataclass(frozen=True)
class ForgetCancel(ForgetAnswer):
    telegram, discord = "X", "forget-no"


TILE_ACTIONS: tuple[type[TileAction], ...] = (Upscale, Vary)
RESULT_ACTIONS: tuple[type[ResultAction], ...] = (Reroll, RestyleMenu, Remix, Info, Delete)

BUTTONS = Registry(
    *TILE_ACTIONS,
    *RESULT_ACTIONS,
    ImagineThis,
    RestylePick,
    RemixSubmit,
    FullSize,
    Show,
    MyDefault,
    ChatDefault,
    ForgetConfirm,
    ForgetCancel,
)
