"""Keeping under Slack's rate limits before Slack has to say so.

chat.postMessage is limited per channel (about one a second, short bursts allowed); the
desk keeps a token bucket per channel that lets callers reserve the next free slot. A
429 from Slack (any method) blocks its key until the Retry-After has passed, whatever
the bucket says. One Pacer per desk process: replicas each pace themselves, and Slack's
Retry-After settles the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Bucket:
    tokens: float
    updated: float
    blocked_until: float = 0.0


@dataclass(frozen=True, slots=True)
class Slot:
    """A reservation: use it after ``wait`` seconds; ``granted`` False means nothing was taken."""

    granted: bool
    wait: float


@dataclass
class Pacer:
    per_second: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def _bucket(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        else:
            # ``updated`` may lie in the future after a 429: no refill until the block ends.
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.per_second)
            bucket.updated = max(bucket.updated, now)
        return bucket

    def reserve(self, key: str, *, max_wait: float, paced: bool = True) -> Slot:
        """Reserve the next slot for ``key`` if it comes within ``max_wait`` seconds.

        Tokens may go negative: each reservation queues behind the earlier ones, so
        concurrent callers are spread out instead of all waking at once. ``paced=False``
        only honours a Retry-After (for methods Slack limits per app, not per channel).
        """
        now = self.clock()
        bucket = self._bucket(key, now)
        blocked = max(0.0, bucket.blocked_until - now)
        paced_wait = max(0.0, (1.0 - bucket.tokens) / self.per_second) if paced else 0.0
        wait = max(blocked, paced_wait)
        if wait > max_wait:
            return Slot(False, wait)
        if paced:
            bucket.tokens -= 1.0
        return Slot(True, wait)

    def release(self, key: str) -> None:
        """Give back a slot reserved but not used."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens = min(float(self.burst), bucket.tokens + 1.0)

    def blocked(self, key: str, retry_after: float) -> None:
        """Slack answered 429: nothing for ``key`` until ``retry_after`` seconds from now."""
        now = self.clock()
        bucket = self._bucket(key, now)
        bucket.blocked_until = max(bucket.blocked_until, now + retry_after)
        # Start again slowly after the block rather than with a burst.
        bucket.tokens = min(bucket.tokens, 0.0)
        bucket.updated = max(bucket.updated, bucket.blocked_until)

    def wait_for(self, key: str) -> float:
        """Seconds until ``key`` is unblocked (0 if it is not)."""
        bucket = self._buckets.get(key)
        return max(0.0, bucket.blocked_until - self.clock()) if bucket else 0.0
