"""The bot on PostgreSQL: DATABASE_URL names a fresh database on the machine's server.

`imaginebot run --no-worker` and `imaginebot worker` as subprocesses, a private Redis, the fake
Bot API and the fake images API: the picture reaches the chat and the history row, settings and
state live in PostgreSQL, with no SQLite file under DATA_DIR.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.store.base import migration_files, migrations_dir
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.telegram_api import TelegramDriver, photo_bytes
from tests.support import RedisServer, base_env, process, run_cli, wait_for
from tests.support.postgres import database, pg_rows

pytestmark = pytest.mark.e2e

GROUP, ALICE, ADMIN = -100200300, 11, 13


def test_telegram_bot_on_postgresql_delivers_the_picture(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    telegram = TelegramDriver().start()
    telegram.add_user(ALICE, "alice")
    telegram.add_user(ADMIN, "admin")
    telegram.add_group(GROUP, {ALICE: "member", ADMIN: "administrator"})
    logs = lambda: "\n".join(p.read_text(errors="replace")[-3000:] for p in tmp_path.glob("*.log"))  # noqa: E731
    try:
        with database() as url:
            env = base_env(
                tmp_path / "data",
                DATABASE_URL=url,
                OPENAI_API_KEY=fake_openai.api_key,
                OPENAI_BASE_URL=f"{fake_openai.base_url}/v1",
                REDIS_URL=redis_server.url,
                **telegram.env(),
            )
            with (
                process(["worker"], env, tmp_path, tmp_path / "worker.log"),
                process(["run", "--no-worker"], env, tmp_path, tmp_path / "bot.log"),
            ):
                wait_for(telegram.polling, 30, message=lambda: f"long polling\n{logs()}")
                accepted = telegram.send(GROUP, ADMIN, "/setstyle sketch")
                wait_for(
                    lambda: telegram.replies_to(accepted),
                    15,
                    message=lambda: f"an answer\n{logs()}",
                )
                command = telegram.send(GROUP, ALICE, "/imagine a harbour at night")

                def delivered() -> list[dict[str, object]]:
                    return pg_rows(
                        url,
                        "SELECT * FROM generations WHERE reply_to_message_id = $1 "
                        "AND status = 'delivered'",
                        str(command["message_id"]),
                    )

                (row,) = wait_for(delivered, 40, message=lambda: f"the delivered row\n{logs()}")
                photos = telegram.server.run_sync(telegram.fake.photos_in, GROUP)
                assert len(photos) == 1
                assert photo_bytes(photos[0]) == fake_openai.images[0]
                assert row["style"] == "sketch" and row["user_id"] == str(ALICE)
                stored = Path(str(row["image_path"]))
                assert stored.parent == tmp_path / "data" / "images"
                assert stored.read_bytes() == fake_openai.images[0]
                settings = pg_rows(
                    url, "SELECT default_style FROM scope_settings WHERE scope_id = $1", str(GROUP)
                )
                assert settings == [{"default_style": "sketch"}]
                versions = pg_rows(url, "SELECT version FROM schema_version ORDER BY version")
                expected = [v for v, _ in migration_files(migrations_dir() / "postgres")]
                assert [v["version"] for v in versions] == expected
    finally:
        telegram.stop()
    assert not (tmp_path / "data" / "imaginebot.sqlite3").exists()


def test_imagine_on_postgresql(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    out = tmp_path / "out.png"
    with database() as url:
        env = base_env(
            tmp_path / "data",
            DATABASE_URL=url,
            OPENAI_API_KEY=fake_openai.api_key,
            OPENAI_BASE_URL=f"{fake_openai.base_url}/v1",
        )
        result = run_cli(["imagine", "a red fox", "-o", str(out)], env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert out.read_bytes() == fake_openai.images[0]
        (row,) = pg_rows(url, "SELECT status, prompt, provider FROM generations")
        assert row == {"status": "delivered", "prompt": "a red fox", "provider": "openai"}
    assert not (tmp_path / "data" / "imaginebot.sqlite3").exists()


def test_an_unreachable_database_stops_the_start_in_one_sentence(tmp_path: Path) -> None:
    from tests.support import free_port

    port = free_port()
    env = base_env(
        tmp_path / "data",
        DATABASE_URL=f"postgresql://postgres:hunter2-secret@127.0.0.1:{port}/bot",
        OPENAI_API_KEY="sk-test-" + "x" * 20,
    )
    result = run_cli(["imagine", "a red fox"], env, cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert f"PostgreSQL did not answer at 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr


def test_killed_after_the_picture_was_posted_a_restart_on_postgresql_posts_it_once(
    tmp_path: Path, fake_openai: FakeOpenAI, redis_server: RedisServer
) -> None:
    """The crash window of test_crash_windows.py (the chat has the picture, the row still says
    `done`) with PostgreSQL as the record: the next bot process finishes it, one picture."""
    import signal

    telegram = TelegramDriver().start()
    telegram.add_user(ALICE, "alice")
    telegram.add_group(GROUP, {ALICE: "member"})
    logs = lambda: "\n".join(p.read_text(errors="replace")[-3000:] for p in tmp_path.glob("*.log"))  # noqa: E731

    def pictures() -> int:
        fake = telegram.fake
        return telegram.server.run_sync(
            lambda: sum(
                1 for (chat, _m), m in fake.messages.items() if chat == GROUP and "photo" in m
            )
        )

    try:
        with database() as url:
            env = base_env(
                tmp_path / "data",
                DATABASE_URL=url,
                OPENAI_API_KEY=fake_openai.api_key,
                OPENAI_BASE_URL=f"{fake_openai.base_url}/v1",
                REDIS_URL=redis_server.url,
                **telegram.env(),
            )
            faulty = {**env, "IMAGINEBOT_FAULT": "after_deliver"}
            with process(["run"], faulty, tmp_path, tmp_path / "bot1.log") as bot:
                wait_for(telegram.polling, 30, message=lambda: f"long polling\n{logs()}")
                command = telegram.send(GROUP, ALICE, "/imagine a lantern in the fog")
                assert bot.wait(30) == -signal.SIGKILL, logs()
            (crashed,) = pg_rows(url, "SELECT status FROM generations")
            assert crashed["status"] == "done" and pictures() == 1
            with process(["run"], env, tmp_path, tmp_path / "bot2.log"):

                def settled() -> list[dict[str, object]]:
                    return pg_rows(
                        url,
                        "SELECT status, reply_to_message_id FROM generations "
                        "WHERE status IN ('delivered', 'failed')",
                    )

                (final,) = wait_for(settled, 40, message=lambda: f"the request to settle\n{logs()}")
            assert final == {
                "status": "delivered",
                "reply_to_message_id": str(command["message_id"]),
            }
            assert pictures() == 1 and len(fake_openai.calls) == 1
            assert len(pg_rows(url, "SELECT id FROM generations")) == 1
    finally:
        telegram.stop()
