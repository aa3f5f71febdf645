"""The Discord subprocess stack: `imaginebot run` and `imaginebot worker` against the fake
Discord (REST, gateway, CDN), the fake OpenAI images API and a private Redis, with the reads the
tests make of it (the final image, the ephemeral answer, the row)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from tests.fakes.discord_api import Interaction, Message, Write
from tests.fakes.discord_gateway import DiscordDriver
from tests.fakes.openai_images import FakeOpenAI
from tests.support import RedisServer, base_env, process, rows, served_openai, wait_for


class Stack:
    def __init__(self, root: Path, discord: DiscordDriver, openai: FakeOpenAI, redis: str) -> None:
        self.root = root
        self.discord = discord
        self.openai = openai
        self.env = base_env(
            root / "data",
            OPENAI_API_KEY=openai.api_key,
            OPENAI_BASE_URL=f"{openai.base_url}/v1",
            REDIS_URL=redis,
            MAX_PENDING_PER_USER="50",
            **discord.env(),
        )
        self.db = root / "data" / "imaginebot.sqlite3"

    def log(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self.root.glob("*.log"))
        )

    def row_for(self, interaction: Interaction) -> dict[str, Any] | None:
        found = rows(
            self.db,
            "SELECT * FROM generations WHERE json_extract(handle, '$.interaction_id') = ?",
            (interaction.id,),
        )
        return found[0] if found else None

    def delivered_row(self, interaction: Interaction) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            row = self.row_for(interaction)
            return row if row and row["status"] in ("delivered", "failed") else None

        row: dict[str, Any] = wait_for(
            done, 30, message=lambda: f"row of {interaction.id}\n{self.log()}"
        )
        return row

    def image_writes(self, interaction: Interaction) -> list[Write]:
        return [w for w in self.discord.writes(interaction) if w.files]


def start_bot(stack: Stack) -> Any:
    return process(["run", "--no-worker"], stack.env, stack.root, stack.root / "bot.log")


@contextmanager
def running_discord_stack(
    root: Path,
    *,
    openai: FakeOpenAI | None = None,
    prepare: Callable[[DiscordDriver], None] | None = None,
    **env: str,
) -> Iterator[Stack]:
    """A fresh fake Discord (`prepare` adds to it before the bot connects), a private Redis,
    `imaginebot worker` and `imaginebot run --no-worker` connected to the gateway; `env` adds
    settings. Without `openai`, a fake OpenAI of its own."""
    with ExitStack() as cleanup:
        if openai is None:
            openai = cleanup.enter_context(served_openai())
        redis = RedisServer(root / "redis").start()
        cleanup.callback(redis.stop)
        driver = DiscordDriver().start()
        cleanup.callback(driver.stop)
        if prepare is not None:
            prepare(driver)
        stack = Stack(root, driver, openai, redis.url)
        stack.env.update(env)
        cleanup.enter_context(process(["worker"], stack.env, root, root / "worker.log"))
        cleanup.enter_context(start_bot(stack))
        wait_for(driver.connected, 30, message=lambda: f"gateway connection\n{stack.log()}")
        yield stack


def final_image(stack: Stack, interaction: Interaction) -> Write:
    write: Write = wait_for(
        lambda: next(iter(stack.image_writes(interaction)), None),
        30,
        message=lambda: f"the image for {interaction.id}\n{stack.log()}",
    )
    return write


def delivered(stack: Stack, command: Interaction) -> tuple[dict[str, Any], Message]:
    final_image(stack, command)
    row = stack.delivered_row(command)
    assert row["status"] == "delivered"
    message = stack.discord.server.run_sync(stack.discord.fake.original, command.id)
    assert message is not None
    return row, message


def ephemeral_answer(stack: Stack, interaction: Interaction) -> str:
    d = stack.discord
    wait_for(lambda: d.writes(interaction), 15, message=lambda: f"an answer\n{stack.log()}")
    answer = d.server.run_sync(d.fake.original, interaction.id)
    assert answer is not None and answer.ephemeral
    return answer.content


def row(stack: Stack, generation_id: str) -> dict[str, Any] | None:
    found = rows(stack.db, "SELECT * FROM generations WHERE id = ?", (generation_id,))
    return found[0] if found else None
