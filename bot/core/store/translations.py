"""The shared cache of prompt translations (migration 012): one translation of a text per
model, read by every bot process and kept across restarts.

A text is found by its SHA-256 (`text_key`), so the cache does not hold the words as written;
its English is the user's words all the same, so it goes with the history's retention and
with /forget_me (`Store.forget_user` removes the entries of the texts it deletes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from bot.core.store.executor import Executor


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TranslationQueries(Executor):
    async def cached_translation(self, text: str, model: str) -> str | None:
        rows = await self.fetch(
            "SELECT english FROM prompt_translations WHERE key = ? AND model = ?",
            (text_key(text), model),
        )
        return str(rows[0][0]) if rows else None

    async def cache_translation(self, text: str, model: str, english: str, at: float) -> None:
        """Keep `english` for `text`; a second process's answer for it replaces the first."""
        await self.execute(
            "INSERT INTO prompt_translations (key, model, english, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (key, model) DO UPDATE SET "
            "english = excluded.english, created_at = excluded.created_at",
            (text_key(text), model, english, float(at)),
        )


async def forget_translations(tx: Executor, texts: Iterable[str | None]) -> None:
    """Drop the cached translations of these texts (whatever the model)."""
    for key in sorted({text_key(t) for t in texts if t}):
        await tx.execute("DELETE FROM prompt_translations WHERE key = ?", (key,))
