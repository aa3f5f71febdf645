"""Prompts in any language: the words translated into English for the providers that read
English best, while the request keeps what its author wrote.

Stable Diffusion's text encoders (AUTOMATIC1111, ComfyUI, most AI Horde models) were trained on
English captions: a Russian or Japanese prompt makes a picture of almost anything. With
`PROMPT_TRANSLATION=openai`, admission asks a chat model (`PROMPT_TRANSLATION_MODEL`, at
`OPENAI_BASE_URL` with `OPENAI_API_KEY`, as the OpenAI provider) for the English of the prompt
and of the negative prompt, and stores it on the request's row beside the words as written
(`prompt_english`, `negative_english`). The job carries both (`JobMessage.english`); a provider
that declares `english_prompts` gets the English, every other one (OpenAI's image models read
any language) the words as written. The history, the gallery and the chat show what the user
wrote; Info shows both (`prompt_sent_text`). A restart rebuilds the job from the row, so it
asks nothing again.

When it asks:

- only after everything that may refuse the request (banned words, moderation, the limits),
  so refused text is never sent; and only when a provider of the request's chain reads English
  best and the words are used (not a describe or an upscale);
- not for a text with no letters, nor for an ASCII text from a reader whose language is
  English (a guess that saves a call per request in English-speaking communities; an English
  prompt from anyone else costs one call, answered "unchanged", and is cached like any other);
- once per text and model: the answer is kept in the store (`prompt_translations`), shared by
  every bot process and kept across restarts, so a reroll, a variation or the same words
  from someone else make no second call.

Each call is one paid provider call: counted on the request (`provider_calls`) and in the
metrics under `prompt_translation`, held to `PROMPT_TRANSLATION_MAX_CONCURRENCY` calls in
flight across every bot process, and a 429's `retry-after` is waited out by all of them
(`ProviderLimiter`, as for the image providers).

When it fails (an error, a 429, `PROMPT_TRANSLATION_TIMEOUT_SECONDS` passed, the model refused,
or its answer is not one prompt: empty, too long, or braces that no longer make the same
choices), the providers get the words as written, a line is logged, and the user sees nothing
of it: a picture from the words as written is still a picture of the request. A failure is not
cached, so the next request with those words asks again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.core import metrics
from bot.core.errors import InvalidRequest, ProviderRateLimited, StoreUnavailable
from bot.core.generation.providers.base import Capabilities
from bot.core.generation.providers.limits import ProviderLimiter
from bot.core.generation.queue import calls_key
from bot.core.language import ENGLISH, PSEUDO, Text, UserText
from bot.core.models import Info, Kind
from bot.core.requests.variants import expand
from bot.core.store.translations import TranslationQueries
from bot.settings import Settings

if TYPE_CHECKING:
    from openai import AsyncOpenAI

log = logging.getLogger(__name__)

PROVIDER: Final = "prompt_translation"  # its name in the metrics and the limiter
INSTRUCTION: Final = (
    "You translate prompts for an AI image generator into English. Answer with a JSON object "
    'only: {"english": "<the prompt in English>"}. Translate the meaning faithfully and '
    "add nothing. Keep as they are: names, numbers, weights such as (word:1.2), choices in "
    "braces such as {red, blue} (translate each choice, keep the braces and commas), "
    "backslashes, and words already in English. If the prompt is already English, give it "
    "back unchanged."
)
INFO_CHARS: Final = 500
# Words that are not used by the provider: nothing to translate.
UNWORDED: Final = (Kind.DESCRIBE, Kind.UPSCALE)


class TranslationFailed(Exception):
    """The translator gave no usable English; `reason` names why, never the text."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Translator(Protocol):
    model: str

    async def english(self, text: str) -> str:
        """The English of `text`, or TranslationFailed."""

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class English:
    """What the providers that read English best get instead of the words as written (None:
    the words as written)."""

    prompt: str | None = None
    negative: str | None = None


NOTHING: Final = English()


