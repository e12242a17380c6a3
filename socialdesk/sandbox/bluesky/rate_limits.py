"""The PDS's rate limits, with its headers.

Documented (bsky-docs rate-limits.md, PDS source rate-limits.ts): every IP 3000
requests per 5 minutes; ``createSession`` 30 per 5 minutes and 300 per day per
account; record writes 5000 points per hour and 35000 per day per account, a create
costing 3 points and a delete 1. Every answer that a limit applied to carries
``RateLimit-Limit``, ``-Remaining``, ``-Reset`` (epoch seconds) and ``-Policy``
(``<limit>;w=<window seconds>``) of the tightest one; over a limit the answer is 429
``RateLimitExceeded``. Windows are fixed and start at a key's first hit; tests shrink
the limits and move the emulator's clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limit:
    points: int
    window_seconds: int


@dataclass
class RateLimits:
    global_ip: Limit = Limit(3000, 300)
    create_session: tuple[Limit, ...] = (Limit(30, 300), Limit(300, 86_400))
    repo_write: tuple[Limit, ...] = (Limit(5000, 3600), Limit(35_000, 86_400))
    create_cost: int = 3
    delete_cost: int = 1


@dataclass
class Quota:
    limit: Limit
    used: int
    reset: float

    @property
    def remaining(self) -> int:
        return max(0, self.limit.points - self.used)

    def headers(self) -> dict[str, str]:
        return {"RateLimit-Limit": str(self.limit.points), "RateLimit-Remaining": str(self.remaining),
                "RateLimit-Reset": str(math.ceil(self.reset)),
                "RateLimit-Policy": f"{self.limit.points};w={self.limit.window_seconds}"}


@dataclass
class RateLimiter:
    clock: Callable[[], float]
    limits: RateLimits = field(default_factory=RateLimits)
    _windows: dict[tuple[str, str, int], Quota] = field(default_factory=dict)

    def take(self, name: str, key: str, limits: tuple[Limit, ...], cost: int = 1) -> tuple[bool, Quota]:
        """Spend ``cost`` points under every limit; (allowed, the tightest quota after it)."""
        now = self.clock()
        quotas = []
        for index, limit in enumerate(limits):
            quota = self._windows.get((name, key, index))
            if quota is None or now >= quota.reset or quota.limit != limit:  # a new window, or new limits
                quota = self._windows[(name, key, index)] = Quota(limit, 0, now + limit.window_seconds)
            quotas.append(quota)
        allowed = all(q.used + cost <= q.limit.points for q in quotas)
        if allowed:
            for quota in quotas:
                quota.used += cost
        if allowed:
            return True, min(quotas, key=lambda q: q.remaining)
        # Refused: the limit that refused, the one lasting longest when several did.
        return False, max((q for q in quotas if q.used + cost > q.limit.points), key=lambda q: q.reset)

    def clear(self) -> None:
        self._windows.clear()
