"""The two primitives every store query is built on, shared by stores and transactions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

# sqlite3.Row or asyncpg.Record: both index by position and by name, and `dict()` them.
Row = Any


class Executor(ABC):
    """What a transaction body may do: the same two primitives as the store itself."""

    @abstractmethod
    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    @abstractmethod
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return how many rows it changed."""

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return next(iter(await self.fetch(sql, params)), None)