def may_need_translation(text: str, locale: str) -> bool:
    """Whether `text` may be in another language than English (the rule in the docstring)."""
    if not any(ch.isalpha() for ch in text):
        return False
    return not (text.isascii() and locale in (ENGLISH, PSEUDO))


def same_words(first: str, second: str) -> bool:
    """An English prompt given back with only its case or spacing changed is no translation."""
    return " ".join(first.casefold().split()) == " ".join(second.casefold().split())


def usable(source: str, english: str, limit: int) -> str:
    """The model's English if it can stand for `source`, else TranslationFailed."""
    english = english.strip()
    if not english:
        raise TranslationFailed("empty answer")
    if len(english) > limit:
        raise TranslationFailed("answer longer than a prompt may be")
    if "{" in source or "{" in english:
        try:
            same = len(expand(source).prompts) == len(expand(english).prompts)
        except InvalidRequest:
            same = False
        if not same:
            raise TranslationFailed("the choices in braces changed")
    return english


def prompt_sent_text(info: Info) -> Text | None:
    """Info's line with the prompt the provider got in English, when it was not the user's
    own words (both adapters show it under the prompt)."""
    sent = info.prompt_sent
    if sent is None:
        return None
    # Shortened like the prompt above it, so Info stays within a chat message.
    shown = sent if len(sent) <= INFO_CHARS else sent[: INFO_CHARS - 1] + "…"
    return Text("🌐 Sent in English: {prompt}", prompt=UserText(shown))


class PromptTranslation:
    """The rules above, around one `Translator`."""

    def __init__(
        self,
        *,
        translator: Translator,
        cache: TranslationQueries,
        redis: Redis,
        capabilities: Mapping[str, Capabilities],
        timeout_seconds: float,
        max_concurrency: int,
        max_chars: int,
    ) -> None:
        self._translator = translator
        self._cache = cache
        self._redis = redis
        self._capabilities = dict(capabilities)
        self._timeout = timeout_seconds
        self._concurrency = max_concurrency
        self._max_chars = max_chars
        # A request waits a little for a free slot, never for a 429's retry-after: cooling
        # down, its words go as written at once.
        self._limiter = ProviderLimiter(
            redis, lease_seconds=timeout_seconds + 30, wait_seconds=min(2.0, timeout_seconds)
        )

    def wanted(self, kind: Kind, providers: tuple[str, ...]) -> bool:
        """Whether a request of this kind, made by this chain, would use English words."""
        if kind in UNWORDED:
            return False
        caps = (self._capabilities.get(p) for p in providers)
        return any(c is not None and c.english_prompts for c in caps)

    async def english_for(
        self,
        generation_id: str,
        prompt: str,
        negative: str | None,
        *,
        kind: Kind,
        providers: tuple[str, ...],
        locale: str,
    ) -> English:
        """The request's words in English where that changes them (the rules above)."""
        if not self.wanted(kind, providers):
            return NOTHING
        # Both at once: the request waits for one round trip, not two.
        english, english_negative = await asyncio.gather(
            self._one(generation_id, prompt, locale),
            self._one(generation_id, negative or "", locale),
        )
        return English(prompt=english, negative=english_negative)

    async def _one(self, generation_id: str, text: str, locale: str) -> str | None:
        """The English of one text, None when it is the text itself or could not be had."""
        if not may_need_translation(text, locale):
            return None
        model = self._translator.model
        english = await self._cached(text, model)
        if english is None:
            try:
                english = usable(text, await self._ask(generation_id, text), self._max_chars)
            except TranslationFailed as exc:
                metrics.PROVIDER_ERRORS.labels(PROVIDER, "failed").inc()
                log.warning(
                    "generation %s: prompt not translated (%s); the providers get it as written",
                    generation_id,
                    exc.reason,
                )
                return None
            await self._remember(text, model, english)
        return None if same_words(english, text) else english

    async def _ask(self, generation_id: str, text: str) -> str:
        """One call: within the time allowed, a slot shared by every bot process, counted."""
        try:
            async with asyncio.timeout(self._timeout):
                async with self._limiter.slot(PROVIDER, self._concurrency):
                    await self._count(generation_id)
                    try:
                        return await self._translator.english(text)
                    except TranslationFailed as exc:
                        if exc.retry_after:
                            await self._limiter.cool_down(PROVIDER, exc.retry_after)
                        raise
        except TimeoutError:
            raise TranslationFailed(f"no answer within {self._timeout:g}s") from None
        except ProviderRateLimited:
            raise TranslationFailed("no free translation slot") from None
        except (RedisError, OSError):
            # The shared slots and counts live in Redis; without it, no call is made.
            raise TranslationFailed("redis did not answer") from None

    async def _count(self, generation_id: str) -> None:
        metrics.PROVIDER_CALLS.labels(PROVIDER).inc()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(calls_key(generation_id), 1)
            pipe.expire(calls_key(generation_id), 7 * 86400)
            await pipe.execute()

    async def _cached(self, text: str, model: str) -> str | None:
        try:
            return await self._cache.cached_translation(text, model)
        except StoreUnavailable:
            return None  # asked again; the request's own row meets the store's state next

    async def _remember(self, text: str, model: str, english: str) -> None:
        try:
            await self._cache.cache_translation(text, model, english, time.time())
        except StoreUnavailable:
            log.info("a prompt translation was not cached: the store did not answer")

    async def aclose(self) -> None:
        await self._translator.aclose()


