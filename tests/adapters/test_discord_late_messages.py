"""Messages the bot sends with its own token once the interaction's 15 minutes are over,
through real discord.py on simcord."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.discord_sim import simulation


async def test_the_mention_prefix_counts_inside_the_2000_characters(tmp_path: Path) -> None:
    """A failure notice after the token expired pings the requester: `<@id>` and the reason
    together stay within Discord's 2000 characters, however long the escaped reason is."""
    async with simulation(tmp_path) as sim:
        await sim.alice.slash(sim.channel, "imagine", prompt="*" * 80)
        generation = await sim.latest(sim.alice)
        await sim.app.store.update_handle(generation.id, {"expires_at": time.time() - 1})
        # Every character escaped doubles: the notice is over 2000 before any prefix. (A
        # delivery's own reason is shown as it is: bot/core/errors.py, `VERBATIM_CODES`.)
        await sim.app.store.mark_failed(generation.id, "delivery_failed", "_" * 1500)
        row = await sim.app.store.get(generation.id)
        assert row is not None
        await sim.adapter.report_failure(row)
        await sim.env.settle()
        (notice,) = [m for m in sim.channel.history() if m.content.startswith("<@")]
        assert notice.content.startswith(f"<@{sim.alice.id}> ❌")
        assert len(notice.content) == 2000 and notice.content.endswith("…")
