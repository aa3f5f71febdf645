"""Typed, frozen models that cross the core's boundary."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Literal, Self, cast

from pydantic import BaseModel, ConfigDict, Field, InstanceOf, ValidationError, model_validator

from bot.core.language import CATALOGUES, ENGLISH, Number, Text

AspectRatio = Literal["1:1", "3:2", "2:3", "16:9", "9:16"]
ASPECT_RATIOS: tuple[AspectRatio, ...] = ("1:1", "3:2", "2:3", "16:9", "9:16")

HandleValue = str | int | float | bool | None
# The core's keys in a row's delivery handle (one JSON object, so rows written before read the
# same); every other key is the adapter's own. Adapters never write these: ReplyTarget.nsfw_ok
# and the coordinator's retry timing do.
NSFW_OK = "nsfw_ok"
NOT_BEFORE = "delivery_not_before"  # no delivery attempt before this (epoch seconds)
# Set on a request whose chat got a new id (an upgraded Telegram group) after it was
# acknowledged: the old chat's id; its message ids are gone.
MOVED_FROM_CHAT = "moved_from_chat"


class HandlePart(BaseModel):
    """A typed part of a request's delivery handle: each field is one key of the row's stored
    JSON object (its alias, where the key is not the field's name). The core's part is
    `DeliveryPolicy`; each adapter declares its own part (bot/adapters/*/delivery_handle.py).

    A part built with some fields set is also a change to the handle: `stored()` holds only
    the fields that were set, a field set to None clears its key."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)

    @classmethod
    def keys(cls) -> frozenset[str]:
        """The stored keys this part owns."""
        return frozenset(field.alias or name for name, field in cls.model_fields.items())

    @classmethod
    def of(cls, handle: Mapping[str, HandleValue]) -> Self:
        """This part of a stored handle, totally: another part's keys are left out, and a
        value of the wrong type (a row written by an older version) reads as unset."""
        mine = {key: value for key, value in handle.items() if cls.owns(key)}
        try:
            return cls.model_validate(mine)
        except ValidationError as exc:
            odd = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
            return cls.model_validate({k: v for k, v in mine.items() if k not in odd})

    @classmethod
    def owns(cls, key: str) -> bool:
        """Whether a stored key is this part's (a part with keys of its own making, one per
        message, says so here)."""
        return key in cls.keys()

    def stored(self) -> dict[str, HandleValue]:
        """The keys this part sets, as the row's JSON object holds them."""
        return cast("dict[str, HandleValue]", self.model_dump(by_alias=True, exclude_unset=True))


# A community style's preview is made of rows whose handle names the style (this key): they
# go to the result channel named PREVIEWS, never to a chat (requests/style_previews.py).
STYLE_PREVIEW = "style_preview"
PREVIEWS = "preview"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    DELIVERED = "delivered"


class Requester(Frozen):
    platform: str
    user_id: str
    display_name: str
    # The language tag the person's app sent (Discord's `interaction.locale`, Telegram's
    # `from.language_code`) and the community's platform default (Discord's `guild_locale`):
    # raw outside values, read only through `bot.core.language.locale_from_tag`.
    language: str | None = None
    community_language: str | None = None


class Scope(Frozen):
    """Where settings apply: a Discord server, a Telegram group, one direct-message chat, or
    one person (a personal scope: the places the bot is not a member of, such as a Discord
    user install in a friend's DM or a Telegram inline message; limits, history and gallery
    there belong to the user, never to a chat or server the bot cannot see)."""

    platform: str
    id: str

    @classmethod
    def direct(cls, platform: str, chat_id: str) -> Scope:
        return cls(platform=platform, id=f"dm:{chat_id}")

    @classmethod
    def personal(cls, platform: str, user_id: str) -> Scope:
        return cls(platform=platform, id=f"user:{user_id}")

    @property
    def is_direct(self) -> bool:
        return self.id.startswith("dm:")

    @property
    def is_personal(self) -> bool:
        return self.id.startswith("user:")


class DeliveryPolicy(HandlePart):
    """The core's part of a delivery handle: whether the chat may show NSFW pictures, and
    the earliest next delivery attempt, the chat it was acknowledged in when that chat got a
    new id since. The core fills it (`ReplyTarget.nsfw_ok`, the coordinator's retry timing,
    the store's chat move); no adapter writes it."""

    nsfw_ok: bool = Field(default=False, alias=NSFW_OK)
    not_before: float | None = Field(default=None, alias=NOT_BEFORE)
    moved_from_chat: str | None = Field(default=None, alias=MOVED_FROM_CHAT)


class ReplyTarget(Frozen):
    """Where the result goes: the chat, whether that chat may show NSFW pictures (every
    adapter says so, there is no default), and the adapter's own part of the delivery handle
    (what it needs to edit its acknowledgement later; never the core's keys)."""

    platform: str
    chat_id: str
    nsfw_ok: bool
    thread_id: str | None = None
    reply_to_message_id: str | None = None
    handle: HandlePart = Field(default_factory=HandlePart)

    @model_validator(mode="after")
    def _adapter_keys_only(self) -> ReplyTarget:
        if core := DeliveryPolicy.keys() & self.handle.stored().keys():
            raise ValueError(f"the core's handle keys are not the adapter's: {sorted(core)}")
        return self

    def stored_handle(self) -> dict[str, HandleValue]:
        """The handle as the row stores it: the adapter's part and the core's policy."""
        return {**self.handle.stored(), **DeliveryPolicy(nsfw_ok=self.nsfw_ok).stored()}


MAX_COUNT = 4  # the most images one request makes (a 2x2 grid)
MAX_STYLE_REFERENCES = 4  # reference pictures of the look to follow, per request
MAX_SEED = 2**32 - 1  # the seed range every provider takes
DEFAULT_STRENGTH = 0.6  # image to image: how far the result may move from the picture


class Kind(StrEnum):
    """How a generation came about; follow-ups name a parent generation and image."""

    IMAGINE = "imagine"
    REROLL = "reroll"
    RESTYLE = "restyle"
    UPSCALE = "upscale"
    VARY = "vary"
    REMIX = "remix"
    DESCRIBE = "describe"
    EDIT = "edit"  # a region repainted under a mask, or the picture edited by words
    ZOOM = "zoom"  # zoomed out: the picture in the middle of a larger canvas, the rest filled
    PAN = "pan"  # the canvas extended by half to one side, the new part filled
    SQUARE = "square"  # the canvas made square, the new parts filled


EDIT_KINDS = (Kind.EDIT, Kind.ZOOM, Kind.PAN, Kind.SQUARE)
EditAction = Literal["region", "words", "zoom", "pan", "square"]
Direction = Literal["left", "right", "up", "down"]
ZOOM_FACTORS = (1.5, 2.0)


class EditRequest(Frozen):
    """What to do to one image of an earlier generation: repaint a region under a mask,
    edit it by words (providers that edit by instruction), or show more of the scene."""

    action: EditAction
    factor: float | None = None  # zoom: 1.5 or 2
    direction: Direction | None = None  # pan

    @model_validator(mode="after")
    def _complete(self) -> EditRequest:
        if self.action == "zoom" and self.factor not in ZOOM_FACTORS:
            raise ValueError("a zoom out is 1.5x or 2x")
        if self.action == "pan" and self.direction is None:
            raise ValueError("a pan needs a direction")
        return self

    @property
    def kind(self) -> Kind:
        kinds = {"region": Kind.EDIT, "words": Kind.EDIT, "zoom": Kind.ZOOM, "pan": Kind.PAN}
        return kinds.get(self.action, Kind.SQUARE)

    @property
    def outpaints(self) -> bool:
        """Whether the picture grows (a padded canvas and a mask of the new area)."""
        return self.action in ("zoom", "pan", "square")

    @property
    def text(self) -> Text:
        """What was done, for the Info, in the reader's words."""
        if self.action == "zoom":
            return Text("zoomed out {factor}x", factor=Number(self.factor or 0))
        if self.action == "pan":
            return PANNED[self.direction or "left"]
        if self.action == "region":
            return Text("region repainted")
        if self.action == "words":
            return Text("edited by words")
        return Text("made square")

    @property
    def words(self) -> str:
        """`text` in English (what the row's note keeps)."""
        return CATALOGUES.render(self.text, ENGLISH)


PANNED: dict[str, Text] = {
    "left": Text("panned left"),
    "right": Text("panned right"),
    "up": Text("panned up"),
    "down": Text("panned down"),
}


class ImagineCommand(Frozen):
    prompt: str
    style: str | None = None
    aspect: AspectRatio = "1:1"
    negative_prompt: str | None = None
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)
    count: int = Field(default=1, ge=1, le=MAX_COUNT)
    # Image to image: the picture as the user sent it (the core checks and cleans it) and
    # how far the result may move from it (0 keeps it, 1 ignores it).
    image: bytes | None = None
    strength: float = Field(default=DEFAULT_STRENGTH, ge=0.1, le=1.0)
    # Pictures of the look to follow (style references), as the user sent them; the core
    # checks and cleans each like an input picture and stores them beside the request.
    style_references: tuple[bytes, ...] = Field(default=(), max_length=MAX_STYLE_REFERENCES)


class Style(Frozen):
    id: str
    name: str
    emoji: str
    description: str
    template: str
    negative: str = ""
    providers: dict[str, dict[str, str | int | float | bool]] = Field(default_factory=dict)
    # A community style's own parts (a built-in style has none): its code (`#k3f9`, from its
    # definition), the defaults it gives a request that sets none, the provider its admins
    # prefer, and its reference pictures: stored like input pictures, by path.
    code: str | None = None
    aspect: AspectRatio | None = None
    count: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    provider: str | None = None
    style_references: tuple[str, ...] = ()
    preview_path: str | None = None
    hidden: bool = False
    private: bool = False

    @property
    def community(self) -> bool:
        return self.code is not None

    def render(self, prompt: str) -> str:
        # str.replace, not str.format: user text may contain braces.
        return self.template.replace("{prompt}", prompt)

    @property
    def label(self) -> str:
        return f"{self.emoji} {self.name}"


class Ticket(Frozen):
    generation_id: str
    position: int
    style: Style
    aspect: AspectRatio
    seed: int


class StoredImage(Frozen):
    """One image of a generation, stored on its own (the grid is only a rendering)."""

    index: int  # 1-based, as on the U1-U4 / V1-V4 buttons
    path: str
    width: int
    height: int
    seed: int | None = None


class FollowUps(Frozen):
    """Which buttons a delivered generation offers; filled in by the delivery from the
    provider chain's capabilities, so an adapter only renders them."""

    upscale: bool = False  # U1-U4 (always offered on pictures)
    upscaler: str | None = None  # the chain's upscaler; None: U gives the original file
    vary: bool = False  # V1-V4: only when some provider of the chain takes an image
    remix: bool = False
    reroll: bool = False
    restyle: bool = False
    info: bool = False
    delete: bool = False
    imagine_suggestions: bool = False  # a describe: one "Imagine this" per suggestion
    share: bool = False  # post the picture into another chat (no new request, no limit)
    # The edits some provider of the chain can make (docs/editing.md), under one Edit menu:
    edit_region: bool = False  # Vary (Region) under a mask
    outpaint: bool = False  # Zoom out 1.5x / 2x, Pan, Make square
    edit_words: bool = False  # Edit by words (an instruction, no mask)

    @property
    def edits(self) -> bool:
        """Whether the Edit menu has anything to offer."""
        return self.edit_region or self.outpaint or self.edit_words


class Generation(Frozen):
    """One request's history row."""

    id: str
    platform: str
    scope_id: str
    chat_id: str
    thread_id: str | None
    reply_to_message_id: str | None
    user_id: str
    user_name: str
    prompt: str
    negative_prompt: str | None
    style: str
    aspect: AspectRatio
    seed: int
    parent_id: str | None
    provider: str | None
    model: str | None
    status: Status
    failure_code: str | None
    failure_reason: str | None
    revised_prompt: str | None
    image_path: str | None
    image_width: int | None
    image_height: int | None
    handle: dict[str, HandleValue]
    delivery_attempts: int
    delivery_error: str | None
    provider_calls: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    delivered_at: float | None
    kind: Kind = Kind.IMAGINE
    count: int = 1
    parent_index: int | None = None  # the parent's image a follow-up started from
    input_path: str | None = None  # the cleaned input picture (image to image, describe)
    strength: float | None = None
    crop_note: str | None = None  # "made at 1536x1024, cropped to 16:9"
    suggestions: tuple[str, ...] = ()  # a describe's prompt suggestions, best first
    edit_note: str | None = None  # an edit's "zoomed out 2x: ..." for the Info
    locale: str = "en"  # the requester's, resolved at admission (bot/core/language.py)
    images: tuple[StoredImage, ...] = ()  # each image on its own, in tile order
    follow_ups: FollowUps = Field(default_factory=FollowUps)
    # Set for a delivery that an earlier attempt (a process killed after posting, before the
    # row said `delivered`) may already have made: the adapter looks before posting again.
    may_be_posted: bool = False

    def image(self, index: int) -> StoredImage | None:
        """The image behind tile `index` (1-based); an old single-image row has one."""
        for image in self.images:
            if image.index == index:
                return image
        if index == 1 and not self.images and self.image_path and self.image_width:
            return StoredImage(
                index=1,
                path=self.image_path,
                width=self.image_width,
                height=self.image_height or self.image_width,
                seed=self.seed,
            )
        return None

    @property
    def policy(self) -> DeliveryPolicy:
        """The core's part of the delivery handle, typed."""
        return DeliveryPolicy.of(self.handle)


class Info(Frozen):
    """What the Info button shows about a generation."""

    generation_id: str
    kind: Kind
    prompt: str
    negative_prompt: str | None
    style: str
    aspect: AspectRatio
    seeds: tuple[int, ...]
    sizes: tuple[tuple[int, int], ...]  # each image's width and height
    provider: str | None
    model: str | None
    seconds: float | None  # from the worker's start to the stored result
    crop_note: str | None
    strength: float | None
    parent_id: str | None
    parent_index: int | None
    edit_note: str | None = None
    # Style reference pictures: how many were sent and whether the provider that made the
    # picture followed them, in plain words (None: the request had none).
    references_note: str | None = None
    tiles: tuple[str, ...] = ()  # compare / permutations: each tile's label, in tile order
    # The three notes in the reader's words (each `*_note` above is its English), for the
    # adapter to render in the reader's locale (bot/core/requests/notes.py).
    crop_text: InstanceOf[Text] | None = None
    edit_text: InstanceOf[Text] | None = None
    references_text: InstanceOf[Text] | None = None


class StatusUpdate(Frozen):
    """A change worth showing in the chat while a request waits."""

    status: Status
    position: int | None = None
    detail: str | None = None
    eta_seconds: float | None = None
