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
# Where a late picture goes (late_route.py); INTERACTION: nowhere but the interaction (the
# bot is not a member where it was asked).
CHANNEL, DIRECT, INTERACTION = "channel", "dm", "interaction"


class DiscordHandle(HandlePart):
    """Every key Discord keeps in a delivery handle; unset where a row has none."""

    application_id: str | int | None = None
    interaction_id: str | None = None
    token: str | None = None
    expires_at: float | None = None  # when the bot stops using the token (epoch seconds)
    requester_id: str | int | None = None
    guild_id: str | None = None
    size_limit: int | None = None  # the interaction's upload limit (the user's Nitro counts)
    late_route: str | None = None  # CHANNEL, DIRECT or INTERACTION
    late_missing: str | None = None  # the permissions the bot lacks in the channel
    channel_size_limit: int | None = None  # the server's own upload limit
    message_id: str | int | None = None
    fallback_sent_at: float | None = None
    fallback_nonce: str | None = None
    fallback_message_id: str | None = None
    failure_notice_sent_at: float | None = None
    kept_after_token_at: float | None = None  # an interaction-only request done after its token

    @property
    def goes_direct(self) -> bool:
        return self.late_route == DIRECT

    @property
    def only_interaction(self) -> bool:
        """The bot is not a member where the request was made: the interaction is the only way."""
        return self.late_route == INTERACTION

    @property
    def has_deadline(self) -> bool:
        """Whether the picture must arrive within the token's life to reach this channel."""
        return self.goes_direct or self.only_interaction
