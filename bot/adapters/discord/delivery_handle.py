"""Discord's part of a request's delivery handle, typed: what the acknowledgement recorded to
finish the request from any process (the interaction's token and its end, who asked, the
upload limits, where a late picture goes) and the marks the delivery sets on the way (the
message that shows the result, a late message's nonce and id, a failure notice sent).

Stored as keys of the row's one JSON handle, as they always were (rows written before read
the same); the core's keys (NSFW, retry timing) are `DeliveryPolicy`'s, never set here.
"""

from __future__ import annotations

from bot.core.models import HandlePart

RESULT_MESSAGE = "message_id"  # the message that shows the result (see pressed.py)
FALLBACK_MARKER = "fallback_sent_at"  # set before a late message is sent
FAILURE_MARKER = "failure_notice_sent_at"  # a failure notice sent with the bot token
CHANNEL, DIRECT = "channel", "dm"  # where a late picture goes (late_route.py)


class DiscordHandle(HandlePart):
    """Every key Discord keeps in a delivery handle; unset where a row has none."""

    application_id: str | int | None = None
    interaction_id: str | None = None
    token: str | None = None
    expires_at: float | None = None  # when the bot stops using the token (epoch seconds)
    requester_id: str | int | None = None
    guild_id: str | None = None
    size_limit: int | None = None  # the interaction's upload limit (the user's Nitro counts)
    late_route: str | None = None  # CHANNEL or DIRECT
    late_missing: str | None = None  # the permissions the bot lacks in the channel
    channel_size_limit: int | None = None  # the server's own upload limit
    message_id: str | int | None = None
    fallback_sent_at: float | None = None
    fallback_nonce: str | None = None
    fallback_message_id: str | None = None
    failure_notice_sent_at: float | None = None

    @property
    def goes_direct(self) -> bool:
        return self.late_route == DIRECT
