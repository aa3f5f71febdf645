"""Operator content rules: a banned-terms list and optional prompt moderation."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Protocol

from bot.core.errors import UserFacingError

log = logging.getLogger(__name__)


class ContentRefused(UserFacingError):
    code = "content_refused"


class ModerationUnavailable(UserFacingError):
    code = "moderation_unavailable"


class BannedTerms:
    """One rule per line: a word or phrase (whole words, any case) or `re:<regular expression>`.

    Blank lines and lines starting with `#` are ignored.
    """

    def __init__(self, patterns: list[re.Pattern[str]]) -> None:
        self._patterns = patterns

    @classmethod
    def load(cls, path: Path | None) -> BannedTerms:
        if path is None:
            return cls([])
        patterns: list[re.Pattern[str]] = []
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                if line.startswith("re:"):
                    patterns.append(re.compile(line[3:], re.IGNORECASE))
                else:
                    patterns.append(re.compile(rf"(?<!\w){re.escape(line)}(?!\w)", re.IGNORECASE))
            except re.error as exc:
                raise ValueError(
                    f"BANNED_TERMS_FILE line {number}: invalid pattern ({exc})"
                ) from None
        log.info("loaded %d banned-term rule(s)", len(patterns))
        return cls(patterns)

    def __len__(self) -> int:
        return len(self._patterns)

    def matches(self, *texts: str) -> bool:
        return any(p.search(text) for p in self._patterns for text in texts if text)


class Moderator(Protocol):
    async def flagged(self, text: str) -> bool:
        """True when the text breaks the moderation policy; raises ModerationUnavailable."""


class OpenAIModerator:
    """OpenAI's moderation endpoint (free of charge), checked before any paid generation."""

    def __init__(self, *, api_key: str, base_url: str | None, timeout: float) -> None:
        from openai import AsyncOpenAI

        self._client = AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=1
        )

    async def flagged(self, text: str) -> bool:
        import openai

        try:
            result = await self._client.moderations.create(
                model="omni-moderation-latest", input=text
            )
        except openai.OpenAIError as exc:
            log.warning("moderation check failed: %s", exc.__class__.__name__)
            raise ModerationUnavailable(
                "The content check is not answering right now, so nothing was queued. "
                "Please try again in a minute."
            ) from exc
        return any(item.flagged for item in result.results)

    async def aclose(self) -> None:
        await self._client.close()
