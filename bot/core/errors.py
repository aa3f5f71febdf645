"""User-facing errors with stable codes and plain-words messages: every error a user may
read is declared here, with its words (one class per meaning), and so are the words of every
way a request can fail.

The words are `Text` values (bot/core/language.py): a message id in English and its
parameters, rendered later in the reader's locale by whoever shows them (`exc.text`). Each
error also keeps `message`, its English rendering, which is what the history row stores and
the logs show, so the record reads the same whoever asked. Adapters turn every
`UserFacingError` into a message in one place.

A request that failed after admission (a provider's refusal, an outage, an expired wait) keeps
only its `failure_code` and the English `failure_reason` on its row; `failure_text` turns them
back into a `Text`, so the failure is told in the requester's language after a restart too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Final, TypeVar

from bot.core.language import (
    CATALOGUES,
    ENGLISH,
    FIRST_STRONG_ISOLATE,
    POP_DIRECTIONAL_ISOLATE,
    Number,
    Plural,
    Text,
    UserText,
)

E = TypeVar("E", bound=Exception)

# A message id no catalogue holds, so words given as a plain string (not yet in a catalogue)
# show as they are in every language, escaped and isolated like user text.
_VERBATIM: Final = "{words}"


def english(text: Text) -> str:
    """`text` as the record keeps it: the English rendering, user text without isolates."""
    # Every isolate in the rendering is one of ours: user text is stripped of its own first.
    wording = CATALOGUES.render(text, ENGLISH)
    return wording.replace(FIRST_STRONG_ISOLATE, "").replace(POP_DIRECTIONAL_ISOLATE, "")


def as_text(words: Text | str) -> Text:
    """`words` as a `Text`; a plain string is shown as it is in every language (words the
    catalogue does not know yet: prefer a `Text`)."""
    return words if isinstance(words, Text) else Text(_VERBATIM, words=UserText(words))


class UserFacingError(Exception):
    code: str = "error"
    words: Text = Text("Something went wrong.")  # the words of a class whose words never vary

    def __init__(self, text: Text | str | None = None, *, code: str | None = None) -> None:
        self.text = self.words if text is None else as_text(text)
        self.message = text if isinstance(text, str) else english(self.text)
        super().__init__(self.message)
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

    def __init__(self, text: Text | str, suggestions: list[str]) -> None:
        super().__init__(text)
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
    words = Text("That button belongs to a picture from another chat, so it does nothing here.")


class NotOwner(PermissionDenied):
    code = "not_owner"
    words = Text("Only the person who asked for this picture can do that.")


class NotThisMessage(PermissionDenied):
    """A button pressed on a message that is not the one its data is about (a forged or
    copied button): refused before anything happens."""

    code = "not_this_message"
    words = Text("That button does not belong to this message.")


class QueueUnavailable(UserFacingError):
    code = "queue_unavailable"
    words = Text(
        "The request queue is unavailable right now, so nothing was queued. "
        "Please try again in a minute."
    )


class StoreUnavailable(UserFacingError):
    """The database did not answer after the retries; nothing of the request was kept."""

    code = "store_unavailable"
    words = Text(
        "The bot cannot reach its database right now, so nothing was saved or queued. "
        "Please try again in a minute."
    )


class LimitReached(UserFacingError):
    """A user's or a chat's limit: requests waiting, pictures a day."""

    code = "limit_reached"

    @classmethod
    def waiting(cls, waiting: int, limit: int) -> LimitReached:
        return cls(
            Plural(
                "You already have {count} request waiting (the limit is {limit}). "
                "Please wait until one has finished.",
                "You already have {count} requests waiting (the limit is {limit}). "
                "Please wait until one has finished.",
                waiting,
                limit=Number(limit),
            )
        )

    @classmethod
    def daily(cls, *, chat: bool, used: int, limit: int, images: int, resets: Text) -> LimitReached:
        """'You have used your 50 pictures for today.' or, when a request of several pictures
        would go over, how many are left (yours, or the chat's: `chat`); then when the limit
        resets (`reset_phrase`)."""
        if used >= limit:
            text = (
                Plural(
                    "This chat has used its {count} picture for today. The limit resets {resets}.",
                    "This chat has used its {count} pictures for today. The limit resets {resets}.",
                    limit,
                    resets=resets,
                )
                if chat
                else Plural(
                    "You have used your {count} picture for today. The limit resets {resets}.",
                    "You have used your {count} pictures for today. The limit resets {resets}.",
                    limit,
                    resets=resets,
                )
            )
            return cls(text)
        numbers = {"images": Number(images), "left": Number(limit - used), "limit": Number(limit)}
        if chat:
            wording = Text(
                "This request asks for {images} pictures, but this chat has only {left} of its "
                "{limit} left for today. The limit resets {resets}.",
                resets=resets,
                **numbers,
            )
        else:
            wording = Text(
                "This request asks for {images} pictures, but you have only {left} of your "
                "{limit} left for today. The limit resets {resets}.",
                resets=resets,
                **numbers,
            )
        return cls(wording)


class BudgetExhausted(UserFacingError):
    """The operator's daily image budget for the whole bot."""

    code = "budget_exhausted"

    @classmethod
    def resets(cls, resets: Text) -> BudgetExhausted:
        return cls(
            Text("The bot has reached its daily image budget. It resets {resets}.", resets=resets)
        )


class ContentRefused(UserFacingError):
    """The operator's content rules: a banned term, or the content check flagged it."""

    code = "content_refused"
    banned_words = Text("This prompt uses words that are not allowed on this bot.")

    @classmethod
    def banned(cls) -> ContentRefused:
        return cls(cls.banned_words)

    @classmethod
    def flagged(cls, what: str) -> ContentRefused:
        """`what` the content check flagged: "prompt", "picture" or "reference picture"."""
        return cls(FLAGGED.get(what, FLAGGED["prompt"]))


FLAGGED: Final = {
    "prompt": Text("The content check flagged this prompt, so it was not queued."),
    "picture": Text("The content check flagged this picture, so it was not queued."),
    "reference picture": Text(
        "The content check flagged this reference picture, so it was not queued."
    ),
}


class ModerationUnavailable(UserFacingError):
    code = "moderation_unavailable"
    words = Text(
        "The content check is not answering right now, so nothing was queued. "
        "Please try again in a minute."
    )


class ProviderError(Exception):
    """A provider call went wrong. `retryable` decides between ARQ retry and final failure.

    `text` is what the user reads (in their language), `user_message` its English rendering:
    what crosses to the bot process in the failure event and what the row keeps."""

    code = "provider_error"
    retryable = False
    words: Text = Text("The image service could not make this picture.")

    def __init__(
        self,
        detail: str = "",
        *,
        user_message: Text | str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.text = self.words if user_message is None else as_text(user_message)
        self.user_message = user_message if isinstance(user_message, str) else english(self.text)
        super().__init__(detail or self.user_message)
        self.detail = detail
        self.retry_after = retry_after


class ProviderRefused(ProviderError):
    """The provider's safety system refused the prompt: final, and never shopped around."""

    code = "refused"
    words = Text("The image service refused this prompt under its content policy.")


class ProviderRejected(ProviderError):
    code = "invalid_request"
    words = Text("The image service rejected this request as invalid.")


class ProviderQuotaExhausted(ProviderError):
    code = "quota_exhausted"
    words = Text(
        "The bot's image service account has run out of credit; the operator has been told."
    )


class ProviderAuthFailed(ProviderError):
    code = "auth_failed"
    words = Text("The bot's image service credentials were rejected; the operator has been told.")


class ProviderMisconfigured(ProviderError):
    """The operator's setup is wrong (a broken workflow, an API not enabled, an unknown model
    in a style): not the user's fault, so the next provider is tried, but retrying is futile."""

    code = "misconfigured"
    words = Text("The bot's image service is not set up correctly; the operator has been told.")


class ProviderBadOutput(ProviderError):
    """The provider answered with something the bot will not read or open: a body over the
    size cap, a picture over the pixel limit, bytes that are no picture. Not the user's fault,
    so the next provider is tried; asking the same one again is futile."""

    code = "bad_output"
    words = Text(
        "The image service sent back something the bot will not use, so nothing was posted."
    )


class ProviderRateLimited(ProviderError):
    """The service asked the bot to slow down (HTTP 429, or its own limits here were full)."""

    code = "rate_limited"
    retryable = True
    words = Text(
        "The image service asked the bot to slow down (rate limited). Please try again later."
    )


class ProviderUnavailable(ProviderError):
    """The service answered, but with an outage or overload (HTTP 5xx, 408, 409): busy."""

    code = "busy"
    retryable = True
    words = Text("The image service is busy or having trouble right now. Please try again later.")


class ProviderUnreachable(ProviderUnavailable):
    """No answer at all: the name does not resolve, nothing listens at the address, the
    connection is refused or cut before a reply."""

    code = "unreachable"
    words = Text(
        "The image service cannot be reached right now (no connection). Please try again later."
    )


class ProviderTimeout(ProviderUnavailable):
    code = "timeout"
    words = Text("The image service took too long to answer. Please try again later.")


class ProviderUnsupported(ProviderError):
    """This provider cannot do the operation asked of it (an upscale on OpenAI, a describe on
    ComfyUI): the next provider is tried; asking this one again is futile."""

    code = "unsupported"
    words = Text("The image service cannot do this.")


# While a request waits for another try: what the chat shows, by the code of the last failure.
RETRYING_PREFIX = "retrying"
RETRYING_WORDS: Final = {
    ProviderUnreachable.code: Text("The image service cannot be reached; trying again…"),
    ProviderRateLimited.code: Text("The image service asked the bot to slow down; trying again…"),
    ProviderTimeout.code: Text("The image service took too long; trying again…"),
    ProviderUnavailable.code: Text("The image service is busy; trying again…"),
}


def retrying_detail(code: str) -> str:
    """The progress detail of a request that will be tried again after a `code` failure."""
    return f"{RETRYING_PREFIX} {code}"


def retrying_text(detail: str | None) -> Text | None:
    """The words for a `retrying_detail`, None for any other progress detail."""
    if detail is None or not detail.startswith(RETRYING_PREFIX):
        return None
    code = detail.removeprefix(RETRYING_PREFIX).strip()
    return RETRYING_WORDS.get(code, RETRYING_WORDS[ProviderUnavailable.code])


def retrying_words(detail: str | None) -> str | None:
    """`retrying_text` in English (the command line's progress)."""
    text = retrying_text(detail)
    return None if text is None else english(text)


class DeliveryError(Exception):
    """The chat platform would not take the result. `retryable` false means give up and record.

    `reason` is the English the row keeps; given as a `Text`, the words are the adapter's to
    declare with `failure_words` so the requester reads them in their language."""

    def __init__(
        self, reason: Text | str, *, retryable: bool, retry_after: float | None = None
    ) -> None:
        self.reason = reason if isinstance(reason, str) else english(reason)
        super().__init__(self.reason)
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


# -- the words of a failed request ---------------------------------------------------------------

# Failures that are no error class: the job's own, the delivery's, housekeeping's. Their
# English is what the row keeps as `failure_reason`.
INTERNAL_FAILURE: Final = Text("Something went wrong inside the bot while making this picture.")
WORKER_LOST: Final = Text("The worker making this picture stopped repeatedly; please try again.")
NO_PROVIDER: Final = Text("No configured image service can make this picture.")
CENSORED: Final = Text("The image service blocked the result as unsafe, so nothing was posted.")
NOT_MADE: Final = Text("The picture could not be made.")
NO_IMAGE: Final = Text("The image service sent no image.")
NOT_AN_IMAGE: Final = Text("The image service sent something that is not an image.")
NO_IDEAS: Final = Text("The image service had nothing to say.")
IDEAS_REFUSED: Final = Text("The prompts found for this picture are not allowed here.")


# A provider's own refusals, beyond its class's words.
HORDE_NO_KUDOS: Final = Text(
    "The AI Horde asks for kudos for this request, which the bot's account does not have; "
    "the operator has been told."
)
HORDE_REFUSES_BOT: Final = Text(
    "The AI Horde is not accepting the bot's requests right now; the operator has been told."
)
HORDE_NO_WORKER: Final = Text("No AI Horde worker can make this picture right now.")


def unopenable_text(detail: str) -> Text:
    """A provider's picture the bot will not open; `detail` says why (technical, English)."""
    return Text(
        "The image service sent back a picture the bot will not open ({detail}).", detail=detail
    )


def too_large_text(megabytes: int) -> Text:
    """A provider's answer over the size the bot reads."""
    return Text(
        "The image service sent back more than {megabytes} MB, more than this bot accepts, "
        "so nothing was posted.",
        megabytes=Number(megabytes),
    )


def expired_text(minutes: int) -> Text:
    """A request that waited longer than anyone would still want it (housekeeping)."""
    return Plural(
        "This request waited more than {count} minute and was cancelled. Please try again.",
        "This request waited more than {count} minutes and was cancelled. Please try again.",
        minutes,
    )


def delivery_expired_text(hours: float, last_answer: str) -> Text:
    """A picture made but never accepted by the platform within the delivery deadline."""
    return Text(
        "The picture was made but could not be posted within {hours} hours "
        "(last answer: {answer}).",
        hours=Number(hours),
        answer=UserText(last_answer),
    )


# The words by failure code when the stored reason is none of ours (an older row, a
# provider's own words): the kind of failure, said plainly (issue 27: each kind its own).
FAILURE_WORDS: Final = {
    "internal": INTERNAL_FAILURE,
    "worker_lost": WORKER_LOST,
    "no_provider": NO_PROVIDER,
    "censored": CENSORED,
    "bad_image": NOT_AN_IMAGE,
    "no_suggestions": NO_IDEAS,
    "expired": Text("This request waited too long and was cancelled. Please try again."),
    "delivery_expired": Text("The picture was made but could not be posted in time."),
    "delivery_failed": Text("The picture was made but could not be posted."),
}


def failure_text(code: str | None, reason: str | None) -> Text:
    """The words for a failed request, from what its row keeps (`failure_code`,
    `failure_reason`): the very words it failed with when they are ours (parameters read
    back from the English), else its kind's words, else that it could not be made."""
    if reason:
        known = _failure_words_by_english().get(reason)
        if known is not None:
            return known
        for shape in _FAILURE_SHAPES:
            found = read_back(shape, reason)
            if found is not None:
                return found
        if code in VERBATIM_CODES:
            return as_text(reason)
    return _failure_words_by_code().get(code or "", NOT_MADE)


# Failures whose reason is the platform adapter's own explanation (what the person can do
# about it): words `failure_words` does not know yet are shown as they are, not lost.
VERBATIM_CODES: Final = frozenset({"delivery_failed"})

# Failure words declared outside this module (`failure_words`), and the ones here whose
# words carry parameters, one example each: `failure_text` reads a stored English reason
# back into the same message with its parameters.
_FAILURE_SHAPES: list[Text] = [
    expired_text(1),
    delivery_expired_text(1, "-"),
    unopenable_text("-"),
    too_large_text(1),
    HORDE_NO_KUDOS,
    HORDE_REFUSES_BOT,
    HORDE_NO_WORKER,
    NO_IMAGE,
    IDEAS_REFUSED,
]


def failure_words(*examples: Text) -> None:
    """Declare words a request may fail with that are built outside this module (a platform
    adapter's `DeliveryError`), one example each (parameters of any value), so that
    `failure_text` gives them back in the reader's language. Called at import time."""
    for example in examples:
        if example not in _FAILURE_SHAPES:
            _FAILURE_SHAPES.append(example)
    _failure_words_by_english.cache_clear()


def read_back(shape: Text, stored: str) -> Text | None:
    """`stored` (an English rendering a row keeps) as `shape`'s message with the parameters it
    was rendered with, if it is one; a parameter that is itself a `Text` is read back against
    the example's."""
    forms = (shape.message,) if shape.plural is None else (shape.message, shape.plural)
    for form in forms:
        match = _pattern(form).fullmatch(stored)
        if match is None:
            continue
        values: dict[str, object] = {}
        for name, value in match.groupdict().items():
            typed = _typed(shape.params.get(name), value)
            if typed is None:
                break
            values[name] = typed
        else:
            return _rebuilt(shape, values)
    return None


def _typed(example: object, value: str) -> object | None:
    """`value` as the kind of parameter `example` is, or None when it cannot be one."""
    if isinstance(example, Text):
        return read_back(example, value)
    if isinstance(example, Number):
        number = _number(value)
        return None if number is None else Number(number)
    if isinstance(example, UserText):
        return UserText(value)
    return value


def _rebuilt(shape: Text, values: dict[str, object]) -> Text:
    if shape.plural is None:
        return Text(shape.message, **values)
    count = values.pop("count")
    assert isinstance(count, Number)
    return Plural(shape.message, shape.plural, int(count.value), **values)


@cache
def _pattern(message: str) -> re.Pattern[str]:
    """A regular expression matching `message` rendered in English with any parameters."""
    out, seen, end = [], set(), 0
    for field in re.finditer(r"\{(\w+)\}", message):
        out.append(re.escape(message[end : field.start()]))
        name = field.group(1)
        out.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        end = field.end()
    out.append(re.escape(message[end:]))
    return re.compile("".join(out), re.DOTALL)


def _number(value: str) -> int | float | None:
    """A number as English renders it ('1,234', '1.5'), or None."""
    plain = value.replace(",", "")
    if re.fullmatch(r"-?\d+", plain):
        return int(plain)
    if re.fullmatch(r"-?\d+\.\d+", plain):
        return float(plain)
    return None


@cache
def _failure_words_by_english() -> dict[str, Text]:
    words = [*_failure_words_by_code().values(), *FLAGGED.values(), ContentRefused.banned_words]
    words += _FAILURE_SHAPES
    words += [cls.words for cls in _subclasses(ProviderError)]
    return {english(text): text for text in words if not text.params}


@cache
def _failure_words_by_code() -> dict[str, Text]:
    words: dict[str, Text] = {}
    for cls in _subclasses(ProviderError):
        words.setdefault(cls.code, cls.words)
    for error in _subclasses(UserFacingError):
        if "words" in vars(error):
            words.setdefault(error.code, error.words)
    return {**words, **FAILURE_WORDS}


def _subclasses(cls: type[E]) -> Iterator[type[E]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)
