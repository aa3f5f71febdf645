"""Operator content rules: a banned-terms list and optional prompt moderation.

Banned terms are compared on folded text (`bot.core.text`): case, compatibility forms
(fullwidth letters), invisible characters (zero-width spaces, soft hyphens, word joiners),
accents and look-alike letters from other scripts do not hide a word.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Protocol

from bot.core import text as user_text
from bot.core.errors import ModerationUnavailable

log = logging.getLogger(__name__)


class BannedTerms:
    """One rule per line: a word or phrase (whole words, any case) or `re:<regular expression>`.

    Blank lines and lines starting with `#` are ignored. A word rule is matched on the
    skeletons of the rule and of the text; a regular expression on the folded text and on its
    skeleton, so a rule written in any script or with accents still applies.
    """

    def __init__(self, patterns: list[re.Pattern[str]]) -> None:
        self._patterns = patterns
        if patterns:
            user_text.preload()

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
                    word = re.escape(user_text.skeleton(line))
                    if not word:
                        raise ValueError(f"BANNED_TERMS_FILE line {number}: no visible word")
                    patterns.append(re.compile(rf"(?<!\w){word}(?!\w)", re.IGNORECASE))
            except re.error as exc:
                raise ValueError(
                    f"BANNED_TERMS_FILE line {number}: invalid pattern ({exc})"
                ) from None
        log.info("loaded %d banned-term rule(s)", len(patterns))
        return cls(patterns)

    def __len__(self) -> int:
        return len(self._patterns)

    def matches(self, *texts: str) -> bool:
        if not self._patterns:
            return False
        forms = set()
        for text in texts:
            if text:
                forms.add(user_text.folded(text))
                forms.add(user_text.skeleton(text))
        return any(p.search(form) for p in self._patterns for form in forms)


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
            raise ModerationUnavailable() from exc
        return any(item.flagged for item in result.results)

    async def flagged_image(self, data: bytes, mime: str) -> bool:
        """A picture a user sent, checked by the same endpoint (omni-moderation takes images
        as data URLs); raises ModerationUnavailable like the text check."""
        import base64

        import openai
        from openai.types import ModerationImageURLInputParam

        url = f"data:{mime};base64,{base64.b64encode(data).decode()}"
        part: ModerationImageURLInputParam = {"type": "image_url", "image_url": {"url": url}}
        try:
            result = await self._client.moderations.create(
                model="omni-moderation-latest",
                input=[part],
            )
        except openai.OpenAIError as exc:
            log.warning("moderation check failed: %s", exc.__class__.__name__)
            raise ModerationUnavailable() from exc
        return any(item.flagged for item in result.results)

    async def aclose(self) -> None:
        await self._client.close()


class TextGate:
    """One gate for text from outside that the bot will post as its own: the suggestions of
    a /describe (a PNG's own `parameters` chunk, CLIP, a vision model, a Horde caption) pass
    the same cleaning, banned terms and moderation as a prompt. A text that fails is left
    out (never posted, never offered as "Imagine this"); with moderation on and not
    answering, nothing is let through."""

    def __init__(self, banned: BannedTerms, moderator: Moderator | None) -> None:
        self._banned = banned
        self._moderator = moderator

    async def screen(self, texts: list[str]) -> list[str]:
        kept: list[str] = []
        for text in texts:
            cleaned = user_text.clean_text(text)
            if not cleaned or cleaned in kept or self._banned.matches(cleaned):
                continue
            if self._moderator is not None:
                try:
                    if await self._moderator.flagged(cleaned):
                        continue
                except ModerationUnavailable:
                    continue
            kept.append(cleaned)
        return kept
