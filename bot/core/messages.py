"""The job and the completion events that cross processes, each declared once.

They are msgspec Structs: msgpack on the wire (never pickle), checked on receipt against
these declarations (field types, the event kind, the schema version). Whatever fails that
check raises `BadMessage`; the receiver logs it and puts it on a dead-letter stream
(`deadletters.py`) instead of acting on it or crashing.

Compatibility: schema version 1 uses the field names of the plain dicts that came before it,
and a message without `v` is read as version 1, so jobs and events a previous release left in
Redis are read as they are. Fields a reader does not know are ignored, so adding an optional
field needs no new version; a change an older reader would misread does, and that reader then
dead-letters the message instead of misreading it.

Version 2 adds what an older worker or bot would misread rather than merely ignore: the
operation (generate, upscale, describe), the count, the input picture's bytes (msgpack bin:
workers keep no files, so the job carries the cleaned picture) and its strength; the done
event carries every image (bytes, size, seed) or a describe's suggestions. Version 1
messages are still read, as a one-image text-to-image job and its one-image result.

Version 3 is an edit's job (inpaint, outpaint, or edit by words): the picture to edit in
`init_image` and, for inpaint and outpaint, the mask of what may change (`mask`, a black and
white PNG, white = change). Only edit jobs carry it, so a worker that knows only versions 1
and 2 dead-letters an edit instead of making a plain image-to-image picture of the padded
canvas; every other job stays version 2.

Version 4 is a job that makes its tiles differently or follows reference pictures: a compare
or permutations job carries one `variants` entry per tile (its rendered prompt, negative
prompt, provider hints and the label drawn on its tile), and a job with style references
carries the cleaned pictures in `style_references`. An older worker would make the same
picture four times, or ignore the references while the Info says they were followed, so it
dead-letters such a job instead; every other job keeps its version.

A job whose prompt was translated (PROMPT_TRANSLATION) carries the English words in
`english`, rendered like `prompt`, `negative_prompt` and each tile (`variants`); only providers
that declare `english_prompts` get them. An optional field: an older worker ignores it and
sends the words as written, a correct picture of the request (as when translation is off).

The done event's `grid` (the JPEG the chat shows for several images, composed by the worker)
is such an optional field: a bot that does not know it composes the grid itself, and a bot
that gets a done event without it (from an older worker) does the same.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any, Literal

import msgspec

from bot.core.models import DEFAULT_STRENGTH, AspectRatio

SCHEMA_VERSION = 2
EDIT_VERSION = 3  # jobs of the edit operations only
VARIANT_VERSION = 4  # jobs with variants (compare, permutations) or style references
READABLE_VERSIONS = (1, 2, 3, 4)

Operation = Literal["generate", "upscale", "describe", "inpaint", "outpaint", "edit"]
EDIT_OPERATIONS: tuple[Operation, ...] = ("inpaint", "outpaint", "edit")

HintValue = str | int | float | bool
Hints = dict[str, dict[str, HintValue]]


class BadMessage(Exception):
    """A message that is not one this process can read; `reason` never quotes its content."""

    def __init__(self, reason: str, generation_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.generation_id = generation_id


class JobVariant(msgspec.Struct, frozen=True, kw_only=True):
    """One tile of a compare or permutations grid: what makes it differ, and its label."""

    prompt: str  # rendered: the tile's style around the tile's prompt
    negative_prompt: str = ""
    hints: Hints = {}
    label: str = ""


class EnglishWords(msgspec.Struct, frozen=True, kw_only=True):
    """The job's words translated into English, for the providers that read English best."""

    prompt: str  # rendered like JobMessage.prompt
    negative_prompt: str = ""
    variants: tuple[JobVariant, ...] = ()  # JobMessage.variants in English, in tile order


