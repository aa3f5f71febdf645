"""What `imaginebot run` needs from a chat platform adapter."""

from __future__ import annotations

from typing import Protocol

from bot.core.delivery.coordinator import ResultChannel


class PlatformAdapter(ResultChannel, Protocol):
    """A ResultChannel that also connects to its platform and receives commands."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def healthy(self) -> bool:
        """Connected to the platform right now (for /healthz)."""
        ...
