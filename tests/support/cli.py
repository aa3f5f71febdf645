"""The CLI end to end: the environment of an `imaginebot` subprocess against the fake OpenAI
images API, and the one row such a run writes."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.openai_images import FakeOpenAI
from tests.support import base_env, rows


def openai_env(tmp_path: Path, fake: FakeOpenAI, **extra: str) -> dict[str, str]:
    return base_env(
        tmp_path / "data",
        OPENAI_API_KEY=fake.api_key,
        OPENAI_BASE_URL=f"{fake.base_url}/v1",
        **extra,
    )


def only_row(tmp_path: Path) -> dict[str, object]:
    found = rows(tmp_path / "data" / "imaginebot.sqlite3", "SELECT * FROM generations")
    assert len(found) == 1, found
    return found[0]
