"""X's rate-limit headers -> when the next request to an endpoint may go.

X counts requests per endpoint in 15-minute windows and says where a caller stands on
every answer: ``x-rate-limit-limit``, ``-remaining`` and ``-reset`` (epoch seconds).
Posting has a second, 24-hour window (``x-user-limit-24hour-*``).

The budget spends requests so the window lasts: while more requests remain than the
configured poll interval needs until the reset, the surplus may be spent at once
(catching up on a backlog of pages); once it is tight, requests are spread evenly over
what is left of the window instead of burning it and then going blind until the reset.
A 429 waits for the reset X names; failures without one back off exponentially. The
budget only answers "not before T": the poller skips a tick rather than sleeping.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

MAX_BACKOFF_SECONDS = 900.0  # one X window


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


@dataclass
class RateBudget:
    endpoint: str
    pace_seconds: float | None  # the poll interval; None: no pacing, only wait out an exhausted window
    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None
    not_before: float = 0.0
    failures: int = 0

    def wait_seconds(self, now: float) -> float:
        """How long the next request should wait (0: go now)."""
        return max(0.0, self.not_before - now)

    def observe(self, headers: Mapping[str, str], now: float) -> None:
        """An answer arrived (success or an error other than 429): update the window."""
        self.failures = 0
        self._read(headers)
        self.not_before = self._next_after_answer(now)

    def rate_limited(self, headers: Mapping[str, str], now: float) -> float:
        """X answered 429: wait for the reset it names. Returns the epoch second to wait for."""
        self._read(headers)
        self.remaining = 0
        until = self.reset if self.reset is not None else None
        day_remaining = _int_header(headers, "x-user-limit-24hour-remaining")
        day_reset = _int_header(headers, "x-user-limit-24hour-reset")
        if day_remaining == 0 and day_reset is not None:  # posting's daily cap is the one that bit
            until = max(until or 0.0, float(day_reset))
        if until is None or until <= now:  # no usable reset (or our clock is ahead of X's)
            return self.failed(now)
        self.not_before = until
        return until

    def failed(self, now: float) -> float:
        """A request failed without news about the window (5xx, network): back off."""
        self.failures += 1
        step = self.pace_seconds or 15.0
        self.not_before = now + min(MAX_BACKOFF_SECONDS, step * 2 ** (self.failures - 1))
        return self.not_before

    def _read(self, headers: Mapping[str, str]) -> None:
        limit = _int_header(headers, "x-rate-limit-limit")
        remaining = _int_header(headers, "x-rate-limit-remaining")
        reset = _int_header(headers, "x-rate-limit-reset")
        if remaining is not None and reset is not None:
            self.limit, self.remaining, self.reset = limit, remaining, float(reset)

    def _next_after_answer(self, now: float) -> float:
        if self.remaining is None or self.reset is None or now >= self.reset:
            return now  # no news, or a fresh window has begun
        if self.remaining <= 0:
            return self.reset
        if self.pace_seconds is None:
            return now
        left = self.reset - now
        polls_to_come = math.ceil(left / self.pace_seconds)
        if self.remaining > polls_to_come:
            return now  # surplus: spend it now
        return now + left / self.remaining  # tight: spread what is left over the window
