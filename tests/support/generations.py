"""Typical core values built once: a delivered generation and a job message."""

from __future__ import annotations

from bot.core.messages import JobMessage
from bot.core.models import Generation, Status


def generation(prompt: str) -> Generation:
    return Generation(
        id="0123456789abcdef",
        platform="telegram",
        scope_id="-1",
        chat_id="-1",
        thread_id=None,
        reply_to_message_id="5",
        user_id="1",
        user_name="u",
        prompt=prompt,
        negative_prompt=None,
        style="anime",
        aspect="1:1",
        seed=42,
        parent_id=None,
        provider="openai",
        model="m",
        status=Status.DONE,
        failure_code=None,
        failure_reason=None,
        revised_prompt=None,
        image_path=None,
        image_width=None,
        image_height=None,
        handle={},
        delivery_attempts=0,
        delivery_error=None,
        provider_calls=1,
        created_at=0.0,
        started_at=None,
        finished_at=None,
        delivered_at=None,
    )


def job(**changes: object) -> JobMessage:
    values: dict[str, object] = {
        "generation_id": "g1",
        "prompt": "a cat",
        "aspect": "1:1",
        "seed": 10,
        "style": "photo",
        "providers": ("one",),
        "reply_stream": "s",
        "created_at": 1.0,
    }
    values.update(changes)
    return JobMessage(**values)  # type: ignore[arg-type]
