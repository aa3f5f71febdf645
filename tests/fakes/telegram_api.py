"""A fake Telegram Bot API server, strict about what the real one rejects.

Telegram's flood control is on by default (`enforce_rates`): every call that creates or
changes a message (sends and edits; a media group counts per item, and one larger than a
limit needs that whole window to itself) is counted per chat
(private: `private_limit` per `private_window` s; groups: `group_limit` per `group_window` s)
and overall (`overall_limit` per second). Past a limit the call is answered 429 with a
`retry_after`, and until that time is up every further call in that scope (the chat, or all
chats after an overall 429) is answered 429 again and counted in `flood_violations`. A test
turns the limits off only on purpose, with `enforce_rates=False`. Identical edits are answered
400 "message is not modified", edits of messages the bot did not send are refused, and a
second `getUpdates` while one is still open is answered 409 Conflict, as Telegram does.

Files users send: `photo_update` posts a photo (re-encoded as a JPEG without metadata, as
Telegram compresses photos) or a document (bytes kept as sent), with a caption and optionally
as a reply. `getFile` refuses an unknown `file_id` and, as the Bot API does, any file over
20 MB ("file is too big"); the bytes are served at `GET /file/bot<token>/<file_path>`, only
for paths `getFile` handed out, and every download is recorded.

Calls arrive as `POST /bot<token>/<method>` with form or multipart data; nested objects
(`reply_markup`, `media`, `commands`, `reply_parameters`) are JSON strings, as python-telegram-bot
sends them. Replies are `{"ok": true, "result": ...}` or the Bot API's error shape. Tests push
updates (messages, callback queries) that the bot receives through a real long-poll
`getUpdates`; every call is recorded with its uploaded file bytes.

Command lists: `setMyCommands` keeps one list per scope and `language_code` (`command_lists`)
and `getMyCommands` answers exactly that pair's list, as the Bot API documents.

What real communities do, on by default where Telegram always does it:

- **Upgraded groups.** `basic_group` makes a basic group; `migrate(old, new)` upgrades it to a
  supergroup: the old chat gets a service message with `migrate_to_chat_id`, the new one with
  `migrate_from_chat_id`, and from then on every call naming the old id is answered 400
  "group chat was upgraded to a supergroup chat" with `parameters.migrate_to_chat_id`.
  Messages stay behind: the new chat starts without them.
- **Forum topics.** `forum` makes a forum supergroup; messages carry `message_thread_id` and
  `is_topic_message`. A bot message sent with no `message_thread_id` and no reply goes to the
  General topic, which `close_general` closes (400 `TOPIC_CLOSED`); a reply lands in the
  replied-to message's topic.
- **Edited messages.** `edit_update` sends an `edited_message` with the same `message_id`.
- **allowed_updates.** Recorded from `getUpdates` and `setWebhook` (kept when a later call
  omits it, as Telegram does); `chat_member` updates are only sent when listed.
- **Permissions.** `set_permissions` changes a group's default permissions (returned by
  `getChat`); without `can_send_photos` (and the bot not an admin) `sendPhoto`,
  `sendMediaGroup` and a photo `editMessageMedia` answer 400 "not enough rights to send
  photos to the chat". `set_bot_status` changes the bot's membership and sends
  `my_chat_member`; a bot kicked (or blocked in a private chat) gets 403 on every send.
- **Sizes.** A request over 50 MB is refused by the front end with HTTP 413 and an HTML body.
- **Old presses.** `answerCallbackQuery` more than `callback_answer_seconds` (15) after the
  press is answered 400 "query is too old ...".
- **Local Bot API servers.** With `local_files_dir` set, `getFile` writes the file there and
  returns its absolute path, as a server started with `--local` does.
- **Inline mode** (tests/fakes/telegram_inline.py): `inline_enabled` (BotFather's switch,
  reported by `getMe` as `supports_inline_queries`), inline queries and `answerInlineQuery`
  checked as Telegram checks them, a chosen result posted as an inline message,
  `chosen_inline_result` (with `feedback_enabled`), edits by `inline_message_id` that refuse
  uploads, and presses on inline messages. Photos the bot sent are known by their `file_id`.
- **External replies.** `message_update(..., external_reply=...)` quotes a message of another
  chat or topic in `external_reply`, not `reply_to_message`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import itertools
import json
import math
import re
import secrets
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web
from PIL import Image

from tests.fakes.telegram_inline import (
    INLINE_EDITS,
    InlineError,
    InlineMessage,
    InlineQuery,
    InlineState,
)

ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
}
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
}
ANONYMOUS_ADMIN_ID = 1087968824
# Calls that create or change a message: the ones Telegram's flood control counts.
COUNTED_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "sendAnimation",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendSticker",
        "sendPoll",
        "copyMessage",
        "forwardMessage",
        "editMessageText",
        "editMessageMedia",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API's getFile limit
UPLOAD_LIMIT = 50 * 1024 * 1024  # what the Bot API's front end lets through
TOO_LARGE_HTML = (
    "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
    "<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx/1.18.0"
    "</center>\r\n</body>\r\n</html>\r\n"
)
MIGRATED = "Bad Request: group chat was upgraded to a supergroup chat"
TOPIC_CLOSED = "Bad Request: TOPIC_CLOSED"
NO_PHOTO_RIGHTS = "Bad Request: not enough rights to send photos to the chat"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
# Sent unless allowed_updates says otherwise; the others only when listed.
DEFAULT_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "inline_query",
        "chosen_inline_result",
        "my_chat_member",
    }
)
PHOTO_SENDS = frozenset({"sendPhoto", "sendMediaGroup"})
ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
}
RESTRICTED_RIGHTS = (
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_send_messages",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_manage_topics",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
)
CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


def _button_url_ok(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https", "tg") or not host or len(url) > 2048:
        return False
    return host != "localhost" and "." in host and not host.replace(".", "").isdigit()


def _check_web_app(web_app: Any, chat: dict[str, Any]) -> None:
    """Mini App buttons (`web_app`) work in private chats only; elsewhere Telegram refuses the
    message with BUTTON_TYPE_INVALID. The app's address must be HTTPS."""
    if chat["type"] != "private":
        raise ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")
    url = web_app.get("url") if isinstance(web_app, dict) else None
    if not isinstance(url, str) or not url.startswith("https://") or not _button_url_ok(url):
        raise ApiError(
            400,
            f"Bad Request: inline keyboard button Web App URL '{url}' is invalid: "
            "Only HTTPS links are allowed",
        )


