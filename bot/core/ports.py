"""What a chat adapter keeps through the core, as narrow Protocols.

An adapter meets the core in three places: the `GenerationService` (commands in), its own
`ResultChannel` (results out, bot/core/delivery/coordinator.py), and the few records below that it must
keep for later. Each is a Protocol the store already satisfies, so an adapter is handed the
store as one of these and can do nothing else with it: no adapter imports the store.
"""

from __future__ import annotations

from typing import Protocol

from bot.core.models import HandlePart, HandleValue


class DeliveryHandles(Protocol):
    """The delivery handle of a request: what an adapter recorded at acknowledgement time to
    finish it from any process (message ids, an interaction token), and the markers it sets
    before a send that is not naturally idempotent (so a retry after a crash does not post
    twice)."""

    async def update_handle(self, generation_id: str, changes: HandlePart) -> None:
        """Merge the fields set in `changes` into the request's handle (a field set to None
        clears its key)."""
        ...

    async def take_handle_value(self, generation_id: str, key: str, expected: str) -> bool:
        """Remove `key` if it holds `expected`, atomically: True for one caller only."""
        ...

    async def claim_handle_key(self, generation_id: str, key: str, value: HandleValue) -> bool:
        """Set `key` if it is unset, atomically: True for one caller only."""
        ...


class SyncState(Protocol):
    """Small named values kept across restarts: what an adapter last registered with its
    platform (Discord's slash-command sync record), so it does not register it again."""

    async def get_state(self, key: str) -> str | None: ...

    async def set_state(self, key: str, value: str) -> None: ...


class Lease(Protocol):
    """Something only one process of the deployment may do at a time (Telegram long
    polling): held while renewed, taken over by another process once its holder stops."""

    ttl_seconds: float

    async def acquire(self) -> bool: ...

    async def renew(self) -> bool: ...

    async def release(self) -> None: ...


class OnceOnly(Protocol):
    """A mark shared by the deployment's processes: `first(name)` is True exactly once
    (an update Telegram sent again, or to another process, is handled once)."""

    async def first(self, name: str) -> bool: ...
