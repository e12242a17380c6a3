"""Mastodon's rate limits: 300 requests per 5 minutes per account, in fixed windows.

Every answer to an authenticated API call says where the caller stands:
``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (an ISO 8601
timestamp, the end of the current window). Over the limit, Mastodon answers 429
``{"error": "Too many requests"}`` with the same headers. The window is aligned to the
clock, as rack-attack's period counters are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from socialdesk.sandbox.mastodon.state import iso

DEFAULT_LIMIT = 300
DEFAULT_PERIOD = 300.0


@dataclass(frozen=True)
class Standing:
    limit: int
    remaining: int
    reset: float
    exceeded: bool

    def headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": iso(self.reset)}


class RateLimiter:
    def __init__(self, clock: Callable[[], float], limit: int = DEFAULT_LIMIT, period: float = DEFAULT_PERIOD) -> None:
        self.clock = clock
        self.limit = limit
        self.period = period
        self._used: dict[tuple[str, int], int] = {}

    def spend(self, caller: str) -> Standing:
        now = self.clock()
        window = int(now // self.period)
        used = self._used.get((caller, window), 0) + 1
        self._used[(caller, window)] = used
        reset = (window + 1) * self.period
        return Standing(self.limit, max(0, self.limit - used), reset, used > self.limit)

    def standing(self, caller: str) -> Standing:
        now = self.clock()
        window = int(now // self.period)
        used = self._used.get((caller, window), 0)
        return Standing(self.limit, max(0, self.limit - used), (window + 1) * self.period, used >= self.limit)

    def clear(self) -> None:
        self._used.clear()
