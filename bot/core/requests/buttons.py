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
from typing import TYPE_CHECKING, ClassVar, Self

from bot.core.language import LANGUAGES
from bot.core.models import Direction, EditRequest, FollowUps
from bot.core.requests.button_data import (
    LABEL,
    WHO,
    Button,
    Emphasis,
    FollowUp,
    ModeratedFollowUp,
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
class Share(ResultAction):
    """Post a picture one made into another chat, without making it again and without
    costing a limit. Telegram: no callback; the button switches to inline mode in a chat the
    user picks (`switch_inline_query_chosen_chat`) with `inline_query()` typed in, and the
    inline answer is the picture (its cached `file_id`). Discord: the press tells the
    requester how to post it where they are (`/share`), answered only to them."""

    telegram, discord = "h", "share"
    presser = Presser.OWNER
    label, telegram_emoji, discord_emoji = "Share", "📤", "📤"
    telegram_row = 1
    QUERY_PREFIX: ClassVar[str] = "share:"
    offered_by = "share"

    def inline_query(self) -> str:
        return f"{self.QUERY_PREFIX}{self.generation_id}"

    @classmethod
    def from_inline_query(cls, query: str) -> Share | None:
        """The Share of an inline query typed (or switched to) as `share:<generation id>`;
        None for any other text (it is then a prompt)."""
        text = query.strip()
        if not text.lower().startswith(cls.QUERY_PREFIX):
            return None
        found = generation_id(text[len(cls.QUERY_PREFIX) :].strip())
        return None if found is None else cls(found)


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
        if tuple(fields) != ("history",):  # the one label it packs
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
class LanguagePick(Button):
    """A language from the Telegram /language picker (empty: automatic, from the app)."""

    telegram = "L"
    presser = Presser.ANYONE
    on = On.NONE
    locale: str | None

    def fields(self, platform: Platform) -> tuple[str, ...]:
        return (self.locale or "",)

    @classmethod
    def from_fields(
        cls, platform: Platform, fields: Sequence[str], chosen: str | None
    ) -> Self | None:
        if len(fields) != 1:
            return None
        if fields[0] == "":
            return cls(None)
        return cls(fields[0]) if fields[0] in LANGUAGES else None


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


# -- the edits (docs/editing.md): one Edit button under a result opens them -------------------


def _edit_menu_on(platform: Platform) -> On:
    # Telegram swaps the picture's own keyboard for the edits (the row's message); Discord
    # shows them in an ephemeral menu to the presser alone.
    return On.ROW_MESSAGE if platform == "telegram" else On.EPHEMERAL_MENU


@dataclass(frozen=True)
class EditMenu(ResultAction):
    """Opens the edits of the picture (of image 1 of a grid, with a picker for the others)."""

    telegram, discord = "e", "edit"
    presser = Presser.OWNER
    label, telegram_emoji, discord_emoji = "Edit", "🪄", "🪄"
    telegram_row = 1
    offered_by = "edits"


@dataclass(frozen=True)
class EditImage(TileButton):
    """In the Edit menu of a grid: the edits of image k instead."""

    telegram, discord = "E", "edit-image"
    presser = Presser.OWNER

    @classmethod
    def acts_on(cls, platform: Platform) -> On:
        return _edit_menu_on(platform)


@dataclass(frozen=True)
class EditBack(RowButton):
    """Telegram: the Edit menu closed, the result's own buttons back under the picture."""

    telegram = "b"
    presser = Presser.OWNER


@dataclass(frozen=True)
class EditButton(TileButton, ModeratedFollowUp):
    """One edit of image k, pressed in the Edit menu: a new request replying to the picture."""

    presser = Presser.OWNER
    label: ClassVar[str] = ""

    @classmethod
    def acts_on(cls, platform: Platform) -> On:
        return _edit_menu_on(platform)

    @classmethod
    def offered(cls, follow_ups: FollowUps, aspect: str) -> bool:
        return follow_ups.outpaint

    def edit(self) -> EditRequest:
        raise NotImplementedError

    def prepare_as(
        self, service: GenerationService, requester: Requester, scope: Scope, *, moderator: bool
    ) -> Awaitable[PreparedRequest]:
        return service.prepare_edit(
            self.generation_id, self.index, self.edit(), requester, scope, moderator=moderator
        )


ZOOM_DATA = {"1.5": 1.5, "2": 2.0}


@dataclass(frozen=True)
class ZoomOut(EditButton):
    """Zoom out 1.5x or 2x: `ib:z:<id>:<k>:<1.5|2>`."""

    telegram, discord = "z", "zoom"
    factor: float

    def fields(self, platform: Platform) -> tuple[str, ...]:
        return (self.generation_id, str(self.index), f"{self.factor:g}")

    @classmethod
    def from_fields(
        cls, platform: Platform, fields: Sequence[str], chosen: str | None
    ) -> Self | None:
        if len(fields) != 3 or fields[2] not in ZOOM_DATA:
            return None
        tile = TileButton.from_fields(platform, fields[:2], chosen)
        return None if tile is None else cls(tile.generation_id, tile.index, ZOOM_DATA[fields[2]])

    def edit(self) -> EditRequest:
        return EditRequest(action="zoom", factor=self.factor)


PAN_ARROWS: dict[Direction, str] = {"left": "⬅️", "right": "➡️", "up": "⬆️", "down": "⬇️"}


@dataclass(frozen=True)
class Pan(EditButton):
    """Pan ⬅️ ➡️ ⬆️ ⬇️: `ib:p:<id>:<k>:<left|right|up|down>`."""

    telegram, discord = "p", "pan"
    direction: Direction

    def fields(self, platform: Platform) -> tuple[str, ...]:
        return (self.generation_id, str(self.index), self.direction)

    @classmethod
    def from_fields(
        cls, platform: Platform, fields: Sequence[str], chosen: str | None
    ) -> Self | None:
        if len(fields) != 3:
            return None
        direction = next((d for d in PAN_ARROWS if d == fields[2]), None)
        tile = TileButton.from_fields(platform, fields[:2], chosen)
        if tile is None or direction is None:
            return None
        return cls(tile.generation_id, tile.index, direction)

    def edit(self) -> EditRequest:
        return EditRequest(action="pan", direction=self.direction)


@dataclass(frozen=True)
class MakeSquare(EditButton):
    """Make square (offered on pictures that are not square already)."""

    telegram, discord = "Q", "square"

    @classmethod
    def offered(cls, follow_ups: FollowUps, aspect: str) -> bool:
        return follow_ups.outpaint and aspect != "1:1"

    def edit(self) -> EditRequest:
        return EditRequest(action="square")


@dataclass(frozen=True)
class EditByWords(TileButton):
    """Asks what to change (Telegram: a ForceReply; Discord: `EditWordsSubmit`'s modal)."""

    telegram, discord = "w", "edit-words"
    presser = Presser.OWNER

    @classmethod
    def acts_on(cls, platform: Platform) -> On:
        return _edit_menu_on(platform)


@dataclass(frozen=True)
class EditWordsSubmit(TileButton):
    """Discord's Edit by words modal, submitted from the ephemeral Edit menu."""

    discord = "edit-words-submit"
    presser = Presser.OWNER
    on = On.EPHEMERAL_MENU
    modal = True


EDIT_ACTIONS: tuple[type[EditButton], ...] = (ZoomOut, Pan, MakeSquare)


@dataclass(frozen=True)
class VaryRegion(ResultAction):
    """🖌 Vary (Region): the brush editor in the web app (docs/editing.md). On Discord a press
    answers, to the presser alone, a link to a signed editor link made for them; on Telegram
    the button is itself the link (a Mini App in private chats, a URL in groups), so it has
    no callback data. Shown only where the bot serves the editor (each adapter knows) and
    some provider of the chain can repaint a region (`follow_ups.edit_region`)."""

    discord = "brush"
    presser = Presser.OWNER
    label, telegram_emoji, discord_emoji = "Vary (Region)", "🖌", "🖌️"
    telegram_row = 1
    offered_by = "edit_region"


TILE_ACTIONS: tuple[type[TileAction], ...] = (Upscale, Vary)
RESULT_ACTIONS: tuple[type[ResultAction], ...] = (
    Reroll,
    RestyleMenu,
    Remix,
    EditMenu,
    Info,
    Delete,
    Share,
)

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
    LanguagePick,
    ForgetConfirm,
    ForgetCancel,
    EditImage,
    EditBack,
    ZoomOut,
    Pan,
    MakeSquare,
    EditByWords,
    EditWordsSubmit,
    VaryRegion,
)
