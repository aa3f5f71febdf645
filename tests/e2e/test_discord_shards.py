"""Discord shards per process: DISCORD_SHARD_COUNT and DISCORD_SHARD_IDS, and a fake gateway
that checks shards as Discord does."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.discord_gateway import DiscordDriver
from tests.fakes.openai_images import FakeOpenAI
from tests.support import base_env, process, run_cli, wait_for
from tests.support.scale_out import guilds_on_both_shards

pytestmark = pytest.mark.e2e


async def identify(discord: DiscordDriver, shard: object) -> tuple[int | None, list[str]]:
    """IDENTIFY with this shard field; (close code, dispatch types received)."""
    events: list[str] = []
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(discord.fake.gateway_url) as ws:
            await ws.receive_json()  # HELLO
            d = {"token": discord.fake.token, "intents": 1, "properties": {}, "shard": shard}
            await ws.send_str(json.dumps({"op": 2, "d": d}))
            while True:
                message = await ws.receive(timeout=5)
                if message.type != aiohttp.WSMsgType.TEXT:
                    return ws.close_code, events
                events.append(json.loads(message.data)["t"])
                if events[-1] == "GUILD_CREATE" or len(events) > 3:
                    return None, events


@pytest.mark.parametrize("shard", [[2, 2], [0, 0], [-1, 2], ["0", 2], [0], [True, 2]])
async def test_an_invalid_shard_is_closed_with_4010(discord: DiscordDriver, shard: object) -> None:
    code, events = await identify(discord, shard)
    assert code == 4010 and events == []


async def test_a_shard_with_too_many_servers_is_closed_with_4011(discord: DiscordDriver) -> None:
    guilds_on_both_shards(discord)
    gateway = discord.fake.gateway
    per_shard = [sum(1 for g in discord.fake.guilds if gateway.shard_of(g, 2) == n) for n in (0, 1)]
    gateway.max_guilds_per_shard = max(per_shard)  # two shards hold them, one cannot
    code, _events = await identify(discord, [0, 1])  # one shard for every server: too many
    assert code == 4011
    code, events = await identify(discord, [0, 2])
    assert code is None and events[:2] == ["READY", "GUILD_CREATE"]


def test_a_process_runs_only_its_shard_ids(
    tmp_path: Path, discord: DiscordDriver, fake_openai: FakeOpenAI
) -> None:
    on_zero, on_one = guilds_on_both_shards(discord)
    env = base_env(
        tmp_path / "data",
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=f"{fake_openai.base_url}/v1",
        DISCORD_SHARD_COUNT="2",
        DISCORD_SHARD_IDS="1",
        **discord.env(),
    )
    log = tmp_path / "bot.log"
    with process(["run"], env, tmp_path, log):
        wait_for(lambda: discord.fake.gateway.sessions, 30, message=log.read_text())
        command = discord.slash("imagine", guild=on_one, prompt="a fox on shard one")
        wait_for(lambda: any(w.files for w in discord.writes(command)), 30, message=log.read_text())
        assert [s.shard for s in discord.fake.gateway.sessions] == [(1, 2)]
        with pytest.raises(RuntimeError, match="not connected"):
            discord.slash("imagine", guild=on_zero, prompt="nobody runs shard zero")


def test_shard_ids_beyond_the_count_are_refused_in_plain_words(tmp_path: Path) -> None:
    env = base_env(
        tmp_path / "data",
        DISCORD_TOKEN="x" * 59,
        DISCORD_SHARD_COUNT="2",
        DISCORD_SHARD_IDS="1-2",
    )
    result = run_cli(["run"], env, tmp_path, timeout=60)
    assert result.returncode != 0
    assert "DISCORD_SHARD_IDS: shard ids run from 0 to 1" in result.stderr + result.stdout
