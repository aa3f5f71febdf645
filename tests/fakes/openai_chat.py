"""A fake of OpenAI's chat completions for text (`POST /v1/chat/completions` without a
picture), as the prompt translator calls it; `FakeOpenAI` serves it beside its images API,
so one `OPENAI_BASE_URL` answers both, as OpenAI's does.

Strict about the documented request shape: `model` a chat model the fake knows, `messages` a
non-empty list of `{role, content}` with a known role and text content, no unknown fields, and
`response_format: {"type": "json_object"}` only when a message says "JSON" (the real API
answers 400 otherwise). The answer is a `chat.completion` object whose
`choices[0].message.content` holds `{"english": ...}`: the text's entry in `translations`,
else the text itself (English is given back unchanged).

`script` is consumed one outcome per call: "ok", "401" (also any call with the wrong key),
"429" (with `retry-after: <retry_after>`), "500", "slow:<seconds>", "refuse" (a refusal, as
the API gives one: `message.refusal` set, no content), "prose" (an apology in plain words, not
JSON), "long" (an answer far longer than any prompt) and "braces" (the choices in braces
dropped). Every call is recorded (`calls`: the body and its outcome), failed ones too.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TEXT_MODELS = {"gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4.1"}
FIELDS = {
    "model",
    "messages",
    "response_format",
    "temperature",
    "max_completion_tokens",
    "max_tokens",
}
ROLES = {"system", "developer", "user", "assistant"}


def error(
    status: int, message: str, code: str | None, headers: dict[str, str] | None = None
) -> web.Response:
    kind = "invalid_request_error"
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(body, status=status, headers=headers)


@dataclass
class ChatCall:
    body: dict[str, Any]
    outcome: str

    @property
    def text(self) -> str:
        """The user's message: the text asked about."""
        users = [m["content"] for m in self.body.get("messages", []) if m.get("role") == "user"]
        return str(users[-1]) if users else ""


@dataclass
class FakeTranslations:
    translations: dict[str, str] = field(
        default_factory=lambda: {
            "кот в шляпе, акварель": "a cat in a hat, watercolour",
            "размыто, текст": "blurry, text",
            "قطة على القمر": "a cat on the moon",
            "{рыжий, чёрный} кот": "{ginger, black} cat",
        }
    )
    script: list[str] = field(default_factory=list)
    retry_after: str = "7"
    calls: list[ChatCall] = field(default_factory=list)
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    def asked(self) -> list[str]:
        """The texts of the calls answered with a translation, in order."""
        return [c.text for c in self.calls if c.outcome == "ok" or c.outcome.startswith("slow")]

    @staticmethod
    def takes(body: object) -> bool:
        """A text-only chat request (no picture in any message): this fake's to answer."""
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return False
        for message in body["messages"]:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, list):
                return False
        return True

    def problem(self, body: dict[str, Any]) -> str | None:
        if set(body) - FIELDS:
            return "Unrecognized request argument supplied"
        if body.get("model") not in TEXT_MODELS:
            return f"The model '{body.get('model')}' does not exist"
        messages = body.get("messages")
        if not messages or not all(
            isinstance(m, dict) and m.get("role") in ROLES and isinstance(m.get("content"), str)
            for m in messages
        ):
            return "'messages' must be a non-empty array of messages with text content"
        fmt = body.get("response_format")
        if fmt is not None:
            if fmt not in ({"type": "json_object"}, {"type": "text"}):
                return "Invalid value for 'response_format'"
            said = " ".join(m["content"] for m in messages).lower()
            if fmt["type"] == "json_object" and "json" not in said:
                return (
                    "'messages' must contain the word 'json' in some form, to use "
                    "'response_format' of type 'json_object'."
                )
        return None

    async def answer(self, body: dict[str, Any], authorised: bool) -> web.Response:
        outcome = self.script.pop(0) if self.script else "ok"
        if not authorised:
            outcome = "401"
        self.calls.append(ChatCall(body, outcome))
        if outcome == "401":
            return error(401, "Incorrect API key provided.", "invalid_api_key")
        problem = self.problem(body)
        if problem:
            self.calls[-1].outcome = "400"
            return error(400, problem, "invalid_value")
        if outcome == "429":
            return error(
                429, "Rate limit reached.", "rate_limit_exceeded", {"retry-after": self.retry_after}
            )
        if outcome == "500":
            return error(500, "The server had an error processing your request.", None)
        if outcome.startswith("slow:"):
            await asyncio.sleep(float(outcome.split(":", 1)[1]))
        return web.json_response(self._completion(body, outcome))

    def _completion(self, body: dict[str, Any], outcome: str) -> dict[str, Any]:
        text = ChatCall(body, outcome).text
        english = self.translations.get(text, text)
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        if outcome == "refuse":
            message["refusal"] = "I'm sorry, I can't help with that."
        elif outcome == "prose":
            message["content"] = "I'm sorry, but I can't help with translating that."
        elif outcome == "long":
            message["content"] = json.dumps({"english": "very " * 2000 + "long"})
        elif outcome == "braces":
            message["content"] = json.dumps({"english": english.replace("{", "").replace("}", "")})
        else:
            message["content"] = json.dumps({"english": english}, ensure_ascii=False)
        serial = next(self._counter)
        return {
            "id": f"chatcmpl-t{serial}",
            "object": "chat.completion",
            "created": 1_700_000_000 + serial,
            "model": body["model"],
            "choices": [
                {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
            ],
            "usage": {"prompt_tokens": 90, "completion_tokens": 12, "total_tokens": 102},
        }
