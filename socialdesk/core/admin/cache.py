"""A value read from the database, kept for a few seconds in this process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class ShortCache(Generic[T]):
    """``await get()`` reads through ``load`` at most once per ``seconds`` (one load at a time);
    ``forget()`` after a local change, so this replica sees it at once."""

    def __init__(self, load: Callable[[], Awaitable[T]], seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._load = load
        self._seconds = seconds
        self._clock = clock
        self._value: T | None = None
        self._at: float | None = None
        self._lock = asyncio.Lock()

    def _fresh(self) -> bool:
        return self._at is not None and self._clock() - self._at < self._seconds

    async def get(self) -> T:
        if self._fresh():
            return self._value  # type: ignore[return-value]
        async with self._lock:
            if not self._fresh():
                self._value = await self._load()
                self._at = self._clock()
            return self._value  # type: ignore[return-value]

    def forget(self) -> None:
        self._at = None
