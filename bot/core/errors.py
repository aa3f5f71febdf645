"""User-facing errors with stable codes and plain-words messages: every error a user may
read is declared here, with its words (one class per meaning).

Adapters turn every `UserFacingError` into a message in one place; the history row stores
`code` and `message` too, so the chat and the history always say the same thing.
"""

from __future__ import annotations


class UserFacingError(Exception):
    code: str = "error"
    words: str = "Something went wrong."  # the message of a class whose words never vary

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        message = self.words if message is None else message
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidRequest(UserFacingError):
    code = "invalid_request"


class EmptyPrompt(InvalidRequest):
    code = "empty_prompt"


class PromptTooLong(InvalidRequest):
    code = "prompt_too_long"


class UnknownStyle(InvalidRequest):
    code = "unknown_style"

    def __init__(self, message: str, suggestions: list[str]) -> None:
        super().__init__(message)
        self.suggestions = suggestions


class BadStyleText(InvalidRequest):
    """A community style an admin gave that cannot be kept (its words say what to change)."""

    code = "bad_style"


class StyleNotAllowed(InvalidRequest):
    code = "style_not_allowed"


class UnsupportedAspect(InvalidRequest):
    code = "unsupported_aspect"


class NotFound(UserFacingError):
    code = "not_found"


class PermissionDenied(UserFacingError):
    code = "permission_denied"


class WrongScope(PermissionDenied):
    """The generation was made on another platform or in another chat/server."""

    code = "wrong_scope"
    words = "That button belongs to a picture from another chat, so it does nothing here."


class NotOwner(PermissionDenied):
    code = "not_owner"
    words = "Only the person who asked for this picture can do that."


class NotThisMessage(PermissionDenied):
    """A button pressed on a message that is not the one its data is about (a forged or
    copied button): refused before anything happens."""

    code = "not_this_message"
    words = "That button does not belong to this message."


class QueueUnavailable(UserFacingError):
    code = "queue_unavailable"
    words = (
        "The request queue is unavailable right now, so nothing was queued. "
        "Please try again in a minute."
    )


class StoreUnavailable(UserFacingError):
    """The database did not answer after the retries; nothing of the request was kept."""

    code = "store_unavailable"
    words = (
        "The bot cannot reach its database right now, so nothing was saved or queued. "
        "Please try again in a minute."
    )


class LimitReached(UserFacingError):
    """A user's or a chat's limit: requests waiting, pictures a day."""

    code = "limit_reached"

    @classmethod
    def waiting(cls, waiting: int, limit: int) -> LimitReached:
        return cls(
            f"You already have {waiting} request{'s' if waiting != 1 else ''} waiting "
            f"(the limit is {limit}). Please wait until one has finished."
        )

    @classmethod
    def daily(
        cls, who: str, whose: str, used: int, limit: int, images: int, resets: str
    ) -> LimitReached:
        """'You have used your 50 pictures for today.' or, when a request of several pictures
        would go over, how many are left ('you have' / 'this chat has'); then when the limit
        resets ('at 00:00 UTC (in 3 h)')."""
        if used >= limit:
            over = f"{who[0].upper()}{who[1:]} used {whose} {limit} pictures for today. "
        else:
            over = (
                f"This request asks for {images} pictures, but {who} only {limit - used} "
                f"of {whose} {limit} left for today. "
            )
        return cls(f"{over}The limit resets {resets}.")


class BudgetExhausted(UserFacingError):
    """The operator's daily image budget for the whole bot."""

    code = "budget_exhausted"

    @classmethod
    def resets(cls, resets: str) -> BudgetExhausted:
        return cls(f"The bot has reached its daily image budget. It resets {resets}.")


class ContentRefused(UserFacingError):
    """The operator's content rules: a banned term, or the content check flagged it."""

    code = "content_refused"
    banned_words = "This prompt uses words that are not allowed on this bot."

    @classmethod
    def flagged(cls, what: str) -> ContentRefused:
        return cls(f"The content check flagged this {what}, so it was not queued.")


class ModerationUnavailable(UserFacingError):
    code = "moderation_unavailable"
    words = (
        "The content check is not answering right now, so nothing was queued. "
        "Please try again in a minute."
    )


