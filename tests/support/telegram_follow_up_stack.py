"""The Telegram subprocess stack for follow-ups and pictures: the bot and a worker against the fake
Bot API, the fake AUTOMATIC1111 API (batch, img2img, upscaler, interrogation) and a private Redis."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from tests.fakes.sdwebui_api import FakeSDWebUI
from tests.fakes.server import ServerThread
from tests.fakes.telegram_api import Call, TelegramDriver
from tests.support import RedisServer, base_env, process, rows, wait_for

ALICE, BOB, ADMIN = 21, 22, 23


class Stack:
    def __init__(self, root: Path, telegram: TelegramDriver, sd: FakeSDWebUI, env: dict[str, str]):
        self.root, self.telegram, self.sd, self.env = root, telegram, sd, env
        self.db = root / "data" / "imaginebot.sqlite3"
        self.processes = ExitStack()
        self.bot_runs = 0

    def start_bot(self) -> None:
        self.bot_runs += 1
        self.bot = self.processes.enter_context(
            process(
                ["run", "--no-worker"], self.env, self.root, self.root / f"bot{self.bot_runs}.log"
            )
        )
        polls = len(self.telegram.fake.calls_to("getUpdates", ok=None))
        wait_for(
            lambda: len(self.telegram.fake.calls_to("getUpdates", ok=None)) > polls,
            30,
            message=lambda: f"long polling\n{self.log()}",
        )

    def stop_bot(self) -> None:
        self.bot.terminate()
        self.bot.wait(20)

    def log(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self.root.glob("*.log"))
        )

    def rows(self) -> list[dict[str, Any]]:
        return rows(self.db, "SELECT * FROM generations ORDER BY created_at")

    def image_paths(self, generation_id: str) -> list[str]:
        found = rows(
            self.db,
            "SELECT path FROM generation_images WHERE generation_id = ? ORDER BY idx",
            (generation_id,),
        )
        return [str(r["path"]) for r in found]

    def images(self, generation_id: str) -> list[bytes]:
        return [Path(p).read_bytes() for p in self.image_paths(generation_id)]

    def settled(self, **match: Any) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            for row in self.rows():
                if all(row[k] == v for k, v in match.items()) and row["status"] in (
                    "delivered",
                    "failed",
                ):
                    return row
            return None

        row = wait_for(done, 40, message=lambda: f"a row {match}\n{self.log()}")
        assert row["status"] == "delivered", row
        return row  # type: ignore[no-any-return]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        return dict(self.telegram.fake.messages[(chat_id, message_id)])

    def answers_to(self, message: dict[str, Any], timeout: float = 20) -> list[dict[str, Any]]:
        return wait_for(  # type: ignore[no-any-return]
            lambda: self.telegram.replies_to(message),
            timeout,
            message=lambda: f"a reply\n{self.log()}",
        )

    def alerts(self) -> list[Call]:
        return self.telegram.fake.calls_to("answerCallbackQuery")


@contextmanager
def running_stack(root: Path, **settings: str) -> Iterator[Stack]:
    """The bot and a worker against the fakes, with these settings on top of the usual."""
    sd = FakeSDWebUI()
    sd_server = ServerThread(sd.app()).start()
    redis = RedisServer(root / "redis").start()
    telegram = TelegramDriver().start()
    for user_id, name in ((ALICE, "alice"), (BOB, "bob"), (ADMIN, "admin")):
        telegram.add_user(user_id, name)
    for group in (GRID_GROUP, PICTURES_GROUP, OTHER_GROUP):
        telegram.add_group(group, {ALICE: "member", BOB: "member", ADMIN: "administrator"})
    env = base_env(
        root / "data",
        IMAGE_PROVIDERS="sdwebui",
        SDWEBUI_URL=sd_server.url,
        REDIS_URL=redis.url,
        MAX_PENDING_PER_USER="20",
        DAILY_LIMIT_PER_USER="200",
        TELEGRAM_REFUSAL_QUIET_SECONDS="0",
        **telegram.env(),
        **settings,
    )
    built = Stack(root, telegram, sd, env)
    try:
        with built.processes:
            built.processes.enter_context(process(["worker"], env, root, root / "worker.log"))
            built.start_bot()
            yield built
    finally:
        telegram.stop()
        redis.stop()
        sd_server.stop()


GRID_GROUP = -100300400


PICTURES_GROUP = -100300500


OTHER_GROUP = -100300600
