"""The store's behaviour, the same on SQLite and PostgreSQL (each test runs on both)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import pytest

from bot.core.models import Kind, Status
from bot.core.store import ScopeRow, Store
from bot.core.store.base import migration_files, migrations_dir
from tests.support.store_rows import done, values


async def test_insert_and_read_back_every_field(store: Store) -> None:
    prompt = "what? 'quoted' $1 ?; DROP TABLE generations; --"
    inserted = await store.insert_generation(
        values(prompt=prompt, seed=2**40, negative_prompt="blur", thread_id="3")
    )
    read = await store.get(inserted.id)
    assert read == inserted
    assert read is not None
    assert read.prompt == prompt and read.seed == 2**40 and read.thread_id == "3"
    assert read.handle == {"status_message_id": 9} and read.status is Status.QUEUED
    assert read.delivery_attempts == 0 and read.provider_calls == 0
    assert await store.get("missing") is None


async def test_insert_is_idempotent_on_the_id(store: Store) -> None:
    first = await store.insert_generation(values(prompt="first"))
    again = await store.insert_generation(values(id=first.id, prompt="second"))
    assert again == first
    assert (await store.count_by_status()) == {"queued": 1}


async def test_every_field_of_a_new_row_is_stored_and_read_back(store: Store) -> None:
    parent = await store.insert_generation(values())
    row = values(
        status=Status.RUNNING,
        thread_id="5",
        negative_prompt="fog",
        parent_id=parent.id,
        handle={"status_message_id": 3, "nsfw_ok": True},
        kind=Kind.REMIX,
        count=4,
        parent_index=2,
        input_path="/data/images/x-input.png",
        strength=0.35,
        suggestions=("a cat", "a dog"),
        edit_note="zoomed out 2x",
    )
    read = await store.insert_generation(row)
    for name, value in dataclasses.asdict(row).items():
        assert getattr(read, name) == value, name


async def test_status_changes_only_move_forward(store: Store) -> None:
    gen = await store.insert_generation(values())
    running = await store.mark_running(gen.id, "openai")
    assert running is not None and running.status is Status.RUNNING and running.provider == "openai"
    await done(store, gen.id, "/data/images/a.png")
    delivered = await store.mark_delivered(gen.id)
    assert delivered is not None and delivered.status is Status.DELIVERED
    assert delivered.delivered_at is not None and delivered.image_path == "/data/images/a.png"
    # A replayed event cannot move a delivered row back, or fail it.
    assert await store.mark_running(gen.id, None) is None
    assert await store.mark_delivered(gen.id) is None
    assert await store.mark_failed(gen.id, "timeout", "late") is None
    final = await store.get(gen.id)
    assert final is not None and final.status is Status.DELIVERED


async def test_mark_done_keeps_the_seed_when_none_is_given(store: Store) -> None:
    gen = await store.insert_generation(values(seed=77))
    await done(store, gen.id)
    stored = await store.get(gen.id)
    assert stored is not None and stored.seed == 77
    assert (stored.image_width, stored.image_height) == (1024, 1024)


async def test_a_done_row_may_still_fail_delivery(store: Store) -> None:
    gen = await store.insert_generation(values())
    await done(store, gen.id)
    failed = await store.mark_failed(gen.id, "undeliverable", "chat gone", provider_calls=2)
    assert failed is not None and failed.status is Status.FAILED
    assert (failed.failure_code, failed.failure_reason, failed.provider_calls) == (
        "undeliverable",
        "chat gone",
        2,
    )


async def test_delivery_attempts_are_counted(store: Store) -> None:
    gen = await store.insert_generation(values())
    assert await store.record_delivery_attempt(gen.id, "429") == 1
    assert await store.record_delivery_attempt(gen.id, None) == 2
    stored = await store.get(gen.id)
    assert stored is not None and stored.delivery_attempts == 2 and stored.delivery_error is None
    assert await store.record_delivery_attempt("missing", "x") == 0


async def test_handle_merges_keep_nulls_and_lose_no_concurrent_key(store: Store) -> None:
    gen = await store.insert_generation(values())
    await store.update_handle(gen.id, {"fallback_sent_at": 12.5, "note": 'it\'s "quoted"'})
    await store.update_handle(gen.id, {"fallback_sent_at": None})
    await asyncio.gather(*(store.update_handle(gen.id, {f"k{i}": i}) for i in range(20)))
    stored = await store.get(gen.id)
    assert stored is not None
    expected: dict[str, Any] = {"status_message_id": 9, "fallback_sent_at": None}
    expected |= {"note": 'it\'s "quoted"'} | {f"k{i}": i for i in range(20)}
    assert stored.handle == expected


async def test_single_use_handle_keys_are_taken_by_exactly_one(store: Store) -> None:
    """Issue 26.6: two quick answers to one Remix prompt both read the key before either
    cleared it. Compare-and-clear (and set-if-unset) in one statement: one winner."""
    gen = await store.insert_generation(values())
    key = "remix_prompt:1234"
    await store.update_handle(gen.id, {key: "42"})
    assert not await store.take_handle_value(gen.id, key, "43")  # someone else's prompt
    taken = await asyncio.gather(*(store.take_handle_value(gen.id, key, "42") for _ in range(8)))
    assert sorted(taken) == [False] * 7 + [True]
    stored = await store.get(gen.id)
    assert stored is not None and key not in stored.handle
    claimed = await asyncio.gather(
        *(store.claim_handle_key(gen.id, "sent_at", float(i)) for i in range(8))
    )
    assert claimed.count(True) == 1
    await store.update_handle(gen.id, {"sent_at": None})  # cleared after a refused send
    assert await store.claim_handle_key(gen.id, "sent_at", 1.0)
    assert not await store.take_handle_value("missing", key, "42")


async def test_history_is_newest_first_and_filters_by_scope(store: Store) -> None:
    now = time.time()
    for i, scope in enumerate(["a", "b", "a", "a"]):
        await store.insert_generation(values(scope_id=scope, prompt=f"p{i}", created_at=now + i))
    await store.insert_generation(values(user_id="other", created_at=now + 10))
    assert [g.prompt for g in await store.history("telegram", "42")] == ["p3", "p2", "p1", "p0"]
    assert [g.prompt for g in await store.history("telegram", "42", 2)] == ["p3", "p2"]
    in_a = await store.history("telegram", "42", scope_id="a")
    assert [g.prompt for g in in_a] == ["p3", "p2", "p0"]
    assert await store.history("discord", "42") == []


async def test_queries_for_start_up_and_quotas(store: Store) -> None:
    now = time.time()
    old = await store.insert_generation(values(created_at=now - 7200))
    queued = await store.insert_generation(values(user_id="7", scope_id="s"))
    finished = await store.insert_generation(values())
    await done(store, finished.id)
    lost = await store.insert_generation(values())
    await store.mark_failed(lost.id, "queue_unavailable", "no queue")
    assert await store.count_by_status() == {"queued": 2, "done": 1, "failed": 1}
    assert sorted(await store.pending()) == sorted(
        [(old.id, "telegram", "42"), (queued.id, "telegram", "7")]
    )
    assert [g.id for g in await store.unfinished()] == [old.id, queued.id, finished.id]
    assert [g.id for g in await store.stale(now - 3600)] == [old.id]
    accepted = await store.accepted_since(now - 60)
    assert sorted(accepted) == sorted([("telegram", "7", "s"), ("telegram", "42", "-100")])


async def test_delete_and_parent_links(store: Store) -> None:
    parent = await store.insert_generation(values())
    child = await store.insert_generation(values(parent_id=parent.id))
    assert await store.delete(parent.id) is True
    assert await store.delete(parent.id) is False
    orphan = await store.get(child.id)
    assert orphan is not None and orphan.parent_id is None


async def test_purge_keeps_unfinished_rows_and_returns_image_paths(store: Store) -> None:
    old = time.time() - 100 * 86400
    delivered = await store.insert_generation(values(created_at=old))
    await done(store, delivered.id, "/data/images/old.png")
    await store.mark_delivered(delivered.id)
    failed = await store.insert_generation(values(created_at=old))
    await store.mark_failed(failed.id, "refused", "no")
    waiting = await store.insert_generation(values(created_at=old))
    recent = await store.insert_generation(values())
    await store.mark_failed(recent.id, "refused", "no")
    await store.record_refusal("telegram", "-100", "42", "limit_reached", "old refusal")
    cutoff = time.time() - 1
    assert await store.purge_before(old + 1) == ["/data/images/old.png"]
    assert await store.get(delivered.id) is None and await store.get(failed.id) is None
    assert await store.get(waiting.id) is not None and await store.get(recent.id) is not None
    assert len(await store.recent_refusals("telegram", "-100")) == 2
    await store.purge_before(cutoff + 10)
    remaining = await store.recent_refusals("telegram", "-100")
    assert remaining == []


async def test_forget_user_removes_only_that_user(store: Store) -> None:
    mine = await store.insert_generation(values())
    await done(store, mine.id, "/data/images/mine.png")
    theirs = await store.insert_generation(values(user_id="9"))
    await store.record_refusal("telegram", "-100", "42", "banned_term", "mine")
    await store.record_refusal("telegram", "-100", "9", "banned_term", "theirs")
    await store.set_user_style("telegram", "42", "anime")
    await store.set_user_style("telegram", "9", "photo")
    await store.set_scope_nsfw("telegram", "-100", True)
    assert await store.forget_user("telegram", "42") == ["/data/images/mine.png"]
    assert await store.get(mine.id) is None and await store.get(theirs.id) is not None
    assert [r.reason for r in await store.recent_refusals("telegram", "-100")] == ["theirs"]
    assert await store.user_style("telegram", "42") is None
    assert await store.user_style("telegram", "9") == "photo"
    assert await store.scope_nsfw("telegram", "-100") is True


async def test_forget_user_takes_what_others_made_from_their_prompt_or_picture(
    store: Store,
) -> None:
    """Issue 26.3: Bob's reroll of Alice's image-to-image picture copied her upload and her
    prompt into his row; after her /forget_me both stayed, in the gallery too."""
    alice = await store.insert_generation(
        values(prompt="alice's secret garden", input_path="/data/images/a-input.png")
    )
    reroll = await store.insert_generation(
        values(
            user_id="9", parent_id=alice.id, kind="reroll", input_path="/data/images/r-input.png"
        )
    )
    upscale = await store.insert_generation(
        values(user_id="8", parent_id=reroll.id, kind="upscale")  # made from the reroll
    )
    remix_with_her_picture = await store.insert_generation(
        values(user_id="9", parent_id=alice.id, kind="remix", input_path="/data/images/m-input.png")
    )
    own_remix = await store.insert_generation(
        values(user_id="9", parent_id=alice.id, kind="remix", prompt="bob's own words")
    )
    after_own = await store.insert_generation(
        values(user_id="8", parent_id=own_remix.id, kind="reroll", prompt="bob's own words")
    )
    unrelated = await store.insert_generation(values(user_id="9", prompt="bob's lake"))
    paths = await store.forget_user("telegram", "42")
    assert sorted(paths) == [
        "/data/images/a-input.png",
        "/data/images/m-input.png",
        "/data/images/r-input.png",
    ]
    for gone in (alice, reroll, upscale, remix_with_her_picture):
        assert await store.get(gone.id) is None, gone.kind
    for kept in (own_remix, after_own, unrelated):
        assert await store.get(kept.id) is not None, kept.prompt
    remaining = [await store.get(g.id) for g in (own_remix, after_own, unrelated)]
    assert not any(g is not None and "alice" in g.prompt for g in remaining)


async def test_a_failed_transaction_keeps_nothing(store: Store) -> None:
    async def half(tx: Any) -> None:
        await tx.execute("DELETE FROM state WHERE key = ?", ("a",))
        await tx.execute(
            "INSERT INTO state (key, value) VALUES (?, ?)", ("b", "written before the error")
        )
        raise RuntimeError("stop")

    await store.set_state("a", "kept")
    with pytest.raises(RuntimeError):
        await store.transaction(half)
    assert await store.get_state("a") == "kept"
    assert await store.get_state("b") is None


async def test_refusals_join_provider_refusals_newest_first(store: Store) -> None:
    await store.record_refusal("telegram", "-100", "42", "limit_reached", "too many")
    await asyncio.sleep(0.01)
    censored = await store.insert_generation(values())
    await store.mark_failed(censored.id, "censored", "the provider said no")
    await asyncio.sleep(0.01)
    await store.record_refusal("telegram", "-100", "43", "banned_term", "a banned word")
    await store.record_refusal("telegram", "-200", "42", "limit_reached", "other scope")
    other = await store.insert_generation(values())
    await store.mark_failed(other.id, "timeout", "not a refusal")
    found = await store.recent_refusals("telegram", "-100")
    assert [(r.user_id, r.code, r.reason) for r in found] == [
        ("43", "banned_term", "a banned word"),
        ("42", "censored", "the provider said no"),
        ("42", "limit_reached", "too many"),
    ]
    assert len(await store.recent_refusals("telegram", "-100", limit=1)) == 1


async def test_scope_settings_are_read_in_one_query_and_set_independently(store: Store) -> None:
    assert await store.scope_row("discord", "g1") == ScopeRow()
    await store.set_scope_settings("discord", "g1", "anime", ["anime", "photo"])
    await store.set_scope_nsfw("discord", "g1", True)
    await store.set_scope_limits("discord", "g1", 5, 50)
    await store.set_scope_pending_limit("discord", "g1", 1)
    queries: list[str] = []
    original = store.fetch

    async def counting(sql: str, params: Any = ()) -> list[Any]:
        queries.append(sql)
        return await original(sql, params)

    store.fetch = counting  # type: ignore[method-assign]
    row = await store.scope_row("discord", "g1")
    assert len(queries) == 1
    assert row == ScopeRow("anime", ("anime", "photo"), True, 5, 50, 1)
    await store.set_scope_settings("discord", "g1", None, [])
    await store.set_scope_limits("discord", "g1", None, None)
    assert await store.scope_settings("discord", "g1") == (None, [])
    assert await store.scope_limits("discord", "g1") == (None, None)
    assert await store.scope_nsfw("discord", "g1") is True
    assert await store.scope_pending_limit("discord", "g1") == 1
    assert await store.scope_row("discord", "g2") == ScopeRow()


async def test_user_settings_and_state(store: Store) -> None:
    assert await store.user_style("discord", "1") is None
    await store.set_user_style("discord", "1", "anime")
    await store.set_user_style("discord", "1", "photo")
    assert await store.user_style("discord", "1") == "photo"
    await store.set_user_style("discord", "1", None)
    assert await store.user_style("discord", "1") is None
    assert await store.get_state("sync") is None
    await store.set_state("sync", '{"digest": "a"}')
    await store.set_state("sync", '{"digest": "b"}')
    assert await store.get_state("sync") == '{"digest": "b"}'


async def test_migrations_are_recorded_and_run_once(store: Store) -> None:
    latest = migration_files(migrations_dir())[-1][0]
    assert await store.schema_version() == latest
    assert await store.migrate() == []
    assert await store.schema_version() == latest


def test_each_sqlite_migration_has_a_postgresql_twin() -> None:
    sqlite_versions = [(v, f.name) for v, f in migration_files(migrations_dir())]
    postgres_versions = [(v, f.name) for v, f in migration_files(migrations_dir() / "postgres")]
    assert sqlite_versions == postgres_versions


async def test_a_chat_moves_to_its_new_id_in_one_go_and_twice_is_a_no_op(
    store: Store, store_url: str
) -> None:
    """A basic group upgraded to a supergroup: rows, settings and refusals follow the new id;
    a second bot process moving it at the same moment moves nothing twice."""
    old, new = "-4001", "-1004001"
    delivered = await store.insert_generation(values(scope_id=old, chat_id=old))
    await done(store, delivered.id)
    await store.mark_delivered(delivered.id)
    waiting = await store.insert_generation(values(scope_id=old, chat_id=old))
    elsewhere = await store.insert_generation(values(scope_id="-5", chat_id="-5"))
    await store.set_scope_settings("telegram", old, "sketch", ["sketch", "anime"])
    await store.set_scope_limits("telegram", old, 7, 30)
    await store.record_refusal("telegram", old, "42", "banned", "no")
    other = await Store.open(store_url)
    try:
        first, second = await asyncio.gather(
            store.move_chat("telegram", old, new), other.move_chat("telegram", old, new)
        )
    finally:
        await other.close()
    assert sorted([first.rows, second.rows]) == [0, 2]
    moved = await store.get(waiting.id)
    assert moved is not None and (moved.chat_id, moved.scope_id) == (new, new)
    # The old chat's message ids mean nothing in the new one.
    assert moved.handle.get("status_message_id") is None
    assert moved.handle.get("moved_from_chat") == old
    kept = await store.get(delivered.id)
    assert kept is not None and kept.status is Status.DELIVERED and kept.scope_id == new
    assert (await store.get(elsewhere.id)).chat_id == "-5"  # type: ignore[union-attr]
    row = await store.scope_row("telegram", new)
    assert (row.default_style, row.allowed_styles) == ("sketch", ("sketch", "anime"))
    assert (row.daily_limit_per_user, row.daily_limit_per_scope) == (7, 30)
    assert await store.scope_row("telegram", old) == ScopeRow()
    assert [r.reason for r in await store.recent_refusals("telegram", new)] == ["no"]
    assert await store.waiting_in_scope("telegram", new) == [waiting.id]
    again = await store.move_chat("telegram", old, new)
    assert not again.anything