def prompt_translation(
    settings: Settings,
    cache: TranslationQueries,
    redis: Redis,
    capabilities: Mapping[str, Capabilities],
) -> PromptTranslation | None:
    """What PROMPT_TRANSLATION asks for (None: off). Settings refuse `openai` without
    OPENAI_API_KEY at start."""
    if settings.prompt_translation == "off" or settings.openai_api_key is None:
        return None
    translator = OpenAITranslator(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        model=settings.prompt_translation_model,
        timeout=settings.prompt_translation_timeout_seconds,
    )
    return PromptTranslation(
        translator=translator,
        cache=cache,
        redis=redis,
        capabilities=capabilities,
        timeout_seconds=settings.prompt_translation_timeout_seconds,
        max_concurrency=settings.prompt_translation_max_concurrency,
        max_chars=settings.max_prompt_chars,
    )


class OpenAITranslator:
    """A chat-completions call per text, answered as JSON (an apology is not JSON, so a
    refusal worded as prose is never taken for a prompt)."""

    def __init__(self, *, api_key: str, base_url: str | None, model: str, timeout: float) -> None:
        from openai import AsyncOpenAI

        self.model = model
        # No retries of its own: a failure falls back at once to the words as written.
        self._client: AsyncOpenAI = AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0
        )

    async def english(self, text: str) -> str:
        import openai

        try:
            response = await self._client.chat.completions.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": INSTRUCTION},
                    {"role": "user", "content": text},
                ],
                response_format={"type": "json_object"},
                temperature=0,
            )
        except openai.RateLimitError as exc:
            raise TranslationFailed("rate limited", retry_after(exc)) from None
        except openai.OpenAIError as exc:
            raise TranslationFailed(exc.__class__.__name__) from None
        choice = response.choices[0] if response.choices else None
        if choice is None or choice.message.refusal or choice.finish_reason != "stop":
            raise TranslationFailed("refused" if choice is not None else "no answer")
        try:
            answer = json.loads(choice.message.content or "")
        except ValueError:
            raise TranslationFailed("the answer is not JSON") from None
        english = answer.get("english") if isinstance(answer, dict) else None
        if not isinstance(english, str):
            raise TranslationFailed("the answer has no English")
        return english

    async def aclose(self) -> None:
        await self._client.close()


def retry_after(exc: Exception) -> float:
    """A 429's `retry-after` in seconds (1 when it gives none we can read)."""
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0
