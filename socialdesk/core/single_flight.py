"""One call for many simultaneous askers of the same thing.

Fifty agents clicking at once all ask Slack the same question (who is the bot, what is
this agent's name) before any answer is cached; without this, each of them makes the
call, and fifty ``users.info`` calls spend a Tier 4 budget (about 100 a minute) and come
back 429. Callers asking for a key already in flight await that call's outcome instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    def __init__(self) -> None:
        self._running: dict[K, asyncio.Future[V]] = {}

    async def call(self, key: K, fetch: Callable[[], Awaitable[V]]) -> V:
        """``fetch()``'s outcome, shared with every caller asking for ``key`` meanwhile
        (its exception too). A caller that is cancelled does not cancel the others' call."""
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(fetch())
            self._running[key] = running
            running.add_done_callback(lambda _done: self._running.pop(key, None))
        return await asyncio.shield(running)
