"""Describe a picture with an OpenAI vision model: a chat-completions call with the image.

The picture goes as a data URL in an `image_url` part (no upload, no link to follow); the
model is asked for prompt suggestions, one per line, and the lines are cleaned of numbering.
"""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING

from bot.core.errors import ProviderUnavailable
from bot.core.generation.providers.base import DescribeRequest, Description

if TYPE_CHECKING:
    from openai import AsyncOpenAI

INSTRUCTION = (
    "Write {n} different prompts for an AI image generator that would make a picture like "
    "this one: subject, setting, style, lighting. One prompt per line, no numbering, no "
    "other text, each under 300 characters."
)
NUMBERING = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s*")
MAX_SUGGESTION_CHARS = 400


def suggestions_from(text: str, limit: int) -> tuple[str, ...]:
    """Non-empty lines, numbering and quotes removed, at most `limit`, no duplicates."""
    found: list[str] = []
    for line in text.splitlines():
        cleaned = NUMBERING.sub("", line).strip().strip('"').strip()
        if cleaned and cleaned not in found:
            found.append(cleaned[:MAX_SUGGESTION_CHARS])
    return tuple(found[:limit])


def data_url(image: bytes) -> str:
    kind = "jpeg" if image[:3] == b"\xff\xd8\xff" else "webp" if image[8:12] == b"WEBP" else "png"
    return f"data:image/{kind};base64,{base64.b64encode(image).decode()}"


async def describe_with_vision(
    sdk: AsyncOpenAI, model: str, request: DescribeRequest
) -> Description:
    response = await sdk.chat.completions.create(
        model=model,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": INSTRUCTION.format(n=request.max_suggestions)},
                    {"type": "image_url", "image_url": {"url": data_url(request.image)}},
                ],
            }
        ],
        max_completion_tokens=600,
    )
    text = response.choices[0].message.content if response.choices else None
    suggestions = suggestions_from(text or "", request.max_suggestions)
    if not suggestions:
        raise ProviderUnavailable("openai vision returned no suggestions")
    return Description(suggestions=suggestions, model=model)
