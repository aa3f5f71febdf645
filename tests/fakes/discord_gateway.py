"""The gateway half of the fake Discord, interaction payloads, and a driver for tests.

The gateway speaks Discord's JSON protocol in text frames: HELLO, IDENTIFY (token checked,
privileged intents refused with 4014 unless switched on, shard honoured: `[shard_id,
shard_count]` checked as Discord does, 4010 for an invalid one, 4011 when a shard would hold
more guilds than Discord allows), READY, one GUILD_CREATE per guild of the shard (a guild
belongs to shard `(guild_id >> 22) % shard_count`), heartbeat ACKs, and INTERACTION_CREATE dispatches built
like Discord's (guild ones with `guild_id` and a `member` carrying resolved permissions;
`attachment_size_limit` and the bot's own permissions in the channel, `app_permissions`, in
every one; an interaction from a thread names the thread as its channel). An interaction's id
is a snowflake of when it was made, and its token lives 15 minutes from then: the driver can
dispatch one made earlier (`age`), so a test reaches the end of the token without waiting.
`remove_bot` is the bot kicked from a guild (or the guild deleted): GUILD_DELETE without
`unavailable`, and the guild is gone.

User installs: `slash(..., install="user")` is the command run through the user's own install
(`authorizing_integration_owners` names the user, and the server too only when the bot is a
member there: Discord lists every installation the command was authorized for), in a server
(context 0), the bot's DM (1) or a private channel between users (`private=`, context 2); the
client offers the command only where its synced `integration_types` and `contexts` allow. Where
the bot is not a member, `app_permissions` are what Discord lets a user-installed app use in
its responses (embed links, attach files), never the channel's.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tests.fakes.server import ServerThread

if TYPE_CHECKING:
    from tests.fakes.discord_api import FakeDiscord, Interaction, Message, Write

VIEW_CHANNEL, SEND_MESSAGES, EMBED_LINKS, ATTACH_FILES = 1 << 10, 1 << 11, 1 << 14, 1 << 15
READ_HISTORY, USE_COMMANDS, SEND_IN_THREADS = 1 << 16, 1 << 31, 1 << 38
MANAGE_GUILD, MANAGE_MESSAGES, ADMINISTRATOR = 1 << 5, 1 << 13, 1 << 3
MEMBER = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | READ_HISTORY | USE_COMMANDS
# What the bot's role holds in a channel unless a test takes some away: what docs/discord.md's
# invite link asks for.
BOT_DEFAULT = MEMBER | SEND_IN_THREADS
PUBLIC_THREAD, PRIVATE_THREAD = 11, 12
MODERATOR = MEMBER | MANAGE_MESSAGES
SERVER_MANAGER = MEMBER | MANAGE_GUILD
ADMIN = (1 << 50) - 1  # Discord resolves every permission for administrators
USER_APP = EMBED_LINKS | ATTACH_FILES  # a user-installed app's responses where it is no member
GUILD_INSTALL, USER_INSTALL = "0", "1"
OPTION_TYPES = {3: str, 4: int, 5: bool, 10: (int, float), 11: dict}
PRIVILEGED_INTENTS = (
    (1 << 1) | (1 << 8) | (1 << 15)
)  # GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT


@dataclass
class Session:
    ws: web.WebSocketResponse
    shard: tuple[int, int] = (0, 1)
    seq: int = 0

    async def send(self, op: int, d: Any, t: str | None = None) -> None:
        frame: dict[str, Any] = {"op": op, "d": d, "s": None, "t": t}
        if op == 0:
            self.seq += 1
            frame["s"] = self.seq
        await self.ws.send_str(json.dumps(frame))


class Gateway:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.sessions: list[Session] = []
        self.identifies = 0
        self.intents: list[int] = []  # as each IDENTIFY asked
        self.recommended_shards = 1
        self.max_guilds_per_shard = 2500  # Discord: sharding is required past this

    def shard_of(self, guild_id: str | None, count: int) -> int:
        return (int(guild_id) >> 22) % count if guild_id else 0

    async def handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        session = Session(ws)
        await session.send(10, {"heartbeat_interval": 41250})
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    break
                frame = json.loads(msg.data)
                op = frame.get("op")
                if op == 1:
                    await session.send(11, None)
                elif op == 2:
                    if frame["d"].get("token") != self.fake.token:
                        await ws.close(code=4004, message=b"Authentication failed.")
                        break
                    # Privileged intents (members, presences, message content) must be
                    # switched on in the Developer Portal; Discord refuses them otherwise.
                    intents = int(frame["d"].get("intents", 0))
                    self.intents.append(intents)
                    if intents & PRIVILEGED_INTENTS and not self.fake.privileged_intents:
                        await ws.close(code=4014, message=b"Disallowed intent(s).")
                        break
                    shard = self._valid_shard(frame["d"].get("shard", [0, 1]))
                    if shard is None:
                        await ws.close(code=4010, message=b"Invalid shard.")
                        break
                    session.shard = shard
                    held = [g for g in self.fake.guilds if self.shard_of(g, shard[1]) == shard[0]]
                    if len(held) > self.max_guilds_per_shard:
                        await ws.close(code=4011, message=b"Sharding required.")
                        break
                    await self._ready(session)
                    self.sessions.append(session)
                    self.identifies += 1
                elif op == 6:
                    await session.send(9, False)  # no resuming: identify again
        finally:
            if session in self.sessions:
                self.sessions.remove(session)
        return ws

    @staticmethod
    def _valid_shard(value: Any) -> tuple[int, int] | None:
        """`[shard_id, shard_count]`: two integers, 0 <= shard_id < shard_count."""
        if not isinstance(value, list) or len(value) != 2:
            return None
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return None
        shard_id, count = value
        return (shard_id, count) if 0 <= shard_id < count else None

    async def _ready(self, session: Session) -> None:
        fake = self.fake
        shard_id, count = session.shard
        guilds = [
            g
            for g in fake.guilds.values()
            if self.shard_of(g["id"], count) == shard_id and g.get("with_bot", True)
        ]
        await session.send(
            0,
            {
                "v": 10,
                "user": fake.bot_user,
                "guilds": [{"id": g["id"], "unavailable": True} for g in guilds],
                "session_id": secrets.token_hex(16),
                "resume_gateway_url": fake.gateway_url,
                "application": {"id": fake.application_id, "flags": 0},
                "shard": [shard_id, count],
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "user_settings": {},
            },
            "READY",
        )
        for guild in guilds:
            await session.send(0, guild_create(fake, guild), "GUILD_CREATE")

    def session_for(self, guild_id: str | None) -> Session:
        for session in self.sessions:
            if self.shard_of(guild_id, session.shard[1]) == session.shard[0]:
                return session
        raise RuntimeError("the bot is not connected to the fake gateway")

    async def remove_bot(self, guild_id: str) -> None:
        """The bot was removed from the guild: GUILD_DELETE without `unavailable` (an outage
        sends it with `unavailable: true`)."""
        session = self.session_for(guild_id)
        self.fake.guilds.pop(guild_id, None)
        await session.send(0, {"id": guild_id}, "GUILD_DELETE")

    async def dispatch(self, payload: dict[str, Any]) -> Interaction:
        from tests.fakes.discord_api import Interaction

        session = self.session_for(payload.get("guild_id"))
        record = Interaction(
            payload["id"],
            payload["token"],
            payload["type"],
            payload,
            time.monotonic(),
            created=fake_time(payload["id"]),
        )
        self.fake.interactions[record.id] = record
        await session.send(0, payload, "INTERACTION_CREATE")
        return record


def fake_time(snowflake: str) -> float:
    """When a snowflake was made (Unix seconds): an interaction's token counts from then."""
    from tests.fakes.discord_api import DISCORD_EPOCH_MS

    return ((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000


def guild_create(fake: FakeDiscord, guild: dict[str, Any]) -> dict[str, Any]:
    gid = guild["id"]
    return {
        "id": gid,
        "name": guild["name"],
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": "1",
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [
            {
                "id": gid,
                "name": "@everyone",
                "permissions": str(MEMBER),
                "position": 0,
                "color": 0,
                "hoist": False,
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }
        ],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "joined_at": "2026-01-01T00:00:00.000000+00:00",
        "large": False,
        "unavailable": False,
        "member_count": 2,
        "voice_states": [],
        "members": [],
        "channels": [
            channel_json(gid, cid, nsfw=cid in fake.age_restricted) for cid in guild["channels"]
        ],
        "threads": [
            thread_json(gid, tid, thread)
            for tid, thread in fake.threads.items()
            if thread["guild_id"] == gid
        ],
        "presences": [],
        "max_members": 500000,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": guild.get("premium_tier", 0),
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "stage_instances": [],
        "guild_scheduled_events": [],
    }


def channel_json(guild_id: str, channel_id: str, *, nsfw: bool = False) -> dict[str, Any]:
    return {
        "id": channel_id,
        "type": 0,
        "guild_id": guild_id,
        "name": "general",
        "position": 0,
        "permission_overwrites": [],
        "nsfw": nsfw,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


def thread_json(guild_id: str, thread_id: str, thread: dict[str, Any]) -> dict[str, Any]:
    """A thread (type 11 public, 12 private): a channel of its own under its parent."""
    return {
        "id": thread_id,
        "type": thread["type"],
        "guild_id": guild_id,
        "parent_id": thread["parent_id"],
        "name": "a thread",
        "owner_id": "1",
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 2,
        "flags": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": "2026-01-01T00:00:00.000000+00:00",
            "locked": False,
            "invitable": True,
        },
    }


def user_json(user_id: str, name: str) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": name,
        "discriminator": "0",
        "global_name": name.title(),
        "avatar": None,
        "bot": False,
        "flags": 0,
        "public_flags": 0,
    }


def interaction_payload(
    fake: FakeDiscord,
    kind: int,
    data: dict[str, Any],
    *,
    user: dict[str, Any],
    channel_id: str,
    guild_id: str | None,
    permissions: int,
    message: Message | None = None,
    size_limit: int = 10 * 1024 * 1024,
    age: float = 0.0,
    install: str = "guild",
    locale: str = "en-US",
    guild_locale: str = "en-US",
) -> dict[str, Any]:
    """An interaction as Discord sends it. `locale` is the user's client language, sent on
    every interaction; `guild_locale` the server's (its community default), sent from a
    server only (Discord's locale tags: "de", "pt-BR", "es-ES", "zh-CN", ...)."""
    owners, context = installation(fake, install, user, channel_id, guild_id)
    member_here = fake.bot_is_in(channel_id)
    payload: dict[str, Any] = {
        "id": fake.snowflake(time.time() - age),
        "application_id": fake.application_id,
        "type": kind,
        "data": data,
        "channel_id": channel_id,
        "token": "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48),
        "version": 1,
        "locale": locale,
        "app_permissions": str(fake.bot_permissions_in(channel_id) if member_here else USER_APP),
        "entitlements": [],
        "attachment_size_limit": size_limit,
        "authorizing_integration_owners": owners,
        "context": context,
    }
    if guild_id:
        payload["guild_id"] = guild_id
        payload["guild_locale"] = guild_locale
        payload["guild"] = {"id": guild_id, "locale": guild_locale, "features": []}
        thread = fake.threads.get(channel_id)
        payload["channel"] = (
            thread_json(guild_id, channel_id, thread)
            if thread is not None
            else channel_json(guild_id, channel_id, nsfw=channel_id in fake.age_restricted)
        )
        payload["member"] = {
            "user": user,
            "roles": [],
            "joined_at": "2026-01-01T00:00:00.000000+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
            "avatar": None,
            "premium_since": None,
            "communication_disabled_until": None,
            "permissions": str(permissions),
        }
    elif channel_id in fake.private_channels:
        payload["user"] = user
        kind = fake.private_channels[channel_id]["type"]
        payload["channel"] = {"id": channel_id, "type": kind, "recipients": [user], "flags": 0}
    else:
        payload["user"] = user
        payload["channel"] = {"id": channel_id, "type": 1, "recipients": [user], "flags": 0}
    if message is not None:
        payload["message"] = fake.message_json(message)
    return payload


def installation(
    fake: FakeDiscord, install: str, user: dict[str, Any], channel_id: str, guild_id: str | None
) -> tuple[dict[str, str], int]:
    """`authorizing_integration_owners` and `context`, as Discord sends them."""
    if channel_id in fake.private_channels:
        if install != "user":
            raise ValueError("only a user install reaches a private channel between users")
        return {USER_INSTALL: str(user["id"])}, 2
    owners: dict[str, str] = {}
    # A server the bot was removed from (gone from `guilds`) still sends as it did.
    bot_member = guild_id is None or fake.guilds.get(guild_id, {}).get("with_bot", True)
    if bot_member:
        owners[GUILD_INSTALL] = guild_id or "0"
    elif install != "user":
        raise ValueError("a server without the bot is reached by a user install only")
    if install == "user":
        owners[USER_INSTALL] = str(user["id"])
    return owners, (0 if guild_id else 1)


def offered(definition: dict[str, Any], install: str, context: int) -> bool:
    """Whether the client shows the command there (defaults: server install, every context)."""
    installs = definition.get("integration_types") or [0]
    contexts = definition.get("contexts")
    return (1 if install == "user" else 0) in installs and (contexts is None or context in contexts)


def command_options(
    fake: FakeDiscord, name: str, guild_id: str | None, values: dict[str, Any]
) -> dict[str, Any]:
    """Command data as Discord builds it, typed from the definition the bot synced."""
    parts = name.split()
    definition = next(
        c
        for scope in (guild_id or "", "global")
        for c in fake.commands.get(scope, [])
        if c["name"] == parts[0]
    )
    data: dict[str, Any] = {"id": definition["id"], "name": parts[0], "type": 1}
    if guild_id and any(c["name"] == parts[0] for c in fake.commands.get(guild_id, [])):
        data["guild_id"] = guild_id
    level, options = definition, data.setdefault("options", [])
    for sub in parts[1:]:
        level = next(o for o in level.get("options", []) if o["name"] == sub)
        inner: dict[str, Any] = {"type": level["type"], "name": sub, "options": []}
        options.append(inner)
        options = inner["options"]
    for key, value in values.items():
        option = next((o for o in level.get("options", []) if o["name"] == key), None)
        if option is None:
            raise KeyError(f"/{name} has no option {key!r}")
        focused = isinstance(value, Focused)
        raw = value.text if isinstance(value, Focused) else value
        if not focused and not isinstance(raw, OPTION_TYPES[option["type"]]):
            raise TypeError(f"option {key} must be of type {option['type']}")
        if not focused and option["type"] in (4, 10):
            # The client enforces the bounds and choices the definition declares.
            low, high = option.get("min_value"), option.get("max_value")
            if (low is not None and raw < low) or (high is not None and raw > high):
                raise ValueError(f"option {key}: {raw} is outside {low}-{high}")
        if option.get("choices") and raw not in [c["value"] for c in option["choices"]]:
            raise ValueError(f"option {key}: {raw!r} is not one of its choices")
        if option["type"] == 11:
            # An attachment: its id as the value, the object itself resolved beside it.
            resolved = data.setdefault("resolved", {}).setdefault("attachments", {})
            resolved[raw["id"]] = raw
            raw = raw["id"]
        entry: dict[str, Any] = {"type": option["type"], "name": key, "value": raw}
        if focused:
            entry["focused"] = True
        options.append(entry)
    return data


@dataclass
class Focused:
    """An option value the user is still typing (for autocomplete)."""

    text: str


class DiscordDriver:
    """Runs the fake Discord in a background thread and acts as Discord's users."""

    def __init__(self) -> None:
        from tests.fakes.discord_api import FakeDiscord
        from tests.fakes.discord_cdn import FakeCdn

        self.fake = FakeDiscord()
        self.server = ServerThread(self.fake.app())
        self.cdn = FakeCdn()
        self.cdn_server = ServerThread(self.cdn.app())
        self.lock = threading.Lock()
        self._users: dict[str, dict[str, Any]] = {}

    def start(self) -> DiscordDriver:
        self.server.start()
        self.fake.base_url = self.server.url
        self.cdn_server.start()
        self.cdn.base_url = self.cdn_server.url
        self.guild_id, self.channel_id = self.fake.add_guild()
        return self

    def stop(self) -> None:
        self.server.stop()
        self.cdn_server.stop()

    def attachment(
        self,
        data: bytes,
        filename: str,
        *,
        host: str | None = None,
        declared_size: int | None = None,
    ) -> dict[str, Any]:
        """A file a user attaches to a command: stored on the fake CDN (or, with `host`, a
        URL somewhere else); pass the result as the option's value."""
        app_id, attachment_id = self.fake.application_id, self.fake.snowflake()
        return self.cdn_server.run_sync(
            lambda: self.cdn.attach(
                app_id, attachment_id, data, filename, host=host, declared_size=declared_size
            )
        )

    def env(self) -> dict[str, str]:
        return {
            "DISCORD_CDN_URL": self.cdn.base_url,
            "DISCORD_TOKEN": self.fake.token,
            "DISCORD_API_BASE": self.fake.api_base,
            "DISCORD_GATEWAY_URL": self.fake.gateway_url,
        }

    def user(self, name: str) -> dict[str, Any]:
        if name not in self._users:
            self._users[name] = user_json(self.fake.snowflake(), name)
        return self._users[name]

    def connected(self) -> bool:
        return bool(self.fake.gateway.sessions)

    def remove_bot(self, guild_id: str | None = None) -> None:
        self.server.call(self.fake.gateway.remove_bot(guild_id or self.guild_id))

    def _send(self, kind: int, data: dict[str, Any], **kw: Any) -> Interaction:
        async def go() -> Interaction:
            payload = interaction_payload(self.fake, kind, data, **kw)
            return await self.fake.gateway.dispatch(payload)

        return self.server.call(go())

    def slash(
        self,
        name: str,
        /,
        *,
        user: str = "alice",
        permissions: int = MEMBER,
        dm: bool = False,
        size_limit: int = 10 * 1024 * 1024,
        channel: str | None = None,
        guild: str | None = None,
        age: float = 0.0,
        install: str = "guild",
        private: str | None = None,
        locale: str = "en-US",
        guild_locale: str = "en-US",
        **options: Any,
    ) -> Interaction:
        """`guild`: another guild added with fake.add_guild (default: the first one);
        `channel`: one of its channels or threads; `age`: seconds since the user ran the
        command (its token then has that much less of its 15 minutes left); `install`:
        "user" for the user's own install; `private`: a channel between users; `locale` and
        `guild_locale`: the user's and the server's Discord languages."""
        guild_id = None if dm or private else guild or self.guild_id
        if private:
            channel_id = private
        elif dm:
            channel_id = self.dm_channel(user)
        elif guild:
            channel_id = channel or self.fake.guilds[guild]["channels"][0]
        else:
            channel_id = channel or self.channel_id
        data = command_options(self.fake, name, guild_id, options)
        who = self.user(user)
        _, context = installation(self.fake, install, who, channel_id, guild_id)
        definition = next(
            c for scope in self.fake.commands.values() for c in scope if c["id"] == data["id"]
        )
        if not offered(definition, install, context):
            raise LookupError(f"Discord offers /{name} nowhere here (install {install})")
        return self._send(
            2,
            data,
            user=who,
            channel_id=channel_id,
            guild_id=guild_id,
            permissions=permissions,
            size_limit=size_limit,
            age=age,
            install=install,
            locale=locale,
            guild_locale=guild_locale,
        )

    def autocomplete(
        self,
        name: str,
        /,
        *,
        user: str = "alice",
        permissions: int = MEMBER,
        locale: str = "en-US",
        **options: Any,
    ) -> Interaction:
        """The user typing in the option given as `Focused(...)`, in the first server's
        channel: Discord asks the bot for choices (an interaction of type 4)."""
        data = command_options(self.fake, name, self.guild_id, options)
        return self._send(
            4,
            data,
            user=self.user(user),
            channel_id=self.channel_id,
            guild_id=self.guild_id,
            permissions=permissions,
            locale=locale,
        )

    def dm_channel(self, user: str) -> str:
        return self.server.run_sync(self.fake.dm_channel_of, self.user(user)["id"])

    def click(
        self,
        message: Message,
        custom_id: str,
        *,
        user: str = "alice",
        permissions: int = MEMBER,
        values: list[str] | None = None,
        locale: str = "en-US",
    ) -> Interaction:
        """A press of `custom_id` on `message`; `locale`: the presser's Discord language."""
        from tests.fakes.discord_api import check_click

        # Discord validates the click against the message as it is now, not as the test saw it.
        current = self.server.run_sync(self.fake.messages.get, message.id)
        try:
            check_click(current, custom_id, values)
        except Exception as exc:
            self.fake.errors.append(f"click {custom_id!r} refused: {exc}")
            raise
        assert current is not None
        message = current
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": 2}
        if values is not None:
            data = {"custom_id": custom_id, "component_type": 3, "values": values}
        guild_id = self.fake.guild_of(message.channel_id)
        # A component on a message in a place without the bot came from a user install.
        install = "guild" if self.fake.bot_is_in(message.channel_id) else "user"
        return self._send(
            3,
            data,
            user=self.user(user),
            channel_id=message.channel_id,
            guild_id=guild_id,
            permissions=permissions,
            message=message,
            install=install,
            locale=locale,
        )

    def forge(
        self,
        message: Message,
        custom_id: str,
        *,
        user: str = "alice",
        permissions: int = MEMBER,
        locale: str = "en-US",
    ) -> Interaction:
        """A button press whose custom_id is not on the message: Discord checks that and would
        not send it, but the bot must not rely on it (a Discord bug, a replayed or crafted
        gateway event), so tests deliver it straight to the gateway, past any check."""
        guild_id = self.fake.guild_of(message.channel_id)
        return self._send(
            3,
            {"custom_id": custom_id, "component_type": 2},
            user=self.user(user),
            channel_id=message.channel_id,
            guild_id=guild_id,
            permissions=permissions,
            message=message,
            locale=locale,
        )

    def submit_modal(
        self,
        opened: Interaction,
        values: dict[str, str],
        *,
        user: str = "alice",
        locale: str = "en-US",
    ) -> Interaction:
        """The user fills in the modal `opened` was answered with and submits it: Discord
        sends the modal's custom_id and each text input's custom_id and value (type 5)."""
        modal = self.server.run_sync(lambda: self.fake.interactions[opened.id].modal)
        if modal is None:
            raise AssertionError("that interaction was not answered with a modal")
        rows = []
        for row in modal["components"]:
            item = row["component"] if row.get("type") == 18 else row["components"][0]
            value = values.get(item["custom_id"], item.get("value") or "")
            high = item.get("max_length", 4000)
            if (item.get("required", True) and not value) or len(value) > high:
                raise ValueError(f"{item['custom_id']}: Discord would not submit {value!r}")
            rows.append(
                {
                    "type": 1,
                    "components": [{"type": 4, "custom_id": item["custom_id"], "value": value}],
                }
            )
        unknown = set(values) - {r["components"][0]["custom_id"] for r in rows}
        if unknown:
            raise KeyError(f"the modal has no inputs {sorted(unknown)}")
        payload = opened.payload
        message_id = (payload.get("message") or {}).get("id")
        message = self.fake.messages.get(message_id) if message_id else None
        return self._send(
            5,
            {"custom_id": modal["custom_id"], "components": rows},
            user=self.user(user),
            channel_id=str(payload["channel_id"]),
            guild_id=payload.get("guild_id"),
            permissions=int((payload.get("member") or {}).get("permissions", MEMBER)),
            message=message,
            locale=locale,
        )

    def writes(self, interaction: Interaction) -> list[Write]:
        return self.server.run_sync(self.fake.for_interaction, interaction.id)