class ProviderError(Exception):
    """A provider call went wrong. `retryable` decides between ARQ retry and final failure."""

    code = "provider_error"
    retryable = False
    user_message = "The image service could not make this picture."

    def __init__(
        self,
        detail: str = "",
        *,
        user_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(detail or self.user_message)
        self.detail = detail
        if user_message is not None:
            self.user_message = user_message
        self.retry_after = retry_after


class ProviderRefused(ProviderError):
    """The provider's safety system refused the prompt: final, and never shopped around."""

    code = "refused"
    user_message = "The image service refused this prompt under its content policy."


class ProviderRejected(ProviderError):
    code = "invalid_request"
    user_message = "The image service rejected this request as invalid."


class ProviderQuotaExhausted(ProviderError):
    code = "quota_exhausted"
    user_message = (
        "The bot's image service account has run out of credit; the operator has been told."
    )


class ProviderAuthFailed(ProviderError):
    code = "auth_failed"
    user_message = "The bot's image service credentials were rejected; the operator has been told."


class ProviderMisconfigured(ProviderError):
    """The operator's setup is wrong (a broken workflow, an API not enabled, an unknown model
    in a style): not the user's fault, so the next provider is tried, but retrying is futile."""

    code = "misconfigured"
    user_message = "The bot's image service is not set up correctly; the operator has been told."


class ProviderBadOutput(ProviderError):
    """The provider answered with something the bot will not read or open: a body over the
    size cap, a picture over the pixel limit, bytes that are no picture. Not the user's fault,
    so the next provider is tried; asking the same one again is futile."""

    code = "bad_output"
    user_message = (
        "The image service sent back something the bot will not use, so nothing was posted."
    )


class ProviderRateLimited(ProviderError):
    """The service asked the bot to slow down (HTTP 429, or its own limits here were full)."""

    code = "rate_limited"
    retryable = True
    user_message = (
        "The image service asked the bot to slow down (rate limited). Please try again later."
    )


class ProviderUnavailable(ProviderError):
    """The service answered, but with an outage or overload (HTTP 5xx, 408, 409): busy."""

    code = "busy"
    retryable = True
    user_message = "The image service is busy or having trouble right now. Please try again later."


class ProviderUnreachable(ProviderUnavailable):
    """No answer at all: the name does not resolve, nothing listens at the address, the
    connection is refused or cut before a reply."""

    code = "unreachable"
    user_message = (
        "The image service cannot be reached right now (no connection). Please try again later."
    )


class ProviderTimeout(ProviderUnavailable):
    code = "timeout"
    user_message = "The image service took too long to answer. Please try again later."


# While a request waits for another try: what the chat shows, by the code of the last failure.
RETRYING_PREFIX = "retrying"
RETRYING_WORDS = {
    ProviderUnreachable.code: "The image service cannot be reached; trying again…",
    ProviderRateLimited.code: "The image service asked the bot to slow down; trying again…",
    ProviderTimeout.code: "The image service took too long; trying again…",
    ProviderUnavailable.code: "The image service is busy; trying again…",
}


def retrying_detail(code: str) -> str:
    """The progress detail of a request that will be tried again after a `code` failure."""
    return f"{RETRYING_PREFIX} {code}"


def retrying_words(detail: str | None) -> str | None:
    """The plain sentence for a `retrying_detail`, None for any other progress detail."""
    if detail is None or not detail.startswith(RETRYING_PREFIX):
        return None
    code = detail.removeprefix(RETRYING_PREFIX).strip()
    return RETRYING_WORDS.get(code, RETRYING_WORDS[ProviderUnavailable.code])


class DeliveryError(Exception):
    """The chat platform would not take the result. `retryable` false means give up and record."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


class BadInputImage(InvalidRequest):
    """A picture a user sent that the bot will not use: not a picture, too many pixels, too
    large. Checked before anything is queued, so it costs no provider call."""

    code = "bad_image"


class PromptSyntaxError(InvalidRequest):
    """Choices in braces that do not read (`a {red, blue fox`): said with where and why."""

    code = "prompt_syntax"


class TooManyVariants(InvalidRequest):
    """A compare or permutations asking for more pictures than one grid holds."""

    code = "too_many_variants"


class CountTooHigh(InvalidRequest):
    """More pictures in one request than this chat's admins (or the bot) allow."""

    code = "count_too_high"


class NoCapableProvider(InvalidRequest):
    """No provider in the chain can do what the request needs (take an image, upscale,
    describe, make that many at once): said before anything is queued."""

    code = "no_capable_provider"


class ProviderUnsupported(ProviderError):
    """This provider cannot do the operation asked of it (an upscale on OpenAI, a describe on
    ComfyUI): the next provider is tried; asking this one again is futile."""

    code = "unsupported"
    user_message = "The image service cannot do this."
