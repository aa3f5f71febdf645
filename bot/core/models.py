"""Typed, frozen models that cross the core's boundary."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AspectRatio = Literal["1:1", "3:2", "2:3", "16:9", "9:16"]
ASPECT_RATIOS: tuple[AspectRatio, ...] = ("1:1", "3:2", "2:3", "16:9", "9:16")

HandleValue = str | int | float | bool | None


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


class Scope(Frozen):
    """Where settings apply: a Discord server, a Telegram group, or one direct-message chat."""

    platform: str
    id: str

    @classmethod
    def direct(cls, platform: str, chat_id: str) -> Scope:
        return cls(platform=platform, id=f"dm:{chat_id}")

    @property
    def is_direct(self) -> bool:
        return self.id.startswith("dm:")


class ReplyTarget(Frozen):
    """Where the result goes, plus what the adapter needs to edit its acknowledgement later."""

    platform: str
    chat_id: str
    thread_id: str | None = None
    reply_to_message_id: str | None = None
    handle: dict[str, HandleValue] = Field(default_factory=dict)


class ImagineCommand(Frozen):
    prompt: str
    style: str | None = None
    aspect: AspectRatio = "1:1"
    negative_prompt: str | None = None
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)


class Style(Frozen):
    id: str
    name: str
    emoji: str
    description: str
    template: str
    negative: str = ""
    providers: dict[str, dict[str, str | int | float | bool]] = Field(default_factory=dict)

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

    @property
    def reply_target(self) -> ReplyTarget:
        return ReplyTarget(
            platform=self.platform,
            chat_id=self.chat_id,
            thread_id=self.thread_id,
            reply_to_message_id=self.reply_to_message_id,
            handle=self.handle,
        )


class StatusUpdate(Frozen):
    """A change worth showing in the chat while a request waits."""

    status: Status
    position: int | None = None
    detail: str | None = None
    eta_seconds: float | None = None
