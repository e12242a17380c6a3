"""Mastodon's rate-limit headers -> when the next request may go.

Mastodon counts every request of an account together: 300 per 5 minutes by default,
said on every answer as ``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (a
timestamp). Mastodon.py reads them into ``ratelimit_remaining`` and ``ratelimit_reset``
(moved onto the local clock with the answer's ``Date``), which the connection hands
here after each call. Polling keeps ``REPLY_RESERVE`` requests of every window for
replies, so a backlog of mentions never stops agents from answering; a 429 waits for
the reset Mastodon names; failures without one back off exponentially. The budget only
answers "not before T": callers skip a tick rather than sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass

REPLY_RESERVE = 20
MAX_BACKOFF_SECONDS = 300.0  # one Mastodon window


@dataclass
class RateBudget:
    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None  # desk-clock epoch seconds
    not_before: float = 0.0
    failures: int = 0

    def wait_seconds(self, now: float, *, polling: bool = False) -> float:
        """How long the next request should wait (0: go now). Polls also leave the reserve alone."""
        wait = max(0.0, self.not_before - now)
        if polling and self.remaining is not None and self.reset is not None and now < self.reset \
                and self.remaining <= REPLY_RESERVE:
            wait = max(wait, self.reset - now)
        return wait

    def observe(self, limit: int | None, remaining: int | None, reset_in: float | None, now: float) -> None:
        """An answer arrived with these headers (``reset_in``: seconds until the window resets)."""
        self.failures = 0
        if remaining is not None and reset_in is not None:
            self.limit, self.remaining, self.reset = limit, remaining, now + max(0.0, reset_in)
        if self.remaining is not None and self.remaining <= 0 and self.reset is not None and self.reset > now:
            self.not_before = self.reset
        else:
            self.not_before = now

    def rate_limited(self, reset_in: float | None, now: float) -> float:
        """Mastodon answered 429: wait for the reset it names. Returns the desk-clock second to wait for."""
        if reset_in is None or reset_in <= 0:
            return self.failed(now)
        self.remaining, self.reset = 0, now + reset_in
        self.not_before = self.reset
        return self.not_before

    def failed(self, now: float) -> float:
        """A request failed without news about the window (5xx, network): back off."""
        self.failures += 1
        self.not_before = now + min(MAX_BACKOFF_SECONDS, 5.0 * 2 ** (self.failures - 1))
        return self.not_before
