"""Promises about what is kept and what is refused, through the real pipeline in one process:
real SQLite, the embedded queue and worker, the real openai SDK against the fake API.

- HISTORY_RETENTION_DAYS: the housekeeping purge deletes finished rows, their image files and
  refusals older than the cut-off (the clock is the app's, moved by the test), nothing newer;
  the purge and forget-me each run in one transaction (a failing statement undoes it all).
- MODERATION=openai: a flagged prompt is refused before any image call, with a plain reason
  and a refusal row saying so. BANNED_TERMS_FILE: the same, before the moderation call.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import BotApp
from bot.core.errors import UserFacingError
from bot.core.models import ImagineCommand, ReplyTarget, Requester, Scope
from bot.settings import Settings
from tests.fakes.openai_images import FakeOpenAI
from tests.support import rows, wait_for
from tests.support.channels import RecordingChannel

pytestmark = pytest.mark.e2e

DAY = 86400.0
ALICE = Requester(platform="test", user_id="alice", display_name="Alice")
BOB = Requester(platform="test", user_id="bob", display_name="Bob")
SCOPE = Scope(platform="test", id="room")


def settings_for(tmp_path: Path, fake: FakeOpenAI, **extra: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "data",
        openai_api_key=fake.api_key,
        openai_base_url=f"{fake.base_url}/v1",
        max_pending_per_user=10,
        **extra,
    )


@pytest.fixture
async def started(tmp_path: Path, fake_openai: FakeOpenAI) -> AsyncIterator[BotApp]:
    app = await BotApp.create(settings_for(tmp_path, fake_openai, history_retention_days=90))
    yield app
    await app.close()


async def generate(app: BotApp, results: RecordingChannel, who: Requester, prompt: str) -> str:
    ticket = await app.service.imagine(
        who,
        SCOPE,
        ReplyTarget(platform="test", chat_id="room", nsfw_ok=False),
        ImagineCommand(prompt=prompt),
    )
    await results.settled(ticket.generation_id, 30)
    return ticket.generation_id


def db_rows(app: BotApp, sql: str) -> list[dict[str, Any]]:
    return rows(app.settings.database_path, sql)


async def test_retention_purges_old_rows_files_and_refusals_only(
    started: BotApp, fake_openai: FakeOpenAI
) -> None:
    app, results = started, RecordingChannel()
    app.register(results)
    await app.start(resume=False, worker=True, serve_health=False)
    old = await generate(app, results, ALICE, "an old lighthouse")
    old_failed = await generate(app, results, ALICE, "REFUSE_ME old")  # finished, no image
    await app.store.record_refusal("test", "room", "alice", "daily_limit", "old refusal")
    cut = time.time()
    await asyncio.sleep(0.01)
    new = await generate(app, results, BOB, "a new lighthouse")
    await app.store.record_refusal("test", "room", "bob", "daily_limit", "new refusal")
    before = {r["id"]: r for r in db_rows(app, "SELECT * FROM generations")}
    assert before[old]["status"] == "delivered" and before[old_failed]["status"] == "failed"
    old_file, new_file = Path(before[old]["image_path"]), Path(before[new]["image_path"])
    assert old_file.exists() and new_file.exists()

    # 90 days after `cut`: what came before it is past HISTORY_RETENTION_DAYS.
    app.clock = lambda: cut + 90 * DAY
    assert await app.purge_history() == 1  # one image file removed
    assert {r["id"] for r in db_rows(app, "SELECT id FROM generations")} == {new}
    assert not old_file.exists()
    assert new_file.exists() and new_file.read_bytes() == fake_openai.images[-1]
    assert [r["reason"] for r in db_rows(app, "SELECT reason FROM refusals")] == ["new refusal"]


async def test_housekeeping_purges_with_the_apps_clock(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    app = await BotApp.create(settings_for(tmp_path, fake_openai, history_retention_days=90))
    results = RecordingChannel()
    app.register(results)
    await app.start(resume=False, worker=True, serve_health=False)
    try:
        old = await generate(app, results, ALICE, "a lighthouse")
        path = Path(db_rows(app, "SELECT image_path FROM generations")[0]["image_path"])
    finally:
        await app.close()
    # A day short of the retention: kept.
    app = await BotApp.create(app.settings)
    app.clock = lambda: time.time() + 89 * DAY
    try:
        assert await app.purge_history() == 0
        assert [r["id"] for r in db_rows(app, "SELECT id FROM generations")] == [old]
    finally:
        await app.close()
    # Past it: the first housekeeping round after the start purges row and file.
    app = await BotApp.create(app.settings)
    app.clock = lambda: time.time() + 91 * DAY
    await app.start(resume=True, worker=False, serve_health=False)
    try:
        await asyncio.to_thread(
            wait_for, lambda: not db_rows(app, "SELECT id FROM generations"), 10
        )
        assert not path.exists()
    finally:
        await app.close()


def fail_deletes_of(db: Path, table: str) -> None:
    """A trigger that makes every DELETE on `table` fail, as a full disk or a bug would."""
    connection = sqlite3.connect(db)
    connection.execute(
        f"CREATE TRIGGER fail_{table} BEFORE DELETE ON {table} "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
    )
    connection.commit()
    connection.close()


async def test_purge_and_forget_me_each_run_in_one_transaction(
    started: BotApp, fake_openai: FakeOpenAI
) -> None:
    app, results = started, RecordingChannel()
    app.register(results)
    await app.start(resume=False, worker=True, serve_health=False)
    await generate(app, results, ALICE, "a lighthouse")
    await app.service.set_user_style(ALICE, "anime")
    await app.store.record_refusal("test", "room", "alice", "daily_limit", "a refusal")
    path = Path(db_rows(app, "SELECT image_path FROM generations")[0]["image_path"])
    db = app.settings.database_path

    # The refusals are deleted after the rows: when that fails, the rows come back too.
    fail_deletes_of(db, "refusals")
    app.clock = lambda: time.time() + 91 * DAY
    with pytest.raises(sqlite3.IntegrityError, match="injected failure"):
        await app.purge_history()
    assert len(db_rows(app, "SELECT id FROM generations")) == 1 and path.exists()
    with pytest.raises(sqlite3.IntegrityError):
        await app.service.forget_user(ALICE)
    assert len(db_rows(app, "SELECT id FROM generations")) == 1 and path.exists()

    sqlite3.connect(db).execute("DROP TRIGGER fail_refusals").connection.close()
    fail_deletes_of(db, "user_settings")  # the last of forget-me's three deletes
    with pytest.raises(sqlite3.IntegrityError):
        await app.service.forget_user(ALICE)
    assert len(db_rows(app, "SELECT id FROM generations")) == 1
    assert len(db_rows(app, "SELECT id FROM refusals")) == 1 and path.exists()

    sqlite3.connect(db).execute("DROP TRIGGER fail_user_settings").connection.close()
    assert await app.service.forget_user(ALICE) == 1
    for table in ("generations", "refusals", "user_settings"):
        assert db_rows(app, f"SELECT * FROM {table}") == [], table
    assert not path.exists()


async def test_flagged_prompt_is_refused_before_any_image_call(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    app = await BotApp.create(settings_for(tmp_path, fake_openai, moderation="openai"))
    results = RecordingChannel()
    app.register(results)
    await app.start(resume=False, worker=True, serve_health=False)
    try:
        with pytest.raises(UserFacingError) as refused:
            await app.service.imagine(
                ALICE,
                SCOPE,
                ReplyTarget(platform="test", chat_id="room", nsfw_ok=False),
                ImagineCommand(prompt="a FLAG_ME scene", negative_prompt="blur"),
            )
        assert refused.value.message == (
            "The content check flagged this prompt, so it was not queued."
        )
        assert fake_openai.moderation_inputs == ["a FLAG_ME scene blur"]
        assert fake_openai.calls == []  # no image call
        assert db_rows(app, "SELECT * FROM generations") == []
        (refusal,) = db_rows(app, "SELECT * FROM refusals")
        assert refusal["user_id"] == "alice" and refusal["code"] == "content_refused"
        assert refusal["reason"] == refused.value.message
        # A clean prompt is checked, then generated.
        await generate(app, results, ALICE, "a quiet harbour")
        assert fake_openai.moderation_inputs[-1] == "a quiet harbour"
        assert len(fake_openai.calls) == 1
    finally:
        await app.close()


async def test_banned_terms_file_refuses_through_submit(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    terms = tmp_path / "banned.txt"
    terms.write_text("# one rule a line\ncastle\nre:drag+on\n", encoding="utf-8")
    app = await BotApp.create(
        settings_for(tmp_path, fake_openai, banned_terms_file=terms, moderation="openai")
    )
    results = RecordingChannel()
    app.register(results)
    await app.start(resume=False, worker=True, serve_health=False)
    target = ReplyTarget(platform="test", chat_id="room", nsfw_ok=False)
    try:
        for prompt in ("a CASTLE at night", "a draggggon"):
            with pytest.raises(UserFacingError) as refused:
                await app.service.imagine(ALICE, SCOPE, target, ImagineCommand(prompt=prompt))
            message = refused.value.message
            assert message == "This prompt uses words that are not allowed on this bot."
            assert "castle" not in message.lower() and "drag" not in message.lower()
        # Refused before the (free) moderation call and before any image call.
        assert fake_openai.moderation_inputs == [] and fake_openai.calls == []
        assert db_rows(app, "SELECT * FROM generations") == []
        assert [r["code"] for r in db_rows(app, "SELECT code FROM refusals")] == [
            "content_refused"
        ] * 2
        # Whole words only: "castles" is not "castle".
        await generate(app, results, ALICE, "sand castles")
        assert len(fake_openai.calls) == 1
    finally:
        await app.close()


async def test_a_request_waiting_past_max_request_age_is_cancelled_and_told(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    settings = settings_for(tmp_path, fake_openai, max_request_age_seconds=60)
    app = await BotApp.create(settings)
    results = RecordingChannel()
    app.register(results)
    await app.start(resume=False, worker=False, serve_health=False)  # nobody generates
    try:
        ticket = await app.service.imagine(
            ALICE,
            SCOPE,
            ReplyTarget(platform="test", chat_id="room", nsfw_ok=False),
            ImagineCommand(prompt="x"),
        )
        assert await app.housekeeping.expire_stale(settings.max_request_age_seconds) == 0
        # Two minutes later (the row's age is what counts): cancelled, and the requester told.
        sqlite3.connect(settings.database_path).execute(
            "UPDATE generations SET created_at = created_at - 120"
        ).connection.commit()
        assert await app.housekeeping.expire_stale(settings.max_request_age_seconds) == 1
        await results.settled(ticket.generation_id, 10)
    finally:
        await app.close()
    (row,) = rows(settings.database_path, "SELECT * FROM generations")
    assert row["status"] == "failed" and row["failure_code"] == "expired"
    assert row["failure_reason"] == (
        "This request waited more than 1 minute and was cancelled. Please try again."
    )
    assert fake_openai.calls == []


async def test_prompts_are_logged_only_at_debug(
    tmp_path: Path, fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    app = await BotApp.create(settings_for(tmp_path, fake_openai))
    results = RecordingChannel()
    app.register(results)
    await app.start(resume=False, worker=True, serve_health=False)
    try:
        # Our loggers (the libraries' are held at WARNING by the CLI's logging set-up).
        def ours() -> str:
            return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot"))

        with caplog.at_level("INFO", logger="bot"):
            await generate(app, results, ALICE, "an info-level lighthouse")
        assert "generation" in ours() and "info-level lighthouse" not in ours()
        with caplog.at_level("DEBUG", logger="bot"):
            await generate(app, results, ALICE, "a debug-level lighthouse")
        assert "'a debug-level lighthouse'" in ours()
    finally:
        await app.close()
