"""Per-endpoint rate limits in 15-minute windows, with X's headers.

X counts requests per endpoint: per app for app-only calls, per user for user-context
calls. A window opens at a caller's first request and lasts ``window_seconds``; the
``x-rate-limit-reset`` header is the epoch second it ends. Defaults are X's published
v2 limits; tests shrink them (``RateLimits(window_seconds=60).with_limit("create_tweet",
user=2)``) and move the emulator's clock to open the next window.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from socialdesk.sandbox.x.auth import Caller


@dataclass(frozen=True)
class Limit:
    """Requests per window; None where X does not allow that kind of caller at all."""

    app: int | None = None
    user: int | None = None


DEFAULT_LIMITS: dict[str, Limit] = {
    "users_me": Limit(user=75),
    "mentions": Limit(app=450, user=75),
    "search_recent": Limit(app=450, user=180),
    "tweet_lookup": Limit(app=450, user=900),
    "create_tweet": Limit(user=200),
    "delete_tweet": Limit(user=50),
}


@dataclass(frozen=True)
class RateLimits:
    window_seconds: float = 900.0
    limits: dict[str, Limit] = field(default_factory=lambda: dict(DEFAULT_LIMITS))

    def with_limit(self, endpoint: str, *, app: int | None = None, user: int | None = None) -> RateLimits:
        """A copy where ``endpoint`` allows ``app`` / ``user`` requests per window (None keeps the current one)."""
        if endpoint not in self.limits:
            raise KeyError(f"no rate-limited endpoint {endpoint!r}; known: {', '.join(self.limits)}")
        current = self.limits[endpoint]
        changed = replace(current, app=current.app if app is None else app, user=current.user if user is None else user)
        return replace(self, limits={**self.limits, endpoint: changed})

    def limit_for(self, endpoint: str, caller: Caller) -> int | None:
        limit = self.limits[endpoint]
        return limit.app if caller.kind == "app" else limit.user


@dataclass(frozen=True)
class Quota:
    limit: int
    remaining: int
    reset: int  # epoch seconds

    def headers(self) -> dict[str, str]:
        return {"x-rate-limit-limit": str(self.limit), "x-rate-limit-remaining": str(self.remaining),
                "x-rate-limit-reset": str(self.reset)}


class RateLimiter:
    """Fixed windows per (endpoint, app or user); at most ``max_buckets`` callers remembered."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float], max_buckets: int = 10_000) -> None:
        self.limits = limits
        self._clock = clock
        self._max_buckets = max_buckets
        self._buckets: OrderedDict[tuple[str, str], tuple[float, int]] = OrderedDict()  # -> (window start, used)

    def _bucket(self, endpoint: str, caller: Caller) -> tuple[tuple[str, str], float, int]:
        key = (endpoint, f"user:{caller.user_id}" if caller.kind == "user" else "app")
        now = self._clock()
        start, used = self._buckets.get(key, (now, 0))
        if now >= start + self.limits.window_seconds:
            start, used = now, 0
        return key, start, used

    def _quota(self, limit: int, start: float, used: int) -> Quota:
        return Quota(limit, max(limit - used, 0), math.ceil(start + self.limits.window_seconds))

    def take(self, endpoint: str, caller: Caller) -> tuple[bool, Quota | None]:
        """Count one request. (allowed, quota); quota is None where no limit applies."""
        limit = self.limits.limit_for(endpoint, caller)
        if limit is None:
            return True, None
        key, start, used = self._bucket(endpoint, caller)
        if used >= limit:
            return False, self._quota(limit, start, used)
        self._buckets[key] = (start, used + 1)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self._max_buckets:
            self._buckets.popitem(last=False)
        return True, self._quota(limit, start, used + 1)

    def peek(self, endpoint: str, caller: Caller) -> Quota | None:
        """The caller's quota without counting a request."""
        limit = self.limits.limit_for(endpoint, caller)
        if limit is None:
            return None
        _key, start, used = self._bucket(endpoint, caller)
        return self._quota(limit, start, used)

    def clear(self) -> None:
        self._buckets.clear()
