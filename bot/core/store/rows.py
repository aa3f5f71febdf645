"""Typed rows in and out of the store that are not a whole `Generation`: a history row as it
is first written, and a refusal as `/settings` lists it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from bot.core.models import HandleValue, Kind, Status


@dataclass(frozen=True, kw_only=True)
class NewGeneration:
    """A history row as it is first written; the store fills in the rest (provider, image,
    timings, delivery) as the request moves on."""

    id: str
    platform: str
    scope_id: str
    chat_id: str
    user_id: str
    user_name: str
    prompt: str
    style: str
    aspect: str
    seed: int
    created_at: float
    status: Status = Status.QUEUED
    thread_id: str | None = None
    reply_to_message_id: str | None = None
    negative_prompt: str | None = None
    parent_id: str | None = None
    handle: Mapping[str, HandleValue] = field(default_factory=dict)
    kind: Kind = Kind.IMAGINE
    count: int = 1
    parent_index: int | None = None
    input_path: str | None = None
    strength: float | None = None
    suggestions: tuple[str, ...] = ()
    edit_note: str | None = None
    locale: str = "en"  # the language the requester is answered in (bot/core/language.py)
    prompt_english: str | None = None  # what the providers that read English best get
    negative_english: str | None = None

    def columns(self) -> dict[str, object]:
        """Column name -> the value the database takes (enums as text, JSON as text)."""
        values = asdict(self)
        values["status"] = Status(self.status).value
        values["kind"] = Kind(self.kind).value
        values["handle"] = json.dumps(dict(self.handle))
        values["suggestions"] = json.dumps(list(self.suggestions))
        return values


@dataclass(frozen=True)
class Refusal:
    """A request refused before it was queued, or refused by a provider (newest first)."""

    user_id: str
    code: str
    reason: str
    created_at: float
