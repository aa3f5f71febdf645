"""The bot removed from a Discord server (GUILD_DELETE without `unavailable`), end to end:
the server's waiting requests are cancelled before any provider is paid, the rows say why,
and the history stays. `imaginebot run --no-worker` against the fake Discord; the worker only
starts after the removal, so every request of the server is still waiting then."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.discord_gateway import DiscordDriver
from tests.fakes.openai_images import FakeOpenAI
from tests.support import RedisServer, process, rows, wait_for
from tests.support.discord_stack import Stack


def test_guild_delete_cancels_the_servers_waiting_requests_without_paying(
    tmp_path: Path,
    discord: DiscordDriver,
    fake_openai: FakeOpenAI,
    redis_server: RedisServer,
) -> None:
    d = discord
    other_guild, _channel = d.fake.add_guild("Another Server")
    stack = Stack(tmp_path, d, fake_openai, redis_server.url)
    with process(["run", "--no-worker"], stack.env, tmp_path, tmp_path / "bot.log"):
        wait_for(d.connected, 30, message=lambda: f"gateway connection\n{stack.log()}")
        waiting = [d.slash("imagine", prompt=f"a queued owl {i}") for i in range(2)]
        wait_for(lambda: all(stack.row_for(c) for c in waiting), 15, message="queued rows")
        d.remove_bot()
        failed = [stack.delivered_row(c) for c in waiting]
        with process(["worker"], stack.env, tmp_path, tmp_path / "worker.log"):
            control = d.slash("imagine", prompt="a control owl", guild=other_guild)
            assert stack.delivered_row(control)["status"] == "delivered"
    assert [r["status"] for r in failed] == ["failed", "failed"]
    assert {r["failure_code"] for r in failed} == {"bot_removed"}
    assert "removed from this server" in failed[0]["failure_reason"]
    assert len(fake_openai.calls) == 1  # the control request only
    kept = rows(stack.db, "SELECT * FROM generations WHERE scope_id = ?", (d.guild_id,))
    assert len(kept) == 2  # history stays