class JobMessage(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a worker on any machine needs for one request; nothing platform-specific."""

    v: int = SCHEMA_VERSION
    generation_id: str
    prompt: str  # the style already rendered around the user's words
    negative_prompt: str = ""
    aspect: AspectRatio
    seed: int
    style: str
    providers: tuple[str, ...]
    hints: Hints = {}
    reply_stream: str
    created_at: float
    nsfw: bool = False
    operation: Operation = "generate"
    count: int = 1
    init_image: bytes | None = None  # generate from it, upscale it, or describe it
    strength: float = DEFAULT_STRENGTH
    mask: bytes | None = None  # inpaint / outpaint: white = change, init_image's size
    variants: tuple[JobVariant, ...] = ()  # one per tile (count of them), or none
    style_references: tuple[bytes, ...] = ()  # checked pictures of the look to follow
    english: EnglishWords | None = None  # the words in English (PROMPT_TRANSLATION)


class EventMessage(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """What every completion event carries; the concrete kinds below say what happened."""

    v: int = SCHEMA_VERSION
    generation_id: str
    ts: float

    @property
    def kind(self) -> str:
        return str(self.__struct_config__.tag)


class Started(EventMessage, frozen=True, kw_only=True, tag="started"):
    provider: str
    attempt: int = 1


class Progress(EventMessage, frozen=True, kw_only=True, tag="progress"):
    position: int | None = None
    detail: str | None = None
    eta: float | None = None


class DoneImage(msgspec.Struct, frozen=True, kw_only=True):
    data: bytes
    width: int
    height: int
    seed: int | None = None


class Done(EventMessage, frozen=True, kw_only=True, tag="done"):
    provider: str
    model: str
    image: bytes = b""  # version 1: the one image; version 2 fills `images`
    seed: int | None = None
    revised_prompt: str | None = None
    censored: bool = False
    provider_calls: int = 1
    images: tuple[DoneImage, ...] = ()
    suggestions: tuple[str, ...] = ()  # a describe's answer
    crop_note: str | None = None
    grid: bytes = b""  # several images: the grid the chat shows (empty: the bot composes it)

    @property
    def pictures(self) -> tuple[bytes, ...]:
        """The images' bytes, whichever version sent them."""
        if self.images:
            return tuple(image.data for image in self.images)
        return (self.image,) if self.image else ()


class Failed(EventMessage, frozen=True, kw_only=True, tag="failed"):
    code: str
    reason: str
    provider_calls: int | None = None


Event = Started | Progress | Done | Failed
TERMINAL = (Done, Failed)  # after these, nothing more comes for the request

_encoder = msgspec.msgpack.Encoder()
_event_decoder = msgspec.msgpack.Decoder(Event)


def _check_version(version: int, generation_id: str) -> None:
    if version not in READABLE_VERSIONS:
        raise BadMessage(
            f"schema version {version} (this process reads {SCHEMA_VERSION})", generation_id
        )


def _generation_id_in(value: object) -> str | None:
    """The request a message names, if it names one plainly (for the log line only)."""
    if isinstance(value, dict):
        found = value.get("generation_id")
        return found if isinstance(found, str) else None
    return None


def _refusal(what: str, value: object, error: msgspec.DecodeError) -> BadMessage:
    """Why a message was not read: its version first, if that is one this process does not
    know (its fields are then expected to differ), else what did not fit."""
    generation_id = _generation_id_in(value)
    version = value.get("v") if isinstance(value, dict) else None
    if isinstance(version, int) and version not in READABLE_VERSIONS:
        return BadMessage(
            f"schema version {version} (this process reads {SCHEMA_VERSION})", generation_id
        )
    return BadMessage(f"not a readable {what}: {error}", generation_id)


def encode_event(event: Event) -> bytes:
    return _encoder.encode(event)


def decode_event(data: bytes) -> Event:
    try:
        event = _event_decoder.decode(data)
    except msgspec.DecodeError as exc:
        value: object = None
        with suppress(msgspec.DecodeError):
            value = msgspec.msgpack.decode(data)
        raise _refusal("event", value, exc) from None
    _check_version(event.v, event.generation_id)
    return event


def job_to_wire(job: JobMessage) -> dict[str, Any]:
    """The job as the plain msgpack map ARQ carries as the job function's one argument
    (the input picture stays bytes: msgpack bin, not base64 text)."""
    wire: dict[str, Any] = msgspec.to_builtins(job, builtin_types=(bytes,))
    return wire


def job_from_wire(value: object) -> JobMessage:
    try:
        job = msgspec.convert(value, JobMessage)
    except msgspec.ValidationError as exc:
        raise _refusal("job", value, exc) from None
    _check_version(job.v, job.generation_id)
    return job
