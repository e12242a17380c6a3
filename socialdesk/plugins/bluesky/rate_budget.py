"""The PDS's ``RateLimit-*`` headers -> when the next request may go; the write-points budget.

Every answer a limit applied to says where the caller stands: ``RateLimit-Limit``,
``-Remaining``, ``-Reset`` (epoch seconds) and ``-Policy`` (``<limit>;w=<seconds>``).
Record writes cost points (a post 3) against 5000 per hour and 35000 per day per
account. The budget remembers the last answer of its kind and says "not before T":
when fewer points remain than the next request costs, it waits for the reset; a 429
waits for the reset the PDS names; failures without one back off exponentially.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

MAX_BACKOFF_SECONDS = 900.0
POST_COST = 3  # points a created record costs (PDS: creates=3, updates=2, deletes=1)


def _int(headers: Mapping[str, str], name: str) -> int | None:
    for key, value in headers.items():
        if key.lower() == name:
            try:
                return int(value)
            except ValueError:
                return None
    return None


def reset_of(headers: Mapping[str, str]) -> float | None:
    reset = _int(headers, "ratelimit-reset")
    return float(reset) if reset is not None else None


@dataclass
class RateBudget:
    name: str
    cost: int = 1  # what one request of this kind spends
    base_backoff: float = 15.0
    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None
    not_before: float = 0.0
    failures: int = 0

    def wait_seconds(self, now: float) -> float:
        return max(0.0, self.not_before - now)

    def observe(self, headers: Mapping[str, str], now: float) -> None:
        """An answer arrived (not a 429): note the window."""
        self.failures = 0
        self._read(headers)
        if self.remaining is not None and self.reset is not None and self.reset > now and self.remaining < self.cost:
            self.not_before = self.reset
        else:
            self.not_before = now

    def rate_limited(self, headers: Mapping[str, str], now: float) -> float:
        """A 429: wait for the reset the PDS names. Returns the epoch second to wait for."""
        self._read(headers)
        self.remaining = 0
        if self.reset is None or self.reset <= now:
            return self.failed(now)
        self.not_before = self.reset
        return self.reset

    def failed(self, now: float) -> float:
        """A failure without news about the window (5xx, network): back off."""
        self.failures += 1
        self.not_before = now + min(MAX_BACKOFF_SECONDS, self.base_backoff * 2 ** (self.failures - 1))
        return self.not_before

    def _read(self, headers: Mapping[str, str]) -> None:
        remaining, reset = _int(headers, "ratelimit-remaining"), _int(headers, "ratelimit-reset")
        if remaining is not None and reset is not None:
            self.limit, self.remaining, self.reset = _int(headers, "ratelimit-limit"), remaining, float(reset)
