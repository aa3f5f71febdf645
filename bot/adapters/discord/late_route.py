"""Where a result goes once the interaction's 15 minutes are over, and what the user is told.

Within its 15 minutes an interaction's own response carries the picture and needs no channel
permission. After them, only a message sent with the bot token can: in the channel, which
needs the bot's own permissions there (Discord sends them with every interaction as
`app_permissions`), or else in a DM to the requester. The route is decided at acknowledgement
time and kept in the request's delivery handle, so the acknowledgement can say at once that
the picture must arrive in time, and any bot process can follow the route later.

Where the bot is not a member (a user install used in a DM between users, a group DM, a
server without the bot) the interaction is all there is: such a channel answers bot-token
messages with 50001 Missing Access, so the route is `interaction` and no channel message is
ever sent. The acknowledgement says so with the deadline, a provider's queue estimate past it
is told when it comes, and shortly before the end the response says honestly that the picture
will not come here but stays in the requester's history and gallery (`/share` posts it later).
"""

from __future__ import annotations

import time

import discord

from bot.adapters.discord.delivery_handle import CHANNEL, DIRECT, INTERACTION, DiscordHandle
from bot.adapters.discord.identity import bot_is_member
from bot.adapters.discord.images import DEFAULT_LIMIT
from bot.adapters.discord.render import say
from bot.core.errors import failure_words
from bot.core.language import ENGLISH, Duration, Text

# Shortly before the bot stops using the token, the response says the request is still on.
STILL_WORKING_LEAD = 60.0
THREADS = (
    discord.ChannelType.public_thread,
    discord.ChannelType.private_thread,
    discord.ChannelType.news_thread,
)


def missing_for_channel_post(interaction: discord.Interaction) -> list[str]:
    """The permissions the bot lacks to post the picture as a new message in the
    interaction's channel (a thread is a channel of its own, with its own send permission).
    Read Message History is asked for too: a button's result replies to its message, and
    after an outage the bot reads its post back to know whether it arrived."""
    if interaction.guild_id is None:
        return []  # the DM with the bot: nothing to grant
    perms = interaction.app_permissions
    in_thread = getattr(interaction.channel, "type", None) in THREADS
    needed = [
        ("View Channel", perms.view_channel),
        (
            ("Send Messages in Threads", perms.send_messages_in_threads)
            if in_thread
            else ("Send Messages", perms.send_messages)
        ),
        ("Read Message History", perms.read_message_history),
        ("Attach Files", perms.attach_files),
    ]
    return [name for name, granted in needed if not granted]


def route_handle(interaction: discord.Interaction) -> DiscordHandle:
    """What the delivery needs later: the route and, for the channel, the server's own upload
    limit (bot-token messages are capped by it, not by the user's Nitro)."""
    if not bot_is_member(interaction):
        return DiscordHandle(late_route=INTERACTION, channel_size_limit=DEFAULT_LIMIT)
    missing = missing_for_channel_post(interaction)
    guild = interaction.guild
    limit = guild.filesize_limit if guild is not None else DEFAULT_LIMIT
    return DiscordHandle(
        late_route=DIRECT if missing else CHANNEL,
        late_missing=", ".join(missing) or None,
        channel_size_limit=int(limit),
    )


def discord_time(when: float) -> str:
    """A Discord timestamp: every reader's client shows it in their own time and language."""
    return f"<t:{int(when)}:t>"


KEPT = Text("It stays in your `/history` and gallery: post it wherever you are with `/share`.")


def _with_kept(text: Text, locale: str) -> str:
    return f"{say(text, locale)} {say(KEPT, locale)}"


def interaction_note(ends: float, current: float, locale: str = ENGLISH) -> str:
    if current >= ends - STILL_WORKING_LEAD:
        late = Text(
            "⌛ Not ready in time: I am not a member here, so Discord lets me answer only for "
            "15 minutes, and that time is nearly over. The picture is still being made."
        )
        return _with_kept(late, locale)
    deadline = Text(
        "ℹ️ I am not a member here, so I can only answer within Discord's 15 minutes, by "
        "{time}. If the picture takes longer, it will not appear here.",
        time=discord_time(ends),
    )
    return _with_kept(deadline, locale)


def eta_note(handle: DiscordHandle, eta_seconds: float | None, locale: str = ENGLISH) -> str:
    """A provider's queue estimate that ends past the deadline, said when it is known."""
    ends = handle.expires_at
    if not handle.only_interaction or not eta_seconds or ends is None:
        return ""
    if time.time() + eta_seconds <= ends:
        return ""
    expected = Text(
        "⌛ The image service expects about {wait} more: that is past my 15 minutes here "
        "({time}), so the picture will likely not appear here.",
        wait=Duration(eta_seconds),
        time=discord_time(ends),
    )
    return _with_kept(expected, locale)


def late_note(handle: DiscordHandle, now: float | None = None, locale: str = ENGLISH) -> str:
    """The line under the status of a request whose late picture cannot go to the channel:
    first the deadline, then, shortly before it, that the request is still being worked on."""
    ends = handle.expires_at
    if not handle.has_deadline or ends is None:
        return ""
    # Permission names are Discord's own, as its settings show them in English.
    missing = handle.late_missing or say(Text("some permissions"), locale)
    current = time.time() if now is None else now
    if handle.only_interaction:
        return interaction_note(ends, current, locale)
    if current >= ends - STILL_WORKING_LEAD:
        text = Text(
            "⏳ Still working: this message can only be updated for 15 minutes, and I may not "
            "post in this channel (missing: {missing}). I will send the picture to your "
            "direct messages when it is ready; if they are closed, `/history` will say why.",
            missing=missing,
        )
    else:
        text = Text(
            "ℹ️ I may not post in this channel (missing: {missing}), so the picture must arrive "
            "within Discord's 15 minutes, by {time}. If it is later, I will send it to your "
            "direct messages.",
            missing=missing,
            time=discord_time(ends),
        )
    return say(text, locale)


def with_note(
    text: str, handle: DiscordHandle, now: float | None = None, locale: str = ENGLISH
) -> str:
    note = late_note(handle, now, locale)
    return f"{text}\n{note}" if note else text


def dm_refused_reason(handle: DiscordHandle) -> Text:
    """Short, so `/history` shows it whole: the 15 minutes passed, the channel is closed to
    the bot, and so are the requester's DMs (permission names are Discord's own)."""
    if handle.late_missing:
        return Text(
            "missing {missing} in this channel, too late for the reply, and your DMs are closed",
            missing=handle.late_missing,
        )
    return Text(
        "missing permissions in this channel, too late for the reply, and your DMs are closed"
    )


failure_words(dm_refused_reason(DiscordHandle(late_missing="Attach Files")))
failure_words(dm_refused_reason(DiscordHandle()))
