"""Slack's rate limits: chat.postMessage per channel, and per-method tiers for the rest.

chat.postMessage allows about one message per second per channel with short bursts;
other methods are limited per method by tier (Tier 1: 1+/min ... Tier 4: 100+/min),
also with bursts. Over the limit Slack answers HTTP 429 with a whole-second
``Retry-After`` and ``{"ok": false, "error": "ratelimited"}``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}

# Tiers from each method's reference page; a method not listed counts as Tier 3.
METHOD_TIERS: dict[str, int] = {
    "apps.connections.open": 1,
    "auth.test": 4,
    "chat.delete": 3,
    "chat.getPermalink": 4,
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "conversations.info": 3,
    "conversations.replies": 3,
    "files.completeUploadExternal": 4,
    "files.getUploadURLExternal": 4,
    "files.info": 4,
    "files.upload": 2,
    "usergroups.list": 2,
    "usergroups.users.list": 2,
    "users.info": 4,
    "users.list": 2,
    "views.open": 4,
    "views.publish": 4,
    "views.push": 4,
    "views.update": 4,
}


@dataclass(frozen=True)
class RateLimits:
    """How strict the emulator is; tests make it tight (to provoke 429s) or loose."""

    post_message_per_second: float = 1.0  # per channel
    post_message_burst: int = 3
    tiers: bool = True  # per-method tier limits for everything else
    tier_min_burst: int = 5  # a tier's bucket holds a minute's worth, and at least this many
    enabled: bool = True

    @classmethod
    def off(cls) -> RateLimits:
        return cls(enabled=False)


@dataclass
class TokenBucket:
    rate: float  # tokens added per second
    capacity: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Take one token; 0.0 if granted, else the seconds until one is available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


@dataclass
class RateLimiter:
    limits: RateLimits = field(default_factory=RateLimits)
    clock: Callable[[], float] = time.monotonic
    limited: int = 0  # how many calls were answered 429 so far
    _buckets: dict[tuple[str, str], TokenBucket] = field(default_factory=dict)

    def _bucket(self, key: tuple[str, str], rate: float, capacity: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(rate, capacity, capacity, self.clock())
        return bucket

    def check(self, method: str, channel: str | None = None) -> int | None:
        """``None`` when the call may go ahead, else the Retry-After seconds to answer with."""
        if not self.limits.enabled:
            return None
        if method == "chat.postMessage":
            bucket = self._bucket((method, channel or ""), self.limits.post_message_per_second,
                                  float(self.limits.post_message_burst))
        elif self.limits.tiers:
            per_minute = TIER_PER_MINUTE[METHOD_TIERS.get(method, 3)]
            bucket = self._bucket((method, ""), per_minute / 60.0, float(max(per_minute, self.limits.tier_min_burst)))
        else:
            return None
        wait = bucket.take(self.clock())
        if wait <= 0:
            return None
        self.limited += 1
        return max(1, math.ceil(wait))
