"""Slack-shaped identifiers: message timestamps, object ids, trigger ids and secrets.

Message ``ts`` values are both ids and sort keys on Slack, so they must be unique and
strictly increasing across the workspace, in the ``1700000000.000100`` format.
"""

from __future__ import annotations

import itertools
import secrets
import string
import time
from collections.abc import Callable

_ALPHABET = string.digits + string.ascii_uppercase


class TsClock:
    """Hands out message timestamps: wall-clock microseconds, bumped to stay unique."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._last = 0

    def next(self) -> str:
        now = int(self._clock() * 1_000_000)
        self._last = max(now, self._last + 1)
        return f"{self._last // 1_000_000}.{self._last % 1_000_000:06d}"


def _base36(number: int, width: int) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, 36)
        digits = _ALPHABET[rest] + digits
    return digits.rjust(width, "0")


class IdFactory:
    """Sequential ids with Slack's prefixes (V for views, F for files...), readable in test output."""

    def __init__(self) -> None:
        self._counters: dict[str, itertools.count[int]] = {}

    def next(self, prefix: str, width: int = 10) -> str:
        counter = self._counters.setdefault(prefix, itertools.count(1))
        return prefix + _base36(next(counter), width)


def trigger_id(team_number: int = 1) -> str:
    """Like Slack's ``12345.98765.abcd...``: unguessable, because it lets its holder open a modal."""
    return f"{int(time.time())}.{team_number}.{secrets.token_hex(16)}"


def capability() -> str:
    """A secret path segment for URLs that act as credentials (response_url, upload URL)."""
    return secrets.token_urlsafe(18)
