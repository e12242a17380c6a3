"""Reddit's rate-limit headers -> when the next request may go.

Every answer carries ``X-Ratelimit-Used``, ``X-Ratelimit-Remaining`` (may be a float)
and ``X-Ratelimit-Reset`` (seconds to the end of the window). The budget reads them from
every response through an aiohttp trace hook on the session asyncpraw uses, and the desk
asks it before each poll and each reply, so a spent window is waited out (the poll is
skipped, the reply is retried after the reset) instead of earning 429s.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import aiohttp


class RateBudget:
    def __init__(self, epoch: Callable[[], float]) -> None:
        self._epoch = epoch
        self.remaining: float | None = None
        self.used: int | None = None
        self.reset_at: float = 0.0

    def observe(self, headers: Any) -> None:
        try:
            remaining = float(headers["x-ratelimit-remaining"])
            used = int(float(headers["x-ratelimit-used"]))
            reset = float(headers["x-ratelimit-reset"])
        except (KeyError, ValueError, TypeError):
            return
        self.remaining, self.used, self.reset_at = remaining, used, self._epoch() + reset

    def wait_seconds(self) -> float:
        """0 when a request may go now; else the seconds until Reddit's window resets."""
        if self.remaining is None or self.remaining >= 1:
            return 0.0
        return max(0.0, self.reset_at - self._epoch())

    def trace_config(self) -> aiohttp.TraceConfig:
        trace = aiohttp.TraceConfig()

        async def on_request_end(session: aiohttp.ClientSession, context: SimpleNamespace,
                                 params: aiohttp.TraceRequestEndParams) -> None:
            self.observe(params.response.headers)

        trace.on_request_end.append(on_request_end)
        return trace
