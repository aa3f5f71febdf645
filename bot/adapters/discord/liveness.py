"""Is the Discord gateway connected and READY? The answer behind the bot's /healthz.

discord.py keeps `is_ready()` true after a connection drops (it is only cleared on
close), so readiness is tracked from the gateway events themselves: READY / RESUMED
make a shard live, a disconnect makes it dead until the next READY or RESUMED. The
socket is also looked at, so a connection that died without an event counts as down.
"""

from __future__ import annotations

import discord


class GatewayLiveness:
    PLAIN = -1  # the one connection of a client that is not sharded

    def __init__(self) -> None:
        self._live: set[int] = set()

    def up(self, shard_id: int | None = None) -> None:
        self._live.add(self.PLAIN if shard_id is None else shard_id)

    def down(self, shard_id: int | None = None) -> None:
        self._live.discard(self.PLAIN if shard_id is None else shard_id)

    def healthy(self, client: discord.Client) -> bool:
        if client.is_closed() or not client.is_ready():
            return False
        if isinstance(client, discord.AutoShardedClient):
            shards = client.shards
            return bool(shards) and all(
                sid in self._live and not info.is_closed() for sid, info in shards.items()
            )
        ws = client.ws
        return self.PLAIN in self._live and ws is not None and ws.open
