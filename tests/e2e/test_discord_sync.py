"""Slash-command sync never trusts its own record alone: with the same DATA_DIR, a bot that
meets another application, or a Discord that lost the commands, registers them again.
`imaginebot run` against the fake Discord and the fake OpenAI images API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.discord_gateway import DiscordDriver
from tests.fakes.openai_images import FakeOpenAI
from tests.support import base_env, process, wait_for

pytestmark = pytest.mark.e2e

UNCHANGED = "slash commands unchanged; not syncing"


@pytest.fixture
def second_discord() -> Iterator[DiscordDriver]:
    driver = DiscordDriver().start()
    yield driver
    driver.stop()


def run_once(
    root: Path,
    driver: DiscordDriver,
    openai: FakeOpenAI,
    log_name: str,
    *,
    imagine: bool = False,
    **extra: str,
) -> str:
    """Start the bot (and make one picture through /imagine), stop; return the bot's log."""
    env = base_env(
        root / "data",
        OPENAI_API_KEY=openai.api_key,
        OPENAI_BASE_URL=f"{openai.base_url}/v1",
        **driver.env(),
        **extra,
    )
    log = root / log_name
    with process(["run"], env, root, log):
        wait_for(
            driver.connected, 30, message=lambda: f"gateway\n{log.read_text(errors='replace')}"
        )
        if imagine:
            command = driver.slash("imagine", prompt=f"a picture for {log_name}")
            wait_for(
                lambda: any(w.files for w in driver.writes(command)),
                30,
                message=lambda: (
                    f"the picture\n{driver.fake.errors}\n{log.read_text(errors='replace')}"
                ),
            )
    # The next start must not mistake this session for its own.
    wait_for(lambda: not driver.connected(), 10, message="the bot to disconnect")
    return log.read_text(errors="replace")


def test_commands_deleted_on_discord_are_registered_again(
    tmp_path: Path, discord: DiscordDriver, fake_openai: FakeOpenAI
) -> None:
    run_once(tmp_path, discord, fake_openai, "first.log")
    # Someone removed the commands (another deploy with the same token, a portal reset).
    discord.server.run_sync(discord.fake.commands.clear)
    second = run_once(tmp_path, discord, fake_openai, "second.log", imagine=True)
    assert UNCHANGED not in second
    assert discord.fake.command_syncs == ["global", "global"]
    names = {c["name"] for c in discord.fake.commands["global"]}
    assert {"imagine", "settings", "forget-me"} <= names


def test_another_application_with_the_same_data_dir_gets_the_commands(
    tmp_path: Path, discord: DiscordDriver, second_discord: DiscordDriver, fake_openai: FakeOpenAI
) -> None:
    assert discord.fake.application_id != second_discord.fake.application_id
    run_once(tmp_path, discord, fake_openai, "first.log")
    other = run_once(tmp_path, second_discord, fake_openai, "other.log", imagine=True)
    assert UNCHANGED not in other
    assert second_discord.fake.command_syncs == ["global"]
    assert "imagine" in {c["name"] for c in second_discord.fake.commands["global"]}


def test_guild_commands_edited_on_discord_are_synced_again_then_left_alone(
    tmp_path: Path, discord: DiscordDriver, fake_openai: FakeOpenAI
) -> None:
    guild = {"DISCORD_GUILD_ID": discord.guild_id}
    run_once(tmp_path, discord, fake_openai, "first.log", **guild)
    assert discord.fake.command_syncs == [discord.guild_id]
    # Overwritten since (a new version of each): the record no longer matches Discord.
    discord.server.run_sync(
        lambda: [
            c.update(version=discord.fake.snowflake())
            for c in discord.fake.commands[discord.guild_id]
        ]
    )
    second = run_once(tmp_path, discord, fake_openai, "second.log", **guild)
    assert UNCHANGED not in second
    assert discord.fake.command_syncs == [discord.guild_id, discord.guild_id]
    third = run_once(tmp_path, discord, fake_openai, "third.log", **guild)
    assert UNCHANGED in third
    assert len(discord.fake.command_syncs) == 2
