"""Back-pressure: a bounded number of requests synthesise at once, a bounded number wait,
and the rest are told to come back (503 + Retry-After) instead of queueing without end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Overloaded(Exception):
    """Every slot and every queue place is taken."""


class Capacity:
    def __init__(self, max_active: int, max_queue: int) -> None:
        self._active = asyncio.Semaphore(max_active)
        self._limit = max_active + max_queue
        self._admitted = 0

    @property
    def admitted(self) -> int:
        return self._admitted

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._admitted >= self._limit:
            raise Overloaded
        self._admitted += 1
        try:
            async with self._active:
                yield
        finally:
            self._admitted -= 1
