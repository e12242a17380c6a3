"""Keeping under Slack's rate limits before Slack has to say so.

chat.postMessage is limited per channel (about one a second, short bursts allowed); the
desk keeps a token bucket per channel that lets callers reserve the next free slot. A
429 from Slack (any method) blocks its key until the Retry-After has passed, whatever
the bucket says. One Pacer per desk process: replicas each pace themselves, and Slack's
Retry-After settles the rest.

Slots go to the most urgent caller: :meth:`Pacer.acquire` lets a caller take the slot a
less urgent one is still waiting for (that one queues again), so a P1 card never waits
behind P4 posts that merely reserved the channel's next seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError


@dataclass(eq=False)
class _Sleeper:
    """A caller waiting for the slot it reserved, until ``at``."""

    rank: tuple[int, int]  # (priority, arrival): lower goes first
    at: float
    taken: asyncio.Event = field(default_factory=asyncio.Event)  # a more urgent caller took the slot


@dataclass
class _Bucket:
    tokens: float
    updated: float
    blocked_until: float = 0.0
    sleepers: list[_Sleeper] = field(default_factory=list)


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
    _arrivals: int = 0

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

    async def acquire(self, key: str, *, priority: int, max_wait: float, paced: bool = True) -> Slot:
        """Wait for a slot on ``key`` (lower ``priority`` is more urgent), at most ``max_wait``
        seconds in all; ``granted`` False (nothing taken) when it would take longer.

        A caller whose slot is further away than that of a less urgent caller still sleeping
        takes that slot; the less urgent one reserves again (behind it) or gives up. Among
        equals, the earlier caller keeps its place (a caller pushed back takes the slot of a
        later one of its own priority).
        """
        deadline = self.clock() + max_wait
        self._arrivals += 1
        rank = (priority, self._arrivals)
        while True:
            now = self.clock()
            bucket = self._bucket(key, now)
            blocked = max(0.0, bucket.blocked_until - now)
            at = now + max(blocked, max(0.0, (1.0 - bucket.tokens) / self.per_second) if paced else 0.0)
            victim = min((s for s in bucket.sleepers if s.rank > rank and s.at < at and s.at <= deadline),
                         key=lambda s: s.at, default=None) if paced else None
            if victim is not None:
                bucket.sleepers.remove(victim)
                victim.taken.set()  # its token is ours now; it queues again
                at = max(victim.at, now + blocked)
            elif at > deadline:
                return Slot(False, at - now)
            elif paced:
                bucket.tokens -= 1.0
            if at <= now:
                return Slot(True, 0.0)
            me = _Sleeper(rank, at)
            bucket.sleepers.append(me)
            try:
                await asyncio.wait_for(me.taken.wait(), timeout=at - now)
            except TimeoutError:
                pass
            finally:
                if me in bucket.sleepers:
                    bucket.sleepers.remove(me)
            if not me.taken.is_set():
                return Slot(True, at - (deadline - max_wait))

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


def retry_after(exc: SlackApiError) -> float | None:
    """Seconds Slack asked to wait (its Retry-After, at least 1) if ``exc`` is a 429; else None."""
    if exc.response.status_code != 429:
        return None
    try:
        return max(1.0, float(exc.response.headers.get("Retry-After", "1")))
    except (TypeError, ValueError):
        return 1.0
