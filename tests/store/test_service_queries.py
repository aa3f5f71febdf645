"""What one request costs the store, on SQLite and PostgreSQL: each round trip counts on a
database across the network, so the scope's settings and limits are read in one query each
time they are needed, and the row is written once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.core.models import ImagineCommand
from bot.core.requests.service import GenerationService
from bot.core.store import Store
from tests.support.service import ALICE, GUILD, TARGET, build_service


@pytest.fixture
async def service(store: Store, tmp_path: Path) -> GenerationService:
    return await build_service(tmp_path, store=store)


async def test_a_request_reads_its_scope_once(
    service: GenerationService, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.set_scope_limits(GUILD.platform, GUILD.id, 5, None)
    await store.set_scope_pending_limit(GUILD.platform, GUILD.id, 1)
    # As the bot does at start: today's counts are rebuilt once a day, not per request.
    await service.load_quotas()
    # The scope's catalogue of its own styles is cached: read once per scope and process
    # (and again after a style changes), not per request.
    await service.style_catalogue(GUILD)
    statements: list[str] = []
    fetch, execute = store.fetch, store.execute

    async def counted_fetch(sql: str, params: Any = ()) -> list[Any]:
        statements.append(sql)
        return await fetch(sql, params)

    async def counted_execute(sql: str, params: Any = ()) -> int:
        statements.append(sql)
        return await execute(sql, params)

    monkeypatch.setattr(store, "fetch", counted_fetch)
    monkeypatch.setattr(store, "execute", counted_execute)
    ticket = await service.submit(
        await service.prepare(ALICE, GUILD, ImagineCommand(prompt="a lighthouse")), TARGET
    )
    # The scope's row, with the person's own language joined to it (issue 29).
    scope_reads = [s for s in statements if "scope_settings" in s]
    inserts = [s for s in statements if s.startswith("INSERT INTO generations")]
    # One read of the scope's row: its style rules, NSFW switch and limits, for preparing
    # and for reserving, and the requester's language with it.
    assert len(scope_reads) == 1, statements
    assert "user_settings" in scope_reads[0]
    assert len(inserts) == 1 and len(statements) <= 3, statements
    # The scope's own limits were applied: its one pending slot is now taken.
    with pytest.raises(Exception, match="the limit is 1"):
        await service.prepare(ALICE, GUILD, ImagineCommand(prompt="another"))
    assert await store.get(ticket.generation_id) is not None
