"""A strict fake of Discord's REST API for discord.py, on 127.0.0.1.

It answers the calls imaginebot makes (login, command sync, interaction callbacks,
webhook edits and follow-ups with multipart uploads, channel messages) the way Discord
does, and rejects what Discord would reject: late or double acknowledgements, expired
tokens, unknown fields, oversize text or files, bad `allowed_mentions`. Everything the bot
sent is recorded (`writes`, `messages`) with the uploaded bytes, and the fake works out
who a message would have pinged. The gateway half lives in `discord_gateway.py`.

Messages sent with the bot token (channel messages, DMs) follow the channel's permissions for
the bot (`bot_permissions`, by default what the invite in docs/discord.md asks): View Channel
(else 403 50001 Missing Access), Send Messages (in a thread: Send Messages in Threads), Read
Message History for a reply (`message_reference`) and for reading a message back, Attach Files
for files; a missing one answers 403 50013 Missing Permissions. Interaction responses and
follow-ups need none of them. Their files are capped by the server's own upload limit (from its
boost tier: 10 MiB below tier 2), not by the interaction's `attachment_size_limit`, which
includes the user's Nitro. A user can close their DMs to the bot (403 50007). A message created
with `nonce` and `enforce_nonce` is not created twice: the same nonce within a few minutes
answers the message made first. `cut(kind, count, after=...)` drops the connection of the next
requests of a kind (the bot sees a connection error), before handling them or after (the
message exists, the answer is lost), or answers 502 after handling them (discord.py retries a
POST after a 5xx by itself; only the nonce it sends keeps that from posting twice).

User installs (an app a user adds to their own account): a synced command declares
`integration_types` (0 server install, 1 user install) and `contexts` (0 server, 1 the bot's
DM, 2 private channels: DMs and group DMs between users), checked when synced; the driver's
client offers a command only where they allow it. `add_private_channel` is a DM or group DM
between users and `add_guild(with_bot=False)` a server that never added the bot: interactions
from there carry `context` and `authorizing_integration_owners` naming only the user, and any
bot-token call in their channels answers 403 50001 Missing Access (the bot is not a member).
A server in `external_apps_restricted` (its members lack Use External Apps) makes every
response to a user-install interaction there ephemeral, as Discord does.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.discord_gateway import (
    ATTACH_FILES,
    BOT_DEFAULT,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    READ_HISTORY,
    SEND_IN_THREADS,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    Gateway,
)
from tests.fakes.discord_ratelimit import RateLimits

DISCORD_EPOCH_MS = 1420070400000
ACK_DEADLINE = 3.0
TOKEN_LIFETIME = 15 * 60
DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024
# A server's own upload limit by boost tier (what bot-token messages may carry).
GUILD_UPLOAD_LIMITS = {0: 10 * 1024**2, 1: 10 * 1024**2, 2: 50 * 1024**2, 3: 100 * 1024**2}
NONCE_WINDOW = 5 * 60  # "checked for uniqueness in the past few minutes"
MESSAGE_FIELDS = {
    "content",
    "embeds",
    "allowed_mentions",
    "components",
    "attachments",
    "flags",
    "tts",
    "nonce",
    "enforce_nonce",
    "message_reference",
    "sticker_ids",
    "poll",
    "username",
    "avatar_url",
    "thread_name",
    "applied_tags",
}
COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
MAX_ACTION_ROWS = 5
EPHEMERAL = 1 << 6
LOADING = 1 << 7


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def json_response(data: Any, status: int = 200) -> web.Response:
    # Exactly "application/json": discord.py only parses JSON when the header says so.
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1e6):06d}+00:00"


@dataclass
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Write:
    """One request by which the bot created, edited or deleted a message."""

    kind: str  # callback, edit_original, followup, channel_message, delete_original, ...
    at: float  # time.monotonic() when the fake received it
    interaction_id: str | None
    message_id: str | None
    body: dict[str, Any]
    files: list[Upload]
    callback_type: int | None = None


@dataclass
class Message:
    id: str
    channel_id: str
    kind: int
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[tuple[str, Upload]] = field(default_factory=list)
    flags: int = 0
    interaction_id: str | None = None
    deleted: bool = False
    pinged: dict[str, Any] = field(default_factory=dict)
    allowed_mentions: Any = None
    # A response to a button press: Discord links it to the message the button was on.
    interaction_metadata: dict[str, Any] | None = None
    reference_id: str | None = None  # the message this one replies to

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)


@dataclass
class Interaction:
    id: str
    token: str
    type: int
    payload: dict[str, Any]
    dispatched_at: float  # monotonic
    created: float = field(default_factory=time.time)
    response_type: int | None = None
    responded_at: float | None = None
    message_id: str | None = None
    expired: bool = False
    choices: list[dict[str, Any]] | None = None
    modal: dict[str, Any] | None = None  # the modal this interaction was answered with


def validate_message(body: dict[str, Any], *, create: bool) -> None:
    unknown = set(body) - MESSAGE_FIELDS
    if unknown:
        raise ApiError(400, 50035, f"Invalid Form Body: unknown fields {sorted(unknown)}")
    content = body.get("content")
    if content is not None and (not isinstance(content, str) or len(content) > 2000):
        raise ApiError(400, 50035, "content: Must be 2000 or fewer in length.")
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        raise ApiError(400, 50035, "embeds: Must be 10 or fewer in length.")
    total = 0
    for embed in embeds:
        for key, limit in (("title", 256), ("description", 4096)):
            if len(embed.get(key) or "") > limit:
                raise ApiError(400, 50035, f"embeds.{key}: Must be {limit} or fewer in length.")
            total += len(embed.get(key) or "")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            raise ApiError(400, 50035, "embeds.fields: Must be 25 or fewer in length.")
        for f in fields:
            if not f.get("name") or not f.get("value"):
                raise ApiError(400, 50035, "embeds.fields: name and value are required.")
            if len(f["name"]) > 256 or len(f["value"]) > 1024:
                raise ApiError(400, 50035, "embeds.fields: too long.")
            total += len(f["name"]) + len(f["value"])
    if total > 6000:
        raise ApiError(400, 50035, "embeds: total size exceeds 6000 characters.")
    mentions = body.get("allowed_mentions")
    if mentions is not None:
        if not isinstance(mentions, dict) or set(mentions) - {
            "parse",
            "users",
            "roles",
            "replied_user",
        }:
            raise ApiError(400, 50035, "allowed_mentions: invalid shape")
        parse = mentions.get("parse", [])
        if set(parse) - {"users", "roles", "everyone"}:
            raise ApiError(400, 50035, "allowed_mentions.parse: invalid value")
        if ("users" in parse and mentions.get("users")) or (
            "roles" in parse and mentions.get("roles")
        ):
            raise ApiError(400, 50035, "allowed_mentions: parse and a list are mutually exclusive")
    rows = body.get("components") or []
    if len(rows) > MAX_ACTION_ROWS:
        raise ApiError(400, 50035, "components: Must be 5 or fewer in length.")
    seen: set[str] = set()
    for row in rows:
        if row.get("type") != 1 or not 1 <= len(row.get("components", [])) <= 5:
            raise ApiError(400, 50035, "components: each row holds 1 to 5 components")
        for item in row["components"]:
            custom = item.get("custom_id")
            if custom is not None:
                if custom in seen:
                    raise ApiError(400, 50035, "components.custom_id: must be unique")
                seen.add(custom)
            if len(item.get("label") or "") > 80:
                raise ApiError(400, 50035, "components.label: Must be 80 or fewer in length.")
            if item.get("type") != 5 and custom is not None and not 1 <= len(custom) <= 100:
                raise ApiError(400, 50035, "components.custom_id: 1 to 100 characters")
            if item.get("type") == 2 and item.get("style") == 5:
                # Link buttons: a url of at most 512 characters, and never a custom_id.
                url = item.get("url")
                if custom is not None or not isinstance(url, str) or not 1 <= len(url) <= 512:
                    raise ApiError(
                        400, 50035, "components.url: link buttons need a url, no custom_id"
                    )
                if not url.startswith(("http://", "https://", "discord://")):
                    raise ApiError(
                        400, 50035, "components.url: scheme must be http, https or discord"
                    )
            elif item.get("type") == 2 and custom is None:
                raise ApiError(400, 50035, "components.custom_id: required for this button style")
            if item.get("type") == 3 and not 1 <= len(item.get("options", [])) <= 25:
                raise ApiError(400, 50035, "components.options: 1 to 25 options")
    if create and not (content or embeds or body.get("components") or body.get("attachments")):
        raise ApiError(400, 50006, "Cannot send an empty message")


def validate_modal(data: dict[str, Any]) -> None:
    """A modal (callback type 9): title <= 45, custom_id 1-100, 1-5 rows of one text input
    each (or Label components holding one), inputs with a custom_id, style 1 or 2, a label
    <= 45, lengths within 0-4000 and a prefilled value no longer than max_length."""
    unknown = set(data) - {"custom_id", "title", "components"}
    if unknown:
        raise ApiError(400, 50035, f"modal: unknown fields {sorted(unknown)}")
    if not 1 <= len(data.get("title") or "") <= 45:
        raise ApiError(400, 50035, "data.title: Must be between 1 and 45 in length.")
    if not 1 <= len(data.get("custom_id") or "") <= 100:
        raise ApiError(400, 50035, "data.custom_id: Must be between 1 and 100 in length.")
    rows = data.get("components") or []
    if not 1 <= len(rows) <= 5:
        raise ApiError(400, 50035, "data.components: Must be between 1 and 5 in length.")
    seen: set[str] = set()
    for row in rows:
        if row.get("type") == 18:  # a Label around one component
            label, inner = row.get("label"), [row.get("component") or {}]
        elif row.get("type") == 1:
            inner = row.get("components") or []
            label = inner[0].get("label") if len(inner) == 1 else None
        else:
            raise ApiError(400, 50035, "data.components: rows or labels only")
        if len(inner) != 1 or inner[0].get("type") != 4:
            raise ApiError(400, 50035, "data.components: one text input per row")
        item = inner[0]
        custom = item.get("custom_id") or ""
        if not 1 <= len(custom) <= 100 or custom in seen:
            raise ApiError(400, 50035, "text input custom_id: 1-100 characters, unique")
        seen.add(custom)
        if not isinstance(label, str) or not 1 <= len(label) <= 45:
            raise ApiError(400, 50035, "text input label: Must be between 1 and 45 in length.")
        if item.get("style") not in (1, 2):
            raise ApiError(400, 50035, "text input style: 1 (short) or 2 (paragraph)")
        low, high = item.get("min_length", 0), item.get("max_length", 4000)
        if not 0 <= low <= 4000 or not 1 <= high <= 4000 or low > high:
            raise ApiError(400, 50035, "text input lengths: 0-4000")
        if len(item.get("value") or "") > high or len(item.get("placeholder") or "") > 100:
            raise ApiError(400, 50035, "text input value or placeholder too long")


class ComponentRefused(Exception):
    """Discord would not dispatch this click: the client shows "This interaction failed"."""


def check_click(message: Message | None, custom_id: str, values: list[str] | None) -> None:
    """Discord only dispatches a component interaction for a component that is on the message
    as it stands now (not deleted, not disabled), with menu values among its options."""
    if message is None or message.deleted:
        raise ComponentRefused("Unknown Message")
    for row in message.components:
        for item in row.get("components", []):
            if item.get("custom_id") != custom_id:
                continue
            if item.get("disabled"):
                raise ComponentRefused(f"component {custom_id!r} is disabled")
            if values is not None:
                allowed = {o.get("value") for o in item.get("options", [])}
                if item.get("type") != 3 or not set(values) <= allowed:
                    raise ComponentRefused(f"values {values!r} are not options of {custom_id!r}")
            return
    raise ComponentRefused(f"no component {custom_id!r} on message {message.id}")


def pings(body: dict[str, Any]) -> dict[str, Any]:
    """Whom Discord would notify for this content under these allowed_mentions."""
    content = body.get("content") or ""
    mentions = body.get("allowed_mentions")
    parse = {"users", "roles", "everyone"} if mentions is None else set(mentions.get("parse", []))
    listed_users = set(map(str, (mentions or {}).get("users", [])))
    users = [u for u in re.findall(r"<@!?(\d+)>", content) if "users" in parse or u in listed_users]
    roles = [
        r
        for r in re.findall(r"<@&(\d+)>", content)
        if "roles" in parse or r in set(map(str, (mentions or {}).get("roles", [])))
    ]
    everyone = "everyone" in parse and bool(re.search(r"@(everyone|here)", content))
    return {"everyone": everyone, "users": users, "roles": roles}


class FakeDiscord:
    def __init__(self) -> None:
        self.token = "fake-discord-bot-token-" + secrets.token_hex(8)
        self.privileged_intents = False  # the portal's switches: off, as imaginebot needs none
        self._ids = itertools.count(1)
        self.application_id = self.snowflake()
        self.bot_user = {
            "id": self.application_id,
            "username": "imaginebot",
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": True,
            "flags": 0,
        }
        self.guilds: dict[str, dict[str, Any]] = {}
        self.dm_channels: dict[str, dict[str, Any]] = {}
        self.bot_permissions: dict[str, int] = {}  # per channel; BOT_DEFAULT when absent
        self.threads: dict[str, dict[str, Any]] = {}
        self.closed_dms: set[str] = set()  # user ids who accept no DM from the bot
        self._nonces: dict[tuple[str, str], tuple[float, str]] = {}
        # (kind, after handling: False, True or "5xx") for the next requests
        self._cuts: list[tuple[str, bool | str]] = []
        self.cut_requests: list[str] = []  # what the fake cut, for test diagnostics
        self.age_restricted: set[str] = set()
        # User installs: channels between users, and servers restricting external apps.
        self.private_channels: dict[str, dict[str, Any]] = {}
        self.external_apps_restricted: set[str] = set()
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.command_syncs: list[str] = []
        self.interactions: dict[str, Interaction] = {}
        self.messages: dict[str, Message] = {}
        self.writes: list[Write] = []
        self.errors: list[str] = []  # requests the fake rejected, for test diagnostics
        self.base_url = ""
        self.gateway = Gateway(self)
        self.ratelimits = RateLimits(errors=self.errors)

    # -- ids and setup ----------------------------------------------------------------------

    def snowflake(self, at: float | None = None) -> str:
        """A new id made at `at` (Unix seconds; now by default)."""
        when = time.time() if at is None else at
        return str(((int(when * 1000) - DISCORD_EPOCH_MS) << 22) | (next(self._ids) & 0xFFF))

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/gateway/"

    def add_guild(
        self, name: str = "Test Server", premium_tier: int = 0, *, with_bot: bool = True
    ) -> tuple[str, str]:
        """A guild with one text channel; returns (guild_id, channel_id). Add it before the
        bot connects, so its GUILD_CREATE (boost tier, channels, threads) reaches the bot.
        `with_bot=False`: a server that never added the bot (reached by user installs only)."""
        guild_id, channel_id = self.snowflake(), self.snowflake()
        self.guilds[guild_id] = {
            "id": guild_id,
            "name": name,
            "channels": [channel_id],
            "premium_tier": premium_tier,
            "with_bot": with_bot,
        }
        return guild_id, channel_id

    def add_private_channel(self, user_ids: list[str]) -> str:
        """A DM (two users) or group DM (more) between users: the bot is never in it."""
        channel_id = self.snowflake()
        kind = 1 if len(user_ids) == 2 else 3
        self.private_channels[channel_id] = {"type": kind, "recipients": list(user_ids)}
        return channel_id

    def bot_is_in(self, channel_id: str) -> bool:
        if channel_id in self.private_channels:
            return False
        guild_id = self.guild_of(channel_id)
        return guild_id is None or bool(self.guilds.get(guild_id, {}).get("with_bot", True))

    def add_channel(self, guild_id: str) -> str:
        channel_id = self.snowflake()
        self.guilds[guild_id]["channels"].append(channel_id)
        return channel_id

    def add_thread(self, parent_id: str, kind: int = PUBLIC_THREAD) -> str:
        """A thread (11 public, 12 private) under a text channel: a channel of its own."""
        guild_id = self.guild_of(parent_id)
        assert guild_id is not None and kind in (PUBLIC_THREAD, PRIVATE_THREAD)
        thread_id = self.snowflake()
        self.threads[thread_id] = {"guild_id": guild_id, "parent_id": parent_id, "type": kind}
        return thread_id

    def guild_of(self, channel_id: str) -> str | None:
        thread = self.threads.get(channel_id)
        if thread is not None:
            return str(thread["guild_id"])
        return next((gid for gid, g in self.guilds.items() if channel_id in g["channels"]), None)

    def bot_permissions_in(self, channel_id: str) -> int:
        """The bot's resolved permissions in a channel (a thread: its own, or its parent's)."""
        if channel_id in self.bot_permissions:
            return self.bot_permissions[channel_id]
        thread = self.threads.get(channel_id)
        if thread is not None:
            return self.bot_permissions_in(thread["parent_id"])
        return BOT_DEFAULT

    def upload_limit(self, channel_id: str) -> int:
        """What a file in a bot-token message to this channel may weigh."""
        guild_id = self.guild_of(channel_id)
        if guild_id is None:
            return DEFAULT_ATTACHMENT_LIMIT
        return GUILD_UPLOAD_LIMITS[int(self.guilds[guild_id].get("premium_tier", 0))]

    def dm_channel_of(self, user_id: str) -> str:
        for cid, channel in self.dm_channels.items():
            if channel["user_id"] == user_id:
                return cid
        cid = self.snowflake()
        self.dm_channels[cid] = {"user_id": user_id}
        return cid

    def cut(self, kind: str, count: int = 1, *, after: bool | str = False) -> None:
        """Drop the connection of the next `count` requests of `kind` (RateLimits.classify:
        "channel_message", "webhook", ...): `after` handles them first (the message exists,
        its answer never arrives); `after="5xx"` handles them and answers 502 instead."""
        self._cuts += [(kind, after)] * count

    def add_age_restricted_channel(self, guild_id: str, name: str = "after-dark") -> str:
        """A text channel the server marked age-restricted (`nsfw: true` in its JSON); add it
        before the bot connects, so its GUILD_CREATE carries it."""
        channel_id = self.snowflake()
        self.guilds[guild_id]["channels"].append(channel_id)
        self.age_restricted.add(channel_id)
        return channel_id

    def channel_exists(self, channel_id: str) -> bool:
        return (
            channel_id in self.dm_channels
            or channel_id in self.private_channels
            or self.guild_of(channel_id) is not None
        )

    # -- views for tests ------------------------------------------------------------------------

    def for_interaction(self, interaction_id: str) -> list[Write]:
        return [w for w in self.writes if w.interaction_id == interaction_id]

    def original(self, interaction_id: str) -> Message | None:
        record = self.interactions[interaction_id]
        return self.messages.get(record.message_id) if record.message_id else None

    # -- HTTP plumbing ----------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(
            middlewares=[
                self._cut_middleware,
                self.ratelimits.middleware(),
                self._errors_middleware,
            ],
            client_max_size=64 * 1024**2,
        )
        r = app.router
        p = "/api/v10"
        r.add_get(f"{p}/users/@me", self.get_me)
        r.add_get(f"{p}/oauth2/applications/@me", self.get_application)
        r.add_get(f"{p}/gateway/bot", self.get_gateway_bot)
        r.add_get(f"{p}/gateway", self.get_gateway)
        r.add_route("*", f"{p}/applications/{{app}}/commands", self.global_commands)
        r.add_route("*", f"{p}/applications/{{app}}/guilds/{{guild}}/commands", self.guild_commands)
        r.add_post(f"{p}/interactions/{{iid}}/{{token}}/callback", self.callback)
        r.add_post(f"{p}/webhooks/{{app}}/{{token}}", self.followup)
        r.add_route("*", f"{p}/webhooks/{{app}}/{{token}}/messages/{{mid}}", self.webhook_message)
        r.add_post(f"{p}/channels/{{cid}}/messages", self.channel_message)
        r.add_get(f"{p}/channels/{{cid}}/messages/{{mid}}", self.get_channel_message)
        r.add_post(f"{p}/users/@me/channels", self.open_dm)
        r.add_delete(f"{p}/channels/{{cid}}/messages/{{mid}}", self.delete_channel_message)
        r.add_get("/gateway/", self.gateway.handler)
        return app

    @web.middleware
    async def _cut_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        kind = RateLimits.classify(request)[0] if self._cuts else None
        index = next((i for i, (k, _) in enumerate(self._cuts) if k == kind), None)
        if index is None:
            response: web.StreamResponse = await handler(request)
            return response
        _, after = self._cuts.pop(index)
        if after:
            handled: web.StreamResponse = await handler(request)
            if handled.status >= 300:
                # Refused (a 429, say): nothing was made, so this is not the window asked for.
                self._cuts.insert(index, (kind, after))
                return handled
        if after == "5xx":
            # Cloudflare's 502 after Discord made the message: discord.py sends it again.
            self.cut_requests.append(f"{request.method} {request.path} (5xx)")
            return json_response({"message": "502: Bad Gateway", "code": 0}, 502)
        self.cut_requests.append(
            f"{request.method} {request.path} ({'after' if after else 'before'})"
        )
        if request.transport is not None:
            request.transport.abort()
        raise ConnectionResetError("the fake cut this connection")

    @web.middleware
    async def _errors_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
            return response
        except ApiError as exc:
            self.errors.append(f"{request.method} {request.path}: {exc.status} {exc.message}")
            return json_response({"message": exc.message, "code": exc.code}, exc.status)

    def _bot_auth(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bot {self.token}":
            raise ApiError(401, 0, "401: Unauthorized")

    async def _body(self, request: web.Request) -> tuple[dict[str, Any], list[Upload]]:
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/form-data"):
            payload: dict[str, Any] = {}
            files: dict[int, Upload] = {}
            reader = await request.multipart()
            async for part in reader:
                name = part.name or ""
                data = await part.read()  # type: ignore[union-attr]
                if name == "payload_json":
                    payload = json.loads(data)
                elif m := re.fullmatch(r"files\[(\d+)\]", name):
                    files[int(m.group(1))] = Upload(
                        part.filename or "", part.headers.get("Content-Type", ""), bytes(data)
                    )
                else:
                    raise ApiError(400, 50035, f"unexpected form field {name!r}")
            declared = {int(a["id"]) for a in payload.get("attachments", []) if "filename" in a}
            if set(files) != declared:
                raise ApiError(400, 50035, "attachments do not match the uploaded files")
            return payload, [files[i] for i in sorted(files)]
        if not await request.read():
            return {}, []
        if ctype != "application/json":
            raise ApiError(400, 50035, f"unsupported Content-Type {ctype!r}")
        body = await request.json()
        if not isinstance(body, dict | list):
            raise ApiError(400, 50035, "body must be JSON")
        return body, []  # type: ignore[return-value]

    # -- identity -----------------------------------------------------------------------------

    async def get_me(self, request: web.Request) -> web.Response:
        self._bot_auth(request)
        return json_response(self.bot_user)

    async def get_application(self, request: web.Request) -> web.Response:
        self._bot_auth(request)
        return json_response(
            {
                "id": self.application_id,
                "name": "imaginebot",
                "icon": None,
                "description": "",
                "rpc_origins": [],
                "bot_public": True,
                "bot_require_code_grant": False,
                "bot": self.bot_user,
                "owner": {**self.bot_user, "id": "1", "bot": False, "username": "owner"},
                "summary": "",
                "verify_key": "0" * 64,
                "team": None,
                "flags": 0,
                "interactions_endpoint_url": None,
            }
        )

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        self._bot_auth(request)
        return json_response(
            {
                "url": self.gateway_url,
                "shards": self.gateway.recommended_shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.gateway_url})

    # -- commands -----------------------------------------------------------------------------

    async def _commands(self, request: web.Request, scope: str) -> web.Response:
        self._bot_auth(request)
        if request.match_info["app"] != self.application_id:
            raise ApiError(403, 50001, "Missing Access")
        if request.method == "GET":
            return json_response(self.commands.get(scope, []))
        if request.method != "PUT":
            raise ApiError(405, 0, "405: Method Not Allowed")
        body, _ = await self._body(request)
        if not isinstance(body, list) or len(body) > 100:
            raise ApiError(400, 50035, "commands: expected a list of at most 100")
        stored = []
        for command in body:
            name = command.get("name", "")
            if not COMMAND_NAME.match(name) or name != name.lower():
                raise ApiError(400, 50035, f"invalid command name {name!r}")
            if command.get("type", 1) == 1 and not 1 <= len(command.get("description", "")) <= 100:
                raise ApiError(400, 50035, f"command {name}: description 1-100 characters")
            if len(command.get("options") or []) > 25:
                raise ApiError(400, 50035, f"command {name}: at most 25 options")
            installs, contexts = command.get("integration_types"), command.get("contexts")
            if installs is not None and (not installs or not set(installs) <= {0, 1}):
                raise ApiError(400, 50035, f"command {name}: integration_types: 0 and/or 1")
            if contexts is not None and (not contexts or not set(contexts) <= {0, 1, 2}):
                raise ApiError(400, 50035, f"command {name}: contexts: 0, 1 and/or 2")
            stored.append(
                {
                    **command,
                    "id": self.snowflake(),
                    "application_id": self.application_id,
                    "version": self.snowflake(),
                    "default_member_permissions": command.get("default_member_permissions"),
                }
            )
        self.commands[scope] = stored
        self.command_syncs.append(scope)
        return json_response(stored)

    async def global_commands(self, request: web.Request) -> web.Response:
        return await self._commands(request, "global")

    async def guild_commands(self, request: web.Request) -> web.Response:
        return await self._commands(request, request.match_info["guild"])

    def command_id(self, name: str, guild_id: str | None) -> str:
        for scope in (guild_id, "global"):
            for command in self.commands.get(scope or "", []):
                if command["name"] == name:
                    return str(command["id"])
        raise KeyError(f"command {name} was never synced")

    # -- messages -----------------------------------------------------------------------------

    def _attachment_limit(self, record: Interaction | None) -> int:
        if record is None:
            return DEFAULT_ATTACHMENT_LIMIT
        return int(record.payload["attachment_size_limit"])

    def _apply(
        self, message: Message, body: dict[str, Any], files: list[Upload], limit: int
    ) -> None:
        for upload in files:
            if len(upload.data) > limit:
                raise ApiError(413, 40005, "Request entity too large")
        if "content" in body:
            message.content = body["content"] or ""
        if "embeds" in body:
            message.embeds = body["embeds"] or []
        if "components" in body:
            message.components = body["components"] or []
        if "attachments" in body:
            kept = {a["id"]: a for a in body["attachments"]}
            existing = [(aid, up) for aid, up in message.attachments if aid in kept]
            message.attachments = existing + [(self.snowflake(), up) for up in files]
        elif files:
            message.attachments += [(self.snowflake(), up) for up in files]
        if "flags" in body and body["flags"] is not None:
            message.flags = (message.flags & (EPHEMERAL | LOADING)) | int(body["flags"])
        message.flags &= ~LOADING
        message.allowed_mentions = body.get("allowed_mentions")
        message.pinged = pings(body)

    def message_json(self, message: Message) -> dict[str, Any]:
        return {
            "id": message.id,
            "channel_id": message.channel_id,
            "type": message.kind,
            "content": message.content,
            "author": self.bot_user,
            "attachments": [
                {
                    "id": aid,
                    "filename": up.filename,
                    "size": len(up.data),
                    "url": f"{self.base_url}/attachments/{aid}/{up.filename}",
                    "proxy_url": f"{self.base_url}/attachments/{aid}/{up.filename}",
                    "content_type": up.content_type,
                }
                for aid, up in message.attachments
            ],
            "embeds": message.embeds,
            "components": message.components,
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": iso(time.time()),
            "edited_timestamp": None,
            "flags": message.flags,
            "webhook_id": self.application_id if message.interaction_id else None,
            **(
                {"interaction_metadata": message.interaction_metadata}
                if message.interaction_metadata
                else {}
            ),
        }

    def _new_message(self, channel_id: str, kind: int, interaction_id: str | None) -> Message:
        message = Message(
            id=self.snowflake(), channel_id=channel_id, kind=kind, interaction_id=interaction_id
        )
        self.messages[message.id] = message
        return message

    # -- interactions -------------------------------------------------------------------------

    def _record_by_token(self, request: web.Request) -> Interaction:
        if request.match_info["app"] != self.application_id:
            raise ApiError(404, 10015, "Unknown Webhook")
        token = request.match_info["token"]
        for record in self.interactions.values():
            if record.token == token:
                if record.expired or time.time() - record.created > TOKEN_LIFETIME:
                    raise ApiError(401, 50027, "Invalid Webhook Token")
                return record
        raise ApiError(404, 10015, "Unknown Webhook")

    async def callback(self, request: web.Request) -> web.Response:
        record = self.interactions.get(request.match_info["iid"])
        if record is None or record.token != request.match_info["token"]:
            raise ApiError(404, 10062, "Unknown interaction")
        now = time.monotonic()
        if record.response_type is None and now - record.dispatched_at > ACK_DEADLINE:
            raise ApiError(404, 10062, "Unknown interaction")
        if record.response_type is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        body, files = await self._body(request)
        kind, data = body.get("type"), body.get("data") or {}
        channel_id = str(record.payload["channel_id"])
        message: Message | None = None
        if kind == 8:
            if record.type != 4:
                raise ApiError(400, 50035, "autocomplete results only answer autocomplete")
            choices = data.get("choices", [])
            if len(choices) > 25:
                raise ApiError(400, 50035, "choices: Must be 25 or fewer in length.")
            record.choices = choices
        elif record.type == 4:
            raise ApiError(400, 50035, "an autocomplete interaction needs type 8")
        elif kind == 9:
            # A modal answers a command or a button press, never a modal submit, and only
            # as the first response (the already-acknowledged check above).
            if record.type not in (2, 3):
                raise ApiError(400, 50035, "a modal cannot answer a modal submit")
            validate_modal(data)
            record.modal = data
        elif kind == 4:
            validate_message(data, create=True)
            message = self._new_message(channel_id, 20, record.id)
            self._apply(message, data, files, self._attachment_limit(record))
            message.flags |= self._forced_flags(record)
            record.message_id = message.id
            message.interaction_metadata = self._metadata(record)
        elif kind == 5:
            message = self._new_message(channel_id, 20, record.id)
            message.flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            message.flags |= self._forced_flags(record)
            record.message_id = message.id
            message.interaction_metadata = self._metadata(record)
        elif kind in (6, 7):
            if record.type != 3:
                raise ApiError(400, 50035, "update responses only answer components")
            record.message_id = str(record.payload["message"]["id"])
            if kind == 7:
                validate_message(data, create=False)
                self._apply(self.messages[record.message_id], data, files, 10**9)
        else:
            raise ApiError(400, 50035, f"unsupported callback type {kind}")
        record.response_type, record.responded_at = kind, now
        self.writes.append(Write("callback", now, record.id, record.message_id, data, files, kind))
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        result: dict[str, Any] = {
            "interaction": {
                "id": record.id,
                "type": record.type,
                "response_message_id": record.message_id,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(message and message.ephemeral),
                "activity_instance_id": None,
            }
        }
        if message is not None and kind == 4:
            result["resource"] = {"type": kind, "message": self.message_json(message)}
        return json_response(result)

    def _forced_flags(self, record: Interaction) -> int:
        """A server restricting external apps makes a user-install response ephemeral."""
        payload = record.payload
        owners = payload.get("authorizing_integration_owners") or {}
        by_user_only = "0" not in owners or owners.get("0") != payload.get("guild_id")
        restricted = payload.get("guild_id") in self.external_apps_restricted
        return EPHEMERAL if restricted and by_user_only else 0

    @staticmethod
    def _metadata(record: Interaction) -> dict[str, Any] | None:
        """What Discord puts on a message made in answer to a button press."""
        source = record.payload.get("message")
        if record.type != 3 or source is None:
            return None
        member = record.payload.get("member") or {}
        return {
            "id": record.id,
            "type": 3,
            "user": member.get("user") or record.payload.get("user"),
            "authorizing_integration_owners": record.payload["authorizing_integration_owners"],
            "interacted_message_id": source["id"],
        }

    async def followup(self, request: web.Request) -> web.Response:
        record = self._record_by_token(request)
        body, files = await self._body(request)
        validate_message(body, create=True)
        original = self.messages.get(record.message_id or "")
        if original is not None and original.flags & LOADING:
            # Discord completes a deferred ("thinking") original with the first follow-up.
            message = original
        else:
            message = self._new_message(str(record.payload["channel_id"]), 20, record.id)
            message.flags = int(body.get("flags") or 0) & EPHEMERAL | self._forced_flags(record)
        self._apply(message, body, files, self._attachment_limit(record))
        self.writes.append(Write("followup", time.monotonic(), record.id, message.id, body, files))
        return json_response(self.message_json(message))

    async def webhook_message(self, request: web.Request) -> web.Response:
        record = self._record_by_token(request)
        mid = request.match_info["mid"]
        if mid == "@original":
            mid = record.message_id or ""
        message = self.messages.get(mid)
        # A component interaction's @original is the message its component is on.
        own = message is not None and (
            message.interaction_id in (record.id, None) or mid == record.message_id
        )
        if message is None or message.deleted or not own:
            raise ApiError(404, 10008, "Unknown Message")
        if request.method == "GET":
            return json_response(self.message_json(message))
        if request.method == "DELETE":
            message.deleted = True
            self.writes.append(Write("delete", time.monotonic(), record.id, mid, {}, []))
            return web.Response(status=204)
        if request.method != "PATCH":
            raise ApiError(405, 0, "405: Method Not Allowed")
        body, files = await self._body(request)
        validate_message(body, create=False)
        self._apply(message, body, files, self._attachment_limit(record))
        kind = "edit_original" if mid == record.message_id else "edit_followup"
        self.writes.append(Write(kind, time.monotonic(), record.id, mid, body, files))
        return json_response(self.message_json(message))

    def _check_bot_may(self, channel_id: str, needed: list[tuple[int, str]]) -> None:
        """Discord's permission check for a bot-token call in a channel."""
        if not self.bot_is_in(channel_id):
            raise ApiError(403, 50001, "Missing Access")  # a user install's place
        if channel_id in self.dm_channels:
            return  # a DM with the bot: nothing to grant
        have = self.bot_permissions_in(channel_id)
        if not have & VIEW_CHANNEL:
            raise ApiError(403, 50001, "Missing Access")
        missing = [name for bit, name in needed if not have & bit]
        if missing:
            raise ApiError(403, 50013, f"Missing Permissions ({', '.join(missing)})")

    async def channel_message(self, request: web.Request) -> web.Response:
        self._bot_auth(request)
        channel_id = request.match_info["cid"]
        if not self.channel_exists(channel_id):
            raise ApiError(404, 10003, "Unknown Channel")
        body, files = await self._body(request)
        send = (
            (SEND_IN_THREADS, "Send Messages in Threads")
            if channel_id in self.threads
            else (SEND_MESSAGES, "Send Messages")
        )
        needed = [send]
        if body.get("message_reference") is not None:
            needed.append((READ_HISTORY, "Read Message History"))
        if files:
            needed.append((ATTACH_FILES, "Attach Files"))
        self._check_bot_may(channel_id, needed)
        dm = self.dm_channels.get(channel_id)
        if dm is not None and dm["user_id"] in self.closed_dms:
            raise ApiError(403, 50007, "Cannot send messages to this user")
        validate_message(body, create=True)
        nonce = body.get("nonce")
        if nonce is not None and (not isinstance(nonce, str | int) or len(str(nonce)) > 25):
            raise ApiError(400, 50035, "nonce: Must be 25 or fewer in length.")
        if nonce is not None and body.get("enforce_nonce"):
            seen = self._nonces.get((channel_id, str(nonce)))
            if seen is not None and time.time() - seen[0] < NONCE_WINDOW:
                return json_response(self.message_json(self.messages[seen[1]]))
        reference = body.get("message_reference")
        replied: str | None = None
        if reference is not None:
            replied = str(reference.get("message_id"))
            target = self.messages.get(replied)
            missing = target is None or target.deleted or target.channel_id != channel_id
            if missing and reference.get("fail_if_not_exists", True):
                raise ApiError(400, 50035, "message_reference: Unknown message")
        limit = self.upload_limit(channel_id)
        if any(len(upload.data) > limit for upload in files):
            raise ApiError(413, 40005, "Request entity too large")
        message = self._new_message(channel_id, 19 if replied else 0, None)
        message.reference_id = replied
        self._apply(message, body, files, limit)
        if nonce is not None:
            self._nonces[(channel_id, str(nonce))] = (time.time(), message.id)
        self.writes.append(
            Write("channel_message", time.monotonic(), None, message.id, body, files)
        )
        return json_response(self.message_json(message))

    async def get_channel_message(self, request: web.Request) -> web.Response:
        self._bot_auth(request)
        channel_id = request.match_info["cid"]
        if not self.channel_exists(channel_id):
            raise ApiError(404, 10003, "Unknown Channel")
        self._check_bot_may(channel_id, [(READ_HISTORY, "Read Message History")])
        message = self.messages.get(request.match_info["mid"])
        if message is None or message.deleted or message.channel_id != channel_id:
            raise ApiError(404, 10008, "Unknown Message")
        return json_response(self.message_json(message))

    async def open_dm(self, request: web.Request) -> web.Response:
        """POST /users/@me/channels: the bot's DM channel with a user (made once)."""
        self._bot_auth(request)
        body, _ = await self._body(request)
        user_id = str(body.get("recipient_id", ""))
        if not user_id.isdigit():
            raise ApiError(400, 50035, "recipient_id: required")
        channel_id = self.dm_channel_of(user_id)
        recipient = {
            "id": user_id,
            "username": "user",
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
        }
        return json_response(
            {"id": channel_id, "type": 1, "last_message_id": None, "recipients": [recipient]}
        )

    async def delete_channel_message(self, request: web.Request) -> web.Response:
        self._bot_auth(request)
        message = self.messages.get(request.match_info["mid"])
        if message is None or message.deleted or message.channel_id != request.match_info["cid"]:
            raise ApiError(404, 10008, "Unknown Message")
        message.deleted = True
        self.writes.append(Write("delete", time.monotonic(), None, message.id, {}, []))
        return web.Response(status=204)