def init_data(bot_token: str, user: dict[str, Any], **extra: str) -> str:
    """A Mini App's `initData` as Telegram signs it (core.telegram.org/bots/webapps,
    "Validating data received via the Mini App"): the pairs sorted into a data-check-string,
    signed with HMAC-SHA256 under HMAC-SHA256("WebAppData", bot token), hex."""
    pairs = {
        "query_id": f"AA{secrets.token_hex(8)}",
        "user": json.dumps(user, separators=(",", ":")),
        "auth_date": str(int(time.time())),
        **extra,
    }
    check = "\n".join(f"{key}={pairs[key]}" for key in sorted(pairs))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    pairs["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(pairs)


class ApiError(Exception):
    def __init__(
        self,
        code: int,
        description: str,
        retry_after: int | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after
        self.parameters = dict(parameters or {})
        if retry_after is not None:
            self.parameters["retry_after"] = retry_after


class _HtmlCheck(HTMLParser):
    """Telegram's HTML parse mode: only some tags, every tag closed, entities escaped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise ApiError(
                400, f'Bad Request: can\'t parse entities: unsupported start tag "{tag}"'
            )
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            raise ApiError(400, f'Bad Request: can\'t parse entities: unmatched end tag "{tag}"')


def visible_text(text: str, parse_mode: str | None) -> str:
    """What the user would see: HTML checked and stripped, as Telegram counts length."""
    if parse_mode is None:
        return text
    if parse_mode != "HTML":
        raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode}")
    checker = _HtmlCheck()
    parts: list[str] = []
    checker.handle_data = parts.append  # type: ignore[method-assign]
    # A bare "<" or "&" that is not an entity is an error in Telegram's parser.
    for index, char in enumerate(text):
        if char == "&" and not _entity_at(text, index):
            raise ApiError(400, "Bad Request: can't parse entities: unescaped &")
        following = text[index + 1 : index + 2]
        if char == "<" and not (following.isalpha() or following == "/"):
            raise ApiError(400, "Bad Request: can't parse entities: unescaped <")
    checker.feed(text)
    checker.close()
    if checker.stack:
        raise ApiError(
            400, f'Bad Request: can\'t parse entities: unclosed tag "{checker.stack[-1]}"'
        )
    return "".join(parts)


class _LinkCollector(HTMLParser):
    """The text links of HTML parse mode, as Telegram returns them in `caption_entities` /
    `entities` (offsets here count code points; Telegram counts UTF-16 units)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.shown = 0
        self.open: list[tuple[int, str]] = []
        self.links: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.open.append((self.shown, dict(attrs).get("href") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.open:
            start, url = self.open.pop()
            self.links.append(
                {"type": "text_link", "offset": start, "length": self.shown - start, "url": url}
            )

    def handle_data(self, data: str) -> None:
        self.shown += len(data)


def text_links(text: str, parse_mode: str | None) -> list[dict[str, Any]]:
    if parse_mode != "HTML":
        return []
    collector = _LinkCollector()
    collector.feed(text)
    collector.close()
    return collector.links


# Telegram turns @username in any message into a "mention" entity, and the member named
# is notified (https://core.telegram.org/bots/api#messageentity). Usernames: 5-32
# characters of letters, digits and underscores, starting with a letter.
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z][A-Za-z0-9_]{4,31})(?![A-Za-z0-9_])")


def mentions(shown: str) -> list[dict[str, Any]]:
    """The mention entities Telegram would find in the text a user sees."""
    return [
        {"type": "mention", "offset": m.start(), "length": m.end() - m.start()}
        for m in _MENTION.finditer(shown)
    ]


def _entity_at(text: str, index: int) -> bool:
    end = text.find(";", index)
    return end != -1 and end - index <= 8 and text[index + 1 : end].replace("#", "").isalnum()


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    at: float
    ok: bool = True
    error: str | None = None


@dataclass
class FakeTelegram:
    token: str = "123456:TEST-token-for-tests"
    bot_username: str = "imagine_test_bot"
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    members: dict[tuple[int, int], str] = field(default_factory=dict)
    # method -> list of errors to answer next, e.g. [(429, 2)]
    failures: dict[str, list[tuple[int, int | None]]] = field(default_factory=dict)
    # Telegram's flood control on sends and edits (see the module docstring).
    enforce_rates: bool = True
    overall_limit: int = 30  # messages per second, all chats
    group_limit: int = 20  # messages per group_window seconds, per group
    group_window: float = 60.0
    private_limit: int = 3  # messages per private_window seconds, per private chat
    private_window: float = 3.0
    flood_violations: int = 0  # calls made while a retry_after was still running
    rate_limited: list[Call] = field(default_factory=list)  # every call answered 429
    media_into_text: bool = True  # Bot API 7.x+: editMessageMedia may turn text into media
    updates: list[dict[str, Any]] = field(default_factory=list)
    # The command lists setMyCommands set, by (scope as JSON, language_code or "").
    command_lists: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    pushed_at: dict[int, float] = field(default_factory=dict)
    base_url: str = ""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _new_update: asyncio.Event | None = None
    _sent: list[float] = field(default_factory=list)
    _chat_sent: dict[int, list[float]] = field(default_factory=dict)
    _bans: dict[int | None, float] = field(default_factory=dict)  # None: every chat
    _polls: list[web.Request] = field(default_factory=list)  # getUpdates calls open now
    _consumed_offset: int = 0
    _closing: bool = False

    bot_id: int = 123456
    webhook: dict[str, Any] | None = None
    # Files users sent: file_id -> bytes; file_path (handed out by getFile) -> file_id.
    files: dict[str, bytes] = field(default_factory=dict)
    file_paths: dict[str, str] = field(default_factory=dict)
    downloads: list[str] = field(default_factory=list)  # file paths downloaded
    # A test may make each file download take this long (a slow network), to see how many
    # the bot has open at once.
    download_seconds: float = 0.0
    downloads_open: int = 0
    most_downloads_open: int = 0
    # Files whose size Telegram does not state (file_size is optional in the Bot API): no
    # file_size anywhere, and the download is sent chunked, without a Content-Length.
    undeclared: set[str] = field(default_factory=set)

    # Real communities (see the module docstring).
    migrated: dict[int, int] = field(default_factory=dict)  # old basic group -> supergroup
    migrated_answer_seconds: float = 0.0
    closed_general: set[int] = field(default_factory=set)  # forums whose General is closed
    permissions: dict[int, dict[str, bool]] = field(default_factory=dict)  # group defaults
    bot_status: dict[int, dict[str, Any]] = field(default_factory=dict)  # the bot's member
    allowed_updates: list[str] | None = None  # the last list a getUpdates/setWebhook gave
    callback_answer_seconds: float = 15.0
    local_files_dir: str | None = None  # a `--local` server: getFile hands out disk paths
    queries: dict[str, float] = field(default_factory=dict)  # callback query id -> pressed at
    # Inline mode: BotFather's two switches, and what inline queries and messages did.
    inline_enabled: bool = False
    feedback_enabled: bool = True
    inline: InlineState = field(default_factory=InlineState)

    # -- set-up ---------------------------------------------------------------------------------

    def app(self) -> web.Application:
        # Larger than Telegram's limit: the 413 comes from `handle`, as from Telegram's front end.
        app = web.Application(client_max_size=120 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self.handle)
        app.router.add_get("/bot{token}/{method}", self.handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self.download)
        app.on_shutdown.append(self._end_long_polls)
        return app

    async def _end_long_polls(self, _app: web.Application) -> None:
        """A server going down answers pending long polls at once, as Telegram's does."""
        self._closing = True
        self._event().set()

    @property
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Imagine",
            "username": self.bot_username,
        }

    def user(
        self, user_id: int, name: str = "user", language_code: str | None = None
    ) -> dict[str, Any]:
        """A person; `language_code` is the IETF tag of their app's language, which Telegram
        sends in `from` when it knows it (an optional field: absent otherwise)."""
        person = {
            "id": user_id,
            "is_bot": False,
            "first_name": name,
            "username": f"{name}{user_id}",
        }
        if language_code is not None:
            person["language_code"] = language_code
        self.users.setdefault(user_id, person)
        return self.users[user_id]

    def web_app_address(self, user_id: int, url: str, start_param: str | None = None) -> str:
        """The address a Telegram client opens for a Mini App `url` pressed by `user_id`: the
        signed initData (and the version and platform) in the fragment, as Telegram passes it;
        a direct link's start parameter also as `tgWebAppStartParam` in the query."""
        user = self.user(user_id)
        extra = {} if start_param is None else {"start_param": start_param}
        data = init_data(self.token, {k: user[k] for k in ("id", "first_name")}, **extra)
        if start_param is not None:
            url += ("&" if "?" in url else "?") + f"tgWebAppStartParam={start_param}"
        return f"{url}#tgWebAppData={quote(data, safe='')}&tgWebAppVersion=8.0&tgWebAppPlatform=tdesktop"

    def private_chat(self, user_id: int) -> dict[str, Any]:
        user = self.users[user_id]
        return self.chats.setdefault(
            user_id, {"id": user_id, "type": "private", "first_name": user["first_name"]}
        )

    def group(self, chat_id: int, title: str = "Group") -> dict[str, Any]:
        return self.chats.setdefault(chat_id, {"id": chat_id, "type": "supergroup", "title": title})

    def basic_group(self, chat_id: int, title: str = "Group") -> dict[str, Any]:
        return self.chats.setdefault(chat_id, {"id": chat_id, "type": "group", "title": title})

    def forum(self, chat_id: int, title: str = "Forum") -> dict[str, Any]:
        return self.chats.setdefault(
            chat_id, {"id": chat_id, "type": "supergroup", "title": title, "is_forum": True}
        )

    def close_general(self, chat_id: int) -> None:
        self.closed_general.add(chat_id)

    def migrate(self, old_id: int, new_id: int, user_id: int, *, notify: bool = True) -> None:
        """The basic group becomes a supergroup: two service messages (unless a test holds
        them back, as if the bot had not read them yet), then the old id is gone."""
        old = self.chats[old_id]
        new = self.chats.setdefault(
            new_id, {"id": new_id, "type": "supergroup", "title": old.get("title", "Group")}
        )
        sender = self.users[user_id]
        for chat, body in (
            (old, {"migrate_to_chat_id": new_id}),
            (new, {"migrate_from_chat_id": old_id}),
        ):
            message = {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": chat,
                "from": sender,
                **body,
            }
            self.messages[(chat["id"], message["message_id"])] = message
            if notify:
                self.push({"message": message})
        self.migrated[old_id] = new_id
        for (chat_id, user), status in list(self.members.items()):
            if chat_id == old_id:
                self.members[(new_id, user)] = status
        if old_id in self.permissions:
            self.permissions[new_id] = dict(self.permissions[old_id])

    def set_permissions(self, chat_id: int, **permissions: bool) -> None:
        self.permissions.setdefault(chat_id, {}).update(permissions)

    def set_bot_status(self, chat_id: int, status: str, by: int, **rights: Any) -> dict[str, Any]:
        """The bot's membership changes (restricted, kicked, left, member, administrator; in a
        private chat "kicked" is the user blocking the bot): a `my_chat_member` update."""
        old = self._bot_member(chat_id)
        new = {"status": status, "user": self.bot_user, **rights}
        if status == "administrator":
            new = {**ADMIN_RIGHTS, **new}
        if status == "kicked":
            new.setdefault("until_date", 0)
        if status == "restricted":
            new.setdefault("is_member", True)
            new.setdefault("until_date", 0)
            for name in RESTRICTED_RIGHTS:
                new.setdefault(name, True)
        self.bot_status[chat_id] = new
        return self.push(
            {
                "my_chat_member": {
                    "chat": self.chats[chat_id],
                    "from": self.users[by],
                    "date": int(time.time()),
                    "old_chat_member": old,
                    "new_chat_member": new,
                }
            }
        )

    def _bot_member(self, chat_id: int) -> dict[str, Any]:
        return dict(self.bot_status.get(chat_id) or {"status": "member", "user": self.bot_user})

    # -- updates (called on the server's loop) --------------------------------------------------

    def _event(self) -> asyncio.Event:
        if self._new_update is None:
            self._new_update = asyncio.Event()
        return self._new_update

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        update["update_id"] = next(self._update_ids)
        self.updates.append(update)
        self.pushed_at[update["update_id"]] = time.time()
        self._event().set()
        return update

    def message_update(
        self,
        chat_id: int,
        user_id: int | None,
        text: str,
        *,
        sender_chat: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        thread_id: int | None = None,
        external_reply: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        chat = self.chats[chat_id]
        sender = (
            self.users[user_id]
            if user_id is not None
            else {
                "id": ANONYMOUS_ADMIN_ID,
                "is_bot": True,
                "first_name": "Group",
                "username": "GroupAnonymousBot",
            }
        )
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": chat,
            "from": sender,
        }
        field_name = "caption" if body else "text"
        if body:
            message.update(body)
        if text or not body:
            message[field_name] = text
        if sender_chat is not None:
            message["sender_chat"] = sender_chat
        if reply_to is not None:
            message["reply_to_message"] = reply_to
            thread_id = thread_id or reply_to.get("message_thread_id")
        if external_reply is not None:
            message["external_reply"] = external_reply
        if thread_id is not None and chat.get("is_forum"):
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        if text.startswith("/"):
            command = text.split()[0]
            entities = "caption_entities" if body else "entities"
            message[entities] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self.messages[(chat_id, message["message_id"])] = message
        return self.push({"message": message})

    def add_file(self, data: bytes, *, declare_size: bool = True) -> dict[str, Any]:
        """A file a user uploaded: its file_id, file_unique_id and (usually) file_size."""
        file_id = f"f{next(self._ids)}"
        self.files[file_id] = data
        described: dict[str, Any] = {"file_id": file_id, "file_unique_id": f"u{file_id}"}
        if declare_size:
            described["file_size"] = len(data)
        else:
            self.undeclared.add(file_id)
        return described

    def photo_update(
        self,
        chat_id: int,
        user_id: int,
        data: bytes,
        caption: str = "",
        *,
        as_document: bool = False,
        file_name: str = "picture.png",
        mime_type: str = "image/png",
        reply_to: dict[str, Any] | None = None,
        declare_size: bool = True,
    ) -> dict[str, Any]:
        """A user sends a photo (Telegram re-encodes it as a JPEG, metadata gone) or a file."""
        if as_document:
            described = self.add_file(data, declare_size=declare_size)
            body: dict[str, Any] = {
                "document": {**described, "file_name": file_name, "mime_type": mime_type}
            }
        else:
            with Image.open(io.BytesIO(data)) as image:
                out = io.BytesIO()
                image.convert("RGB").save(out, format="JPEG", quality=95)
                width, height = image.size
            described = self.add_file(out.getvalue(), declare_size=declare_size)
            body = {"photo": [{**described, "width": width, "height": height}]}
        return self.message_update(chat_id, user_id, caption, reply_to=reply_to, body=body)

    def edit_update(self, message: dict[str, Any], text: str) -> dict[str, Any]:
        """The user edits a message they sent: Telegram sends it again as `edited_message`."""
        edited = {**message, "edit_date": int(time.time())}
        edited["caption" if "caption" in message else "text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            entities = "caption_entities" if "caption" in message else "entities"
            edited[entities] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self.messages[(message["chat"]["id"], message["message_id"])] = edited
        return self.push({"edited_message": edited})

    def callback_update(self, user_id: int, message: dict[str, Any], data: str) -> dict[str, Any]:
        query_id = str(next(self._ids))
        self.queries[query_id] = time.time()
        query = {
            "id": query_id,
            "from": self.users[user_id],
            "chat_instance": "ci",
            "message": message,
            "data": data,
        }
        return self.push({"callback_query": query})

    def external_quote(self, message: dict[str, Any]) -> dict[str, Any]:
        """`external_reply` for a quote of `message` from another chat or topic."""
        quoted: dict[str, Any] = {
            "origin": {
                "type": "user",
                "date": message["date"],
                "sender_user": message["from"],
            },
            "chat": message["chat"],
            "message_id": message["message_id"],
        }
        for key in ("photo", "document"):
            if key in message:
                quoted[key] = message[key]
        return quoted

    # -- the API --------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if (request.content_length or 0) > UPLOAD_LIMIT:
            # Telegram's front end refuses the body before the Bot API sees it: HTML, not JSON.
            self.calls.append(
                Call(method, {}, {}, time.time(), False, "413 Request Entity Too Large")
            )
            return web.Response(status=413, text=TOO_LARGE_HTML, content_type="text/html")
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            params, files = await self._read(request)
            call = Call(method, params, files, time.time())
            self.calls.append(call)
            try:
                if method in COUNTED_METHODS:
                    self._flood(params)
                queued = self.failures.get(method)
                if queued:
                    code, retry_after = queued.pop(0)
                    raise ApiError(
                        code,
                        f"Too Many Requests: retry after {retry_after}"
                        if code == 429
                        else "Internal Server Error",
                        retry_after,
                    )
                handler = getattr(self, f"m_{method}", None)
                if handler is None:
                    raise ApiError(404, "Not Found: method not found")
                if method == "getUpdates":
                    result = await self._one_poll(request, params, files)
                elif method in INLINE_EDITS and "inline_message_id" in params:
                    result = self._inline_call(self.inline.edit, method, params, files, self._known)
                else:
                    result = await handler(params, files)
            except ApiError as exc:
                call.ok, call.error = False, exc.description
                if exc.code == 429:
                    self.rate_limited.append(call)
                if "migrate_to_chat_id" in exc.parameters and self.migrated_answer_seconds:
                    # A slow answer, so that calls from several bot processes are all on
                    # their way before the first learns of the upgrade (a test's window).
                    await asyncio.sleep(self.migrated_answer_seconds)
                raise
            return web.json_response({"ok": True, "result": result})
        except ApiError as exc:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": exc.code,
                "description": exc.description,
            }
            if exc.parameters:
                body["parameters"] = exc.parameters
            return web.json_response(body, status=exc.code)

    async def _read(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.filename is not None:
                    files[part.name or ""] = bytes(await part.read())
                else:
                    params[part.name or ""] = (await part.read()).decode()
        elif request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                params = {
                    k: v if isinstance(v, str) else json.dumps(v)
                    for k, v in (await request.json()).items()
                }
            else:
                params = dict(await request.post())  # type: ignore[arg-type]
        return {k: _decode(k, v) for k, v in params.items()}, files

    # -- inline mode ----------------------------------------------------------------------------

    @property
    def _known(self) -> set[str]:
        return set(self.files)

    @staticmethod
    def _inline_call(method: Any, *args: Any) -> Any:
        try:
            return method(*args)
        except InlineError as exc:
            raise ApiError(400, exc.description) from None

    async def m_answerInlineQuery(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self._inline_call(self.inline.answer, params, self._known)

    def inline_query_update(
        self, user_id: int, query: str, chat_type: str = "supergroup"
    ) -> dict[str, Any]:
        if not self.inline_enabled:
            raise RuntimeError("inline mode is off in BotFather: Telegram sends no inline query")
        query_id = self.inline.new_id("iq-")
        self.inline.queries[query_id] = InlineQuery(query_id, user_id, query, time.time())
        body = {
            "id": query_id,
            "from": self.users[user_id],
            "query": query,
            "offset": "",
            "chat_type": chat_type,
        }
        return self.push({"inline_query": body})

    def choose(self, user_id: int, query_id: str, result_id: str) -> InlineMessage:
        """The user picks a result: their client posts it; with inline feedback on, the bot
        hears `chosen_inline_result` (with `inline_message_id` only under a keyboard)."""
        query = self.inline.queries[query_id]
        message = self.inline.post(query, result_id)
        if self.feedback_enabled:
            chosen: dict[str, Any] = {
                "result_id": result_id,
                "from": self.users[user_id],
                "query": query.query,
            }
            if message.reply_markup is not None:
                chosen["inline_message_id"] = message.id
            self.push({"chosen_inline_result": chosen})
        return message

    def inline_press(self, user_id: int, inline_message_id: str, data: str) -> dict[str, Any]:
        query_id = str(next(self._ids))
        self.queries[query_id] = time.time()
        query = {
            "id": query_id,
            "from": self.users[user_id],
            "chat_instance": "ci-inline",
            "inline_message_id": inline_message_id,
            "data": data,
        }
        return self.push({"callback_query": query})

    # -- rates ----------------------------------------------------------------------------------

    def _flood(self, params: dict[str, Any]) -> None:
        """Telegram's flood control for one call that creates or changes a message."""
        if not self.enforce_rates:
            return
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, TypeError, ValueError):
            return  # the method itself answers the missing chat
        now = time.time()
        for scope in (None, chat_id):
            until = self._bans.get(scope, 0.0)
            if now < until:
                self.flood_violations += 1
                wait = max(1, math.ceil(until - now))
                raise ApiError(429, f"Too Many Requests: retry after {wait}", wait)
        media = params.get("media")
        units = len(media) if isinstance(media, list) else 1
        self._sent = [t for t in self._sent if now - t < 1.0]
        # A media group larger than a limit needs the whole window to itself.
        if len(self._sent) + min(units, self.overall_limit) > self.overall_limit:
            self._bans[None] = now + 1
            raise ApiError(429, "Too Many Requests: retry after 1", 1)
        private = self.chats.get(chat_id, {}).get("type") == "private"
        limit, window = (
            (self.private_limit, self.private_window)
            if private
            else (self.group_limit, self.group_window)
        )
        sent = [t for t in self._chat_sent.get(chat_id, []) if now - t < window]
        if len(sent) + min(units, limit) > limit:
            wait = max(1, math.ceil(sent[0] + window - now))
            self._bans[chat_id] = now + wait
            raise ApiError(429, f"Too Many Requests: retry after {wait}", wait)
        self._chat_sent[chat_id] = [*sent, *([now] * units)]
        self._sent.extend([now] * units)

    async def _one_poll(
        self, request: web.Request, params: dict[str, Any], files: dict[str, bytes]
    ) -> Any:
        """One long poll at a time: Telegram answers a second one 409 Conflict. A poll whose
        client has gone (its connection closed) no longer counts, as on Telegram."""
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._polls = [
            r for r in self._polls if r.transport is not None and not r.transport.is_closing()
        ]
        if self._polls:
            raise ApiError(409, CONFLICT)
        self._polls.append(request)
        try:
            return await self.m_getUpdates(params, files)
        finally:
            self._polls = [r for r in self._polls if r is not request]

    # -- validation helpers ---------------------------------------------------------------------

    def _chat(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, ValueError):
            raise ApiError(400, "Bad Request: chat_id is empty") from None
        if chat_id in self.migrated:
            raise ApiError(400, MIGRATED, parameters={"migrate_to_chat_id": self.migrated[chat_id]})
        if chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        status = self._bot_member(chat_id)["status"]
        if status in ("kicked", "left"):
            chat = self.chats[chat_id]
            if chat["type"] == "private":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            raise ApiError(403, f"Forbidden: bot was kicked from the {chat['type']} chat")
        return self.chats[chat_id]

    def _may_send_photos(self, chat: dict[str, Any]) -> None:
        if chat["type"] == "private":
            return
        member = self._bot_member(chat["id"])
        if member["status"] in ("administrator", "creator"):
            return
        allowed = self.permissions.get(chat["id"], {}).get("can_send_photos", True)
        if member["status"] == "restricted":
            allowed = allowed and bool(member.get("can_send_photos", True))
        if not allowed:
            raise ApiError(400, NO_PHOTO_RIGHTS)

    def _thread_for(
        self, chat: dict[str, Any], params: dict[str, Any], reply: dict[str, Any] | None
    ) -> int | None:
        """Where a bot message lands in a forum: the replied-to message's topic, else the
        `message_thread_id` given, else General (which may be closed)."""
        if not chat.get("is_forum"):
            return None
        if reply is not None:
            thread = reply.get("message_thread_id")
        else:
            given = params.get("message_thread_id")
            thread = int(given) if given not in (None, "") else None
        if thread is None and chat["id"] in self.closed_general:
            raise ApiError(400, TOPIC_CLOSED)
        return thread

    @staticmethod
    def _markup(params: dict[str, Any], chat: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "force_reply" in markup:
            placeholder = markup.get("input_field_placeholder", "")
            if markup["force_reply"] is not True or len(placeholder) > 64:
                raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise ApiError(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if "web_app" in button:
                    _check_web_app(button["web_app"], chat)
                url = button.get("url")
                if url is not None and not _button_url_ok(url):
                    # Telegram wants a public address: localhost and bare IPs are refused.
                    raise ApiError(
                        400,
                        f"Bad Request: inline keyboard button URL '{url}' is invalid: Wrong HTTP URL",
                    )
        return markup

    def _reply_to(self, chat_id: int, params: dict[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters")
        message_id = (
            reply.get("message_id")
            if isinstance(reply, dict)
            else params.get("reply_to_message_id")
        )
        if message_id is None:
            return None
        original = self.messages.get((chat_id, int(message_id)))
        if original is None:
            if isinstance(reply, dict) and reply.get("allow_sending_without_reply"):
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        return original

    @staticmethod
    def _photo(data: bytes) -> list[dict[str, Any]]:
        if len(data) > 10 * 1024 * 1024:
            raise ApiError(400, "Bad Request: PHOTO_SAVE_FILE_INVALID")
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
        except Exception:
            raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED") from None
        if width + height > 10000 or max(width, height) / min(width, height) > 20:
            raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        unique = f"p{len(data)}-{width}x{height}"
        return [
            {
                "file_id": unique,
                "file_unique_id": unique,
                "width": width,
                "height": height,
                "file_size": len(data),
            }
        ]

    def _store(
        self, chat: dict[str, Any], body: dict[str, Any], params: dict[str, Any]
    ) -> dict[str, Any]:
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user,
            **body,
        }
        reply = self._reply_to(chat["id"], params)
        if reply is not None:
            message["reply_to_message"] = reply
        thread = self._thread_for(chat, params, reply)
        if thread is not None:
            message["message_thread_id"] = thread
            message["is_topic_message"] = True
        markup = self._markup(params, chat)
        # Only an inline keyboard belongs to the message; a ForceReply or reply keyboard is
        # an instruction to the client and is not in the Message Telegram returns.
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self.messages[(chat["id"], message["message_id"])] = message
        return message

    def _editable(self, chat: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        message = self.messages.get((chat["id"], int(params.get("message_id", 0))))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message["from"]["id"] != self.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    def _caption(self, params: dict[str, Any]) -> dict[str, Any]:
        caption = params.get("caption")
        if caption is None:
            return {}
        shown = visible_text(caption, params.get("parse_mode"))
        if len(shown) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        links = text_links(caption, params.get("parse_mode")) + mentions(shown)
        return {"caption": shown, "caption_entities": links} if links else {"caption": shown}

    def _file(self, value: Any, files: dict[str, bytes]) -> bytes:
        if isinstance(value, str) and value.startswith("attach://"):
            name = value.removeprefix("attach://")
            if name not in files:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            return files[name]
        raise ApiError(400, "Bad Request: expected an uploaded file")

    def _upload(self, params: dict[str, Any], files: dict[str, bytes], name: str) -> bytes:
        if name in files:
            return files[name]
        return self._file(params.get(name), files)

    # -- methods --------------------------------------------------------------------------------

    async def m_getFile(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        file_id = str(params.get("file_id", ""))
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        data = self.files[file_id]
        if len(data) > DOWNLOAD_LIMIT:
            raise ApiError(400, "Bad Request: file is too big")
        path = f"documents/file_{file_id}"
        if self.local_files_dir is not None:
            # A `--local` Bot API server: the file is on its disk, the path absolute.
            from pathlib import Path

            local = Path(self.local_files_dir) / path
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(data)
            path = str(local)
        self.file_paths[path] = file_id
        described = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_path": path}
        if file_id not in self.undeclared:
            described["file_size"] = len(data)
        return described

    async def download(self, request: web.Request) -> web.StreamResponse:
        """The file URL: only with the bot's token and a path getFile handed out."""
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        path = request.match_info["path"]
        file_id = self.file_paths.get(path)
        if file_id is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        self.downloads.append(path)
        self.downloads_open += 1
        self.most_downloads_open = max(self.most_downloads_open, self.downloads_open)
        try:
            if self.download_seconds:
                await asyncio.sleep(self.download_seconds)
            return await self._send_file(request, file_id)
        finally:
            self.downloads_open -= 1

    async def _send_file(self, request: web.Request, file_id: str) -> web.StreamResponse:
        data = self.files[file_id]
        if file_id not in self.undeclared:
            return web.Response(body=data, content_type="application/octet-stream")
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for start in range(0, len(data), 256 * 1024):
                await response.write(data[start : start + 256 * 1024])
            await response.write_eof()
        except (ConnectionResetError, RuntimeError):
            pass  # the client stopped reading: what a capped download does
        return response

    async def m_getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": self.inline_enabled,
        }

    async def m_deleteWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.webhook = None
        return True

    async def m_setWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        url = str(params.get("url", ""))
        secret = params.get("secret_token")
        if not url.startswith(("https://", "http://127.0.0.1")):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        if secret is not None and not (
            1 <= len(secret) <= 256 and secret.replace("_", "").replace("-", "").isalnum()
        ):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = {"url": url, "secret_token": secret}
        self._allowed(params)
        return True

    def _allowed(self, params: dict[str, Any]) -> None:
        """A call that lists allowed_updates replaces the list; one without keeps it."""
        listed = params.get("allowed_updates")
        if isinstance(listed, list):
            self.allowed_updates = [str(kind) for kind in listed]

    def _sendable(self, update: dict[str, Any]) -> bool:
        kinds = set(self.allowed_updates or ()) or DEFAULT_UPDATES
        return any(kind in update for kind in kinds)

    async def m_getChat(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat = dict(self._chat(params))
        chat.setdefault("accent_color_id", 0)
        chat.setdefault("max_reaction_count", 11)
        chat.setdefault(
            "accepted_gift_types",
            {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        if chat["type"] != "private":
            chat["permissions"] = {
                **{name: True for name in RESTRICTED_RIGHTS},
                **self.permissions.get(chat["id"], {}),
            }
        return chat

    async def m_setMyCommands(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        """As documented: 1-100 commands, each name 1-32 of a-z, 0-9 and _, each description
        1-256 characters; a list per scope and per `language_code` (empty, or a two-letter
        ISO 639-1 code), replacing that pair's list only."""
        commands = params.get("commands")
        if not isinstance(commands, list) or not 1 <= len(commands) <= 100:
            raise ApiError(400, "Bad Request: commands must be a non-empty list")
        for command in commands:
            name, description = command.get("command", ""), command.get("description", "")
            if not (
                1 <= len(name) <= 32 and name == name.lower() and name.replace("_", "").isalnum()
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.command_lists[self._command_list_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def m_getMyCommands(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        """The list set for exactly this scope and language_code (an empty list if none)."""
        return self.command_lists.get(self._command_list_key(params), [])

    @staticmethod
    def _command_list_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise ApiError(400, "Bad Request: can't parse BotCommandScope")
        code = params.get("language_code") or ""
        if code and not (len(code) == 2 and code.isascii() and code.isalpha() and code.islower()):
            raise ApiError(400, "Bad Request: invalid language code specified")
        return json.dumps(scope, sort_keys=True), code

    async def m_getUpdates(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        offset = int(params.get("offset", 0) or 0)
        timeout = float(params.get("timeout", 0) or 0)
        limit = int(params.get("limit", 100) or 100)
        self._allowed(params)
        deadline = time.monotonic() + timeout
        while True:
            # An update is confirmed once a getUpdates asks for a higher offset; Telegram
            # never sends a confirmed update again, whatever offset a restarted bot asks for.
            self._consumed_offset = max(self._consumed_offset, offset)
            pending = [
                u
                for u in self.updates
                if u["update_id"] >= self._consumed_offset and self._sendable(u)
            ]
            if pending or time.monotonic() >= deadline or self._closing:
                return pending[:limit]
            event = self._event()
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                pass

    async def m_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat = self._chat(params)
        text = visible_text(str(params.get("text", "")), params.get("parse_mode"))
        if not 1 <= len(text) <= 4096:
            raise ApiError(
                400,
                "Bad Request: message text is empty"
                if not text
                else "Bad Request: message is too long",
            )
        body: dict[str, Any] = {"text": text}
        if mentions(text):
            body["entities"] = mentions(text)
        return self._store(chat, body, params)

    async def m_editMessageText(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat = self._chat(params)
        message = self._editable(chat, params)
        text = visible_text(str(params.get("text", "")), params.get("parse_mode"))
        if not 1 <= len(text) <= 4096:
            raise ApiError(400, "Bad Request: message text is empty")
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        markup = self._markup(params, chat)
        if message["text"] == text and message.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        message["text"] = text
        message.pop("entities", None)
        if mentions(text):
            message["entities"] = mentions(text)
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        return message

    async def m_editMessageMedia(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat = self._chat(params)
        message = self._editable(chat, params)
        if "text" in message and not self.media_into_text:
            raise ApiError(400, "Bad Request: there is no media in the message to edit")
        media = params.get("media")
        if not isinstance(media, dict) or media.get("type") not in ("photo", "document"):
            raise ApiError(400, "Bad Request: can't parse InputMedia JSON object")
        if media["type"] == "photo":
            self._may_send_photos(chat)
        data = self._file(media.get("media"), files)
        body: dict[str, Any] = self._caption({**media, "parse_mode": media.get("parse_mode")})
        if media["type"] == "photo":
            body["photo"] = self._photo(data)
        else:
            body["document"] = {
                "file_id": f"d{len(data)}",
                "file_unique_id": f"d{len(data)}",
                "file_size": len(data),
            }
        markup = self._markup(params, chat)
        if (
            _unique_id(message) == _unique_id(body)
            and message.get("caption") == body.get("caption")
            and message.get("reply_markup") == markup
        ):
            raise ApiError(400, NOT_MODIFIED)
        for key in ("text", "photo", "document", "caption", "reply_markup"):
            message.pop(key, None)
        message.update(body)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return message

    async def m_editMessageCaption(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat = self._chat(params)
        message = self._editable(chat, params)
        if "text" in message:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        body = self._caption(params)
        markup = self._markup(params, chat)
        if message.get("caption") == body.get("caption") and message.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        message.pop("caption", None)
        message.pop("reply_markup", None)
        message.update(body)
        if markup is not None:
            message["reply_markup"] = markup
        return message

    async def m_editMessageReplyMarkup(
        self, params: dict[str, Any], files: dict[str, bytes]
    ) -> Any:
        chat = self._chat(params)
        message = self._editable(chat, params)
        markup = self._markup(params, chat)
        if message.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        return message

    async def m_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat = self._chat(params)
        self._may_send_photos(chat)
        data = self._upload(params, files, "photo")
        body = {**self._caption(params), "photo": self._photo(data)}
        for size in body["photo"]:  # a file the bot sent is known by its file_id from now on
            self.files.setdefault(size["file_id"], data)
        return self._store(chat, body, params)

    async def m_sendDocument(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat = self._chat(params)
        data = self._upload(params, files, "document")
        if len(data) > 50 * 1024 * 1024:
            raise ApiError(413, "Request Entity Too Large")
        body = {
            **self._caption(params),
            "document": {
                "file_id": f"d{len(data)}",
                "file_unique_id": f"d{len(data)}",
                "file_size": len(data),
            },
        }
        return self._store(chat, body, params)

    async def m_sendMediaGroup(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat = self._chat(params)
        self._may_send_photos(chat)
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: wrong number of media in the album (2-10)")
        sent = []
        for item in media:
            body = {
                **self._caption(item),
                "photo": self._photo(self._file(item.get("media"), files)),
            }
            sent.append(self._store(chat, {**body, "media_group_id": "g1"}, params))
        return sent

    async def m_sendChatAction(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self._chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def m_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        pressed = self.queries.get(str(params.get("callback_query_id", "")))
        if pressed is None or time.time() - pressed > self.callback_answer_seconds:
            raise ApiError(400, QUERY_TOO_OLD)
        if len(str(params.get("text", ""))) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    async def m_getChatMember(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat = self._chat(params)
        user_id = int(params["user_id"])
        if user_id == self.bot_id:
            return self._bot_member(chat["id"])
        if user_id not in self.users:
            raise ApiError(400, "Bad Request: user not found")
        status = self.members.get((chat["id"], user_id), "member")
        member: dict[str, Any] = {"status": status, "user": self.users[user_id]}
        if status == "administrator":
            member.update(ADMIN_RIGHTS)
        if status == "creator":
            member["is_anonymous"] = False
        return member

    async def m_deleteMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat = self._chat(params)
        key = (chat["id"], int(params.get("message_id", 0)))
        message = self.messages.get(key)
        if message is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        # A bot deletes its own messages for 48 hours only; edits have no age limit.
        if time.time() - message["date"] > DELETE_WINDOW_SECONDS:
            raise ApiError(400, "Bad Request: message can't be deleted for everyone")
        del self.messages[key]
        return True

    def age(self, chat_id: int, message_id: int, seconds: float) -> None:
        """The clock for one message: it was sent `seconds` earlier than it was."""
        self.messages[(chat_id, message_id)]["date"] -= int(seconds)

    # -- what tests read ------------------------------------------------------------------------

    def calls_to(self, method: str, *, ok: bool | None = True) -> list[Call]:
        return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    def photos_in(self, chat_id: int) -> list[Call]:
        """Successful calls that put a photo into this chat (sent or edited in)."""
        out = []
        for call in self.calls:
            if not call.ok or int(call.params.get("chat_id", 0) or 0) != chat_id:
                continue
            if call.method == "sendPhoto" or (
                call.method == "editMessageMedia" and call.params["media"].get("type") == "photo"
            ):
                out.append(call)
        return out


def _unique_id(message: dict[str, Any]) -> str | None:
    """The file a message shows (the largest photo size, or the document), if any."""
    if message.get("photo"):
        return str(message["photo"][-1]["file_unique_id"])
    if message.get("document"):
        return str(message["document"]["file_unique_id"])
    return None


DELETE_WINDOW_SECONDS = 48 * 3600

# https://core.telegram.org/bots/api#botcommandscope
COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
JSON_FIELDS = {
    "scope",
    "reply_markup",
    "media",
    "commands",
    "reply_parameters",
    "allowed_updates",
    "entities",
    "caption_entities",
    "link_preview_options",
    "results",
    "button",
}


def _decode(name: str, value: Any) -> Any:
    """Nested objects arrive as JSON strings; plain strings (text, captions) never are."""
    if name in JSON_FIELDS and isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None
    return value


def photo_bytes(call: Call) -> bytes:
    """The image a photo call uploaded."""
    if call.method == "sendPhoto":
        return (
            call.files["photo"]
            if "photo" in call.files
            else call.files[str(call.params["photo"]).removeprefix("attach://")]
        )
    return call.files[str(call.params["media"]["media"]).removeprefix("attach://")]


class TelegramDriver:
    """Runs the fake Bot API in a background thread and acts as Telegram's users."""

    def __init__(self, **options: Any) -> None:
        from tests.fakes.server import ServerThread

        self.fake = FakeTelegram(**options)
        self.server = ServerThread(self.fake.app())

    def start(self) -> TelegramDriver:
        self.server.start()
        self.fake.base_url = self.server.url
        return self

    def stop(self) -> None:
        self.server.stop()

    def env(self) -> dict[str, str]:
        return {
            "TELEGRAM_TOKEN": self.fake.token,
            "TELEGRAM_API_BASE": f"{self.server.url}/bot",
            "TELEGRAM_FILE_BASE": f"{self.server.url}/file/bot",
        }

    def polling(self) -> bool:
        return any(c.method == "getUpdates" for c in list(self.fake.calls))

    def add_user(self, user_id: int, name: str = "user", language_code: str | None = None) -> None:
        self.server.run_sync(self.fake.user, user_id, name, language_code)
        self.server.run_sync(self.fake.private_chat, user_id)

    def add_group(self, chat_id: int, members: dict[int, str] | None = None) -> None:
        self.server.run_sync(self.fake.group, chat_id)
        for user_id, status in (members or {}).items():
            self.fake.members[(chat_id, user_id)] = status

    def send(self, chat_id: int, user_id: int | None, text: str, **kw: Any) -> dict[str, Any]:
        update = self.server.run_sync(
            lambda: self.fake.message_update(chat_id, user_id, text, **kw)
        )
        return dict(update["message"])

    def send_picture(
        self, chat_id: int, user_id: int, data: bytes, caption: str = "", **kw: Any
    ) -> dict[str, Any]:
        update = self.server.run_sync(
            lambda: self.fake.photo_update(chat_id, user_id, data, caption, **kw)
        )
        return dict(update["message"])

    def press(self, user_id: int, message: dict[str, Any], data: str) -> dict[str, Any]:
        return dict(self.server.run_sync(lambda: self.fake.callback_update(user_id, message, data)))

    def inline_query(self, user_id: int, query: str, chat_type: str = "supergroup") -> str:
        """A user types `@bot <query>` in a chat; the inline query's id."""
        update = self.server.run_sync(
            lambda: self.fake.inline_query_update(user_id, query, chat_type)
        )
        return str(update["inline_query"]["id"])

    def choose(self, user_id: int, query_id: str, result_id: str) -> InlineMessage:
        return self.server.run_sync(lambda: self.fake.choose(user_id, query_id, result_id))

    def inline_press(self, user_id: int, inline_message_id: str, data: str) -> dict[str, Any]:
        return dict(
            self.server.run_sync(lambda: self.fake.inline_press(user_id, inline_message_id, data))
        )

    def age(self, message: dict[str, Any], seconds: float) -> None:
        """Make a message `seconds` older (Telegram's 48-hour delete window)."""
        self.server.run_sync(self.fake.age, message["chat"]["id"], message["message_id"], seconds)

    def replies_to(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        """Messages the bot sent in reply to this one, as they are now."""
        chat_id = message["chat"]["id"]
        return [
            m
            for (cid, _), m in list(self.fake.messages.items())
            if cid == chat_id
            and m.get("reply_to_message", {}).get("message_id") == message["message_id"]
            and m["from"]["id"] == self.fake.bot_id
        ]
