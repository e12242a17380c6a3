"""Agents first: work nobody is waiting on yields to a burst of agents' requests.

Fifty agents clicking Claim at once each wait for their answer ("You have #42 now").
The same clicks also queue work nobody watches live: the card's re-render and edit, the
SLA clocks, App Home refreshes. On one event loop these interleave with the answers, and
the last agent's answer waits for every card edit before it. The front end notes when
an agent's request arrives; the work nobody waits on awaits :meth:`AgentAttention.quiet`
first, which returns once no request has arrived for a moment (``quiet_after``), and
never later than ``longest_wait`` (a card must not lag an endless stream of clicks).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

QUIET_AFTER_SECONDS = 0.15
LONGEST_WAIT_SECONDS = 1.0


class AgentAttention:
    def __init__(self, *, quiet_after: float = QUIET_AFTER_SECONDS, longest_wait: float = LONGEST_WAIT_SECONDS,
                 clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._quiet_after = quiet_after
        self._longest_wait = longest_wait
        self._clock = clock
        self._sleep = sleep
        self._last_arrival = float("-inf")

    def _now(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    def request_arrived(self) -> None:
        """An agent's request reached the desk (a click, a command, a form)."""
        self._last_arrival = self._now()

    async def quiet(self) -> None:
        """Return once no agent's request arrived for ``quiet_after`` seconds, or after
        ``longest_wait`` seconds at most."""
        deadline = self._now() + self._longest_wait
        while True:
            now = self._now()
            calm_at = self._last_arrival + self._quiet_after
            if now >= calm_at or now >= deadline:
                return
            await self._sleep(min(calm_at, deadline) - now)
