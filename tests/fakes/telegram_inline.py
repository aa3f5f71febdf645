"""Inline mode for the fake Bot API, as the Bot API documents it (core.telegram.org/bots/api
#inline-mode and #updating-messages), strict where Telegram is:

- `getMe` reports `supports_inline_queries` (on only when inline mode is enabled in BotFather:
  `inline_enabled`); without it no `inline_query` reaches the bot.
- `inline_query(user, query)` pushes an `inline_query` update (id, from, query, offset,
  chat_type). `answerInlineQuery` answers 400 "query is too old and response timeout expired
  or query ID is invalid" for an unknown id or one older than `inline_answer_seconds` (10 s),
  and refuses more than 50 results ("RESULTS_TOO_MUCH"), a result id that is empty or longer
  than 64 bytes ("RESULT_ID_INVALID"), two results with one id ("RESULT_ID_DUPLICATE"), an
  article without title or message text, and a cached photo whose `photo_file_id` the server
  never handed out ("wrong file identifier").
- `choose(user, query_id, result_id)` is the user picking a result: its message is posted
  through the user (an inline message, with `via_bot`), and, only when inline feedback is on
  (`feedback_enabled`), a `chosen_inline_result` update follows, carrying `inline_message_id`
  only when the result had an inline keyboard.
- Inline messages are edited by `inline_message_id` (`editMessageText`, `editMessageMedia`,
  `editMessageCaption`, `editMessageReplyMarkup` answer `true`, not a Message); an
  `editMessageMedia` there cannot upload a file (only a `file_id` the server knows, or an
  HTTP(S) URL): an `attach://` upload is answered 400.
- `inline_press(user, inline_message_id, data)` is a press of a button on an inline message:
  a `callback_query` with `inline_message_id` and no `message`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

MAX_RESULTS = 50
MAX_RESULT_ID_BYTES = 64
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
NO_UPLOAD_INLINE = (
    "Bad Request: can't use file uploads when editing inline messages: send a file_id or an "
    "HTTP URL"
)
INLINE_EDITS = frozenset(
    {"editMessageText", "editMessageMedia", "editMessageCaption", "editMessageReplyMarkup"}
)


class InlineError(Exception):
    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass
class InlineQuery:
    id: str
    user_id: int
    query: str
    asked_at: float
    answers: list[dict[str, Any]] = field(default_factory=list)
    answered_at: float | None = None
    cache_time: int | None = None
    is_personal: bool = False


@dataclass
class InlineMessage:
    id: str
    user_id: int
    body: dict[str, Any]  # text, or photo + caption
    reply_markup: dict[str, Any] | None = None
    edits: list[str] = field(default_factory=list)  # the methods that edited it


def _check_result(result: Any, known_files: set[str]) -> str:
    if not isinstance(result, dict):
        raise InlineError("Bad Request: can't parse inline query result")
    result_id = str(result.get("id", ""))
    if not 1 <= len(result_id.encode()) <= MAX_RESULT_ID_BYTES:
        raise InlineError("Bad Request: RESULT_ID_INVALID")
    kind = result.get("type")
    if kind == "article":
        content = result.get("input_message_content") or {}
        if not result.get("title") or not 1 <= len(str(content.get("message_text", ""))) <= 4096:
            raise InlineError("Bad Request: MESSAGE_EMPTY")
    elif kind == "photo":
        file_id = result.get("photo_file_id")
        if file_id is None and not str(result.get("photo_url", "")).startswith("https://"):
            raise InlineError("Bad Request: PHOTO_INVALID")
        if file_id is not None and file_id not in known_files:
            raise InlineError("Bad Request: wrong file identifier/HTTP URL specified")
    else:
        raise InlineError(f"Bad Request: result type {kind!r} is not supported here")
    return result_id


def check_answer(results: Any, known_files: set[str]) -> list[dict[str, Any]]:
    """`answerInlineQuery`'s `results`, as Telegram checks them."""
    if not isinstance(results, list):
        raise InlineError("Bad Request: can't parse inline query results JSON object")
    if len(results) > MAX_RESULTS:
        raise InlineError("Bad Request: RESULTS_TOO_MUCH")
    ids = [_check_result(result, known_files) for result in results]
    if len(set(ids)) != len(ids):
        raise InlineError("Bad Request: RESULT_ID_DUPLICATE")
    return results


@dataclass
class InlineState:
    """What the fake keeps of inline mode: the queries, their answers, the inline messages."""

    answer_seconds: float = 10.0
    queries: dict[str, InlineQuery] = field(default_factory=dict)
    messages: dict[str, InlineMessage] = field(default_factory=dict)
    presses: dict[str, float] = field(default_factory=dict)
    _next: int = 0

    def new_id(self, prefix: str) -> str:
        self._next += 1
        return f"{prefix}{self._next}"

    def answer(self, params: dict[str, Any], known_files: set[str]) -> bool:
        query = self.queries.get(str(params.get("inline_query_id", "")))
        now = time.time()
        if query is None or now - query.asked_at > self.answer_seconds:
            raise InlineError(QUERY_TOO_OLD)
        if query.answered_at is not None:
            raise InlineError(QUERY_TOO_OLD)  # one answer per query
        query.answers = check_answer(params.get("results"), known_files)
        query.answered_at = now
        query.cache_time = int(params["cache_time"]) if "cache_time" in params else None
        query.is_personal = str(params.get("is_personal", "")).lower() == "true"
        return True

    def post(self, query: InlineQuery, result_id: str) -> InlineMessage:
        """The message the user's client posts for a chosen result."""
        chosen = next((r for r in query.answers if r["id"] == result_id), None)
        if chosen is None:
            raise KeyError(f"no result {result_id!r} in the answer to {query.query!r}")
        body: dict[str, Any]
        if chosen["type"] == "article":
            body = {"text": chosen["input_message_content"]["message_text"]}
        else:
            body = {"photo": chosen["photo_file_id"], "caption": chosen.get("caption", "")}
        message = InlineMessage(
            self.new_id("inl-"), query.user_id, body, chosen.get("reply_markup")
        )
        self.messages[message.id] = message
        return message

    def edit(
        self, method: str, params: dict[str, Any], files: dict[str, bytes], known: set[str]
    ) -> bool:
        message = self.messages.get(str(params["inline_message_id"]))
        if message is None:
            raise InlineError("Bad Request: MESSAGE_ID_INVALID")
        if method == "editMessageMedia":
            media = params.get("media")
            if not isinstance(media, dict):
                raise InlineError("Bad Request: can't parse InputMedia JSON object")
            source = str(media.get("media", ""))
            if source.startswith("attach://") or files:
                raise InlineError(NO_UPLOAD_INLINE)
            if source not in known and not source.startswith(("http://", "https://")):
                raise InlineError("Bad Request: wrong file identifier/HTTP URL specified")
            message.body = {"photo": source, "caption": media.get("caption", "")}
        elif method == "editMessageText":
            if "text" not in message.body:
                raise InlineError("Bad Request: there is no text in the message to edit")
            message.body = {"text": str(params.get("text", ""))}
        elif method == "editMessageCaption":
            message.body = {**message.body, "caption": str(params.get("caption", ""))}
        message.reply_markup = params.get("reply_markup")
        message.edits.append(method)
        return True
