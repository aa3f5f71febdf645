"""The Telegram subprocess stack: `imaginebot run --no-worker` and `imaginebot worker` against the
fake Bot API (real long polling), the fake OpenAI images API and a private Redis; its people
and groups, and the reads the tests make of it (rows, photos, the log)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.telegram_api import Call, TelegramDriver
from tests.support import RedisServer, base_env, process, rows, served_openai, wait_for

GROUP = -100200300
OTHER_GROUP = -100999888
ALICE, BOB, ADMIN, CREATOR = 11, 12, 13, 14


class Stack:
    def __init__(
        self, root: Path, telegram: TelegramDriver, openai: FakeOpenAI, redis: str
    ) -> None:
        self.root, self.telegram, self.openai = root, telegram, openai
        self.env = base_env(
            root / "data",
            OPENAI_API_KEY=openai.api_key,
            OPENAI_BASE_URL=f"{openai.base_url}/v1",
            REDIS_URL=redis,
            MAX_PENDING_PER_USER="20",
            # These tests send many refused commands on purpose; the quiet period after a
            # refusal in a group has its own test (test_telegram_security.py).
            TELEGRAM_REFUSAL_QUIET_SECONDS="0",
            **telegram.env(),
        )
        self.db = root / "data" / "imaginebot.sqlite3"

    def log(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self.root.glob("*.log"))
        )

    def rows(self) -> list[dict[str, Any]]:
        return rows(self.db, "SELECT * FROM generations ORDER BY created_at")

    def row_replying_to(self, message: dict[str, Any]) -> dict[str, Any] | None:
        found = [r for r in self.rows() if r["reply_to_message_id"] == str(message["message_id"])]
        return found[0] if found else None

    def settled_row(self, message: dict[str, Any], seconds: float = 30) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            row = self.row_replying_to(message)
            return row if row and row["status"] in ("delivered", "failed") else None

        return wait_for(
            done, seconds, message=lambda: f"the row for {message['text']!r}\n{self.log()}"
        )  # type: ignore[no-any-return]

    def photos(self, chat_id: int) -> list[Call]:
        return self.telegram.server.run_sync(self.telegram.fake.photos_in, chat_id)


def setup_people(telegram: TelegramDriver) -> None:
    for user_id, name in ((ALICE, "alice"), (BOB, "bob"), (ADMIN, "admin"), (CREATOR, "creator")):
        telegram.add_user(user_id, name)
    telegram.add_group(
        GROUP, {ALICE: "member", BOB: "member", ADMIN: "administrator", CREATOR: "creator"}
    )
    telegram.add_group(OTHER_GROUP, {ALICE: "member", ADMIN: "member"})


@contextmanager
def running_telegram_stack(
    root: Path,
    *,
    openai: FakeOpenAI | None = None,
    redis: bool = True,
    separate_worker: bool = False,
    telegram_options: Mapping[str, Any] | None = None,
    polling_seconds: float = 30,
    **env: str,
) -> Iterator[Stack]:
    """The people of `setup_people` on a fresh fake Bot API, and the bot long polling it.

    `redis=False` runs on the embedded queue (REDIS_URL blank); `separate_worker` runs
    `imaginebot run --no-worker` and `imaginebot worker`, else one `imaginebot run`; `env`
    adds settings. Without `openai`, a fake OpenAI of its own."""
    with ExitStack() as cleanup:
        if openai is None:
            openai = cleanup.enter_context(served_openai())
        redis_url = ""
        if redis:
            server = RedisServer(root / "redis").start()
            cleanup.callback(server.stop)
            redis_url = server.url
        telegram = TelegramDriver(**(telegram_options or {})).start()
        cleanup.callback(telegram.stop)
        setup_people(telegram)
        stack = Stack(root, telegram, openai, redis_url)
        stack.env.update(env)
        if separate_worker:
            cleanup.enter_context(process(["worker"], stack.env, root, root / "worker.log"))
            cleanup.enter_context(
                process(["run", "--no-worker"], stack.env, root, root / "bot.log")
            )
        else:
            cleanup.enter_context(process(["run"], stack.env, root, root / "bot.log"))
        wait_for(telegram.polling, polling_seconds, message=lambda: f"long polling\n{stack.log()}")
        yield stack
