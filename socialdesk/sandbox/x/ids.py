"""Snowflake ids, as X hands them out: numeric strings that grow with time.

Clients compare them (since_id, until_id, "newest first"), so they must be strictly
increasing even when many posts share a millisecond or the test clock stands still.
"""

from __future__ import annotations

from collections.abc import Callable

TWITTER_EPOCH_MS = 1288834974657  # X's snowflake epoch (2010-11-04T01:42:54.657Z)
_WORKER_BITS = 10
_SEQUENCE_BITS = 12


class SnowflakeIds:
    """``next()`` returns a decimal id: milliseconds since X's epoch, worker, sequence."""

    def __init__(self, clock: Callable[[], float], worker: int = 1) -> None:
        self._clock = clock
        self._worker = worker & ((1 << _WORKER_BITS) - 1)
        self._last = 0

    def next(self) -> str:
        millis = max(int(self._clock() * 1000) - TWITTER_EPOCH_MS, 0)
        candidate = (millis << (_WORKER_BITS + _SEQUENCE_BITS)) | (self._worker << _SEQUENCE_BITS)
        self._last = max(candidate, self._last + 1)
        return str(self._last)


def millis_of(snowflake: str) -> int:
    """The epoch milliseconds a snowflake was minted at."""
    return (int(snowflake) >> (_WORKER_BITS + _SEQUENCE_BITS)) + TWITTER_EPOCH_MS
