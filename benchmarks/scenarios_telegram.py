"""Scenarios driven through the fake Telegram Bot API: burst, paced and the platform limit.

They run only once the fake Telegram (tests/fakes/telegram_api.py) and the Telegram adapter
(bot/adapters/telegram/) exist; otherwise each reports {"scenario": ..., "skipped": reason}.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def unavailable() -> str | None:
    missing = [
        p
        for p in ("tests/fakes/telegram_api.py", "bot/adapters/telegram/adapter.py")
        if not (ROOT / p).exists()
    ]
    return f"not run: {', '.join(missing)} not in the tree yet" if missing else None


def burst(root: Path, quick: bool, profile: Path | None = None) -> dict[str, Any]:
    return {"scenario": "burst_telegram", "skipped": unavailable() or "not written yet"}


def paced(root: Path, quick: bool, profile: Path | None = None) -> dict[str, Any]:
    return {"scenario": "paced_telegram", "skipped": unavailable() or "not written yet"}


def platform_limit(root: Path, quick: bool, profile: Path | None = None) -> dict[str, Any]:
    return {"scenario": "telegram_platform_limit", "skipped": unavailable() or "not written yet"}
