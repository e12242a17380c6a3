"""Discord snowflake ids: 42 bits of milliseconds since 2015-01-01, then worker, process and increment.

The layout matters to clients: discord.py derives ``created_at`` from the id and picks
the shard of a guild with ``(guild_id >> 22) % shard_count``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone

DISCORD_EPOCH_MS = 1_420_070_400_000
_INCREMENT_BITS = 12
_MAX_INCREMENT = (1 << _INCREMENT_BITS) - 1


def snowflake_for(moment: datetime, *, worker: int = 1, process: int = 0, increment: int = 0) -> int:
    """The id Discord would give an object created at ``moment`` (timezone-aware)."""
    ms = int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS
    if ms < 0:
        raise ValueError("snowflakes start on 2015-01-01")
    return (ms << 22) | ((worker & 0x1F) << 17) | ((process & 0x1F) << 12) | (increment & _MAX_INCREMENT)


def snowflake_time(snowflake: int) -> datetime:
    """When the object with this id was created."""
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=timezone.utc)


def shard_for(guild_id: int, shard_count: int) -> int:
    """The shard that receives a guild's events; the formula Discord documents."""
    return (guild_id >> 22) % shard_count


class SnowflakeGenerator:
    """Strictly increasing ids stamped with the current time, like one Discord worker.

    Two ids made in the same millisecond differ by the increment; if the clock steps
    back (or 4096 ids are made in one millisecond) the timestamp is carried forward so
    the order of ids is always the order of creation — history paging relies on it.
    """

    def __init__(self, worker: int = 1, process: int = 0, clock: Callable[[], float] = time.time) -> None:
        self._worker = worker
        self._process = process
        self._clock = clock
        self._last_ms = -1
        self._increment = 0

    def next(self) -> int:
        ms = int(self._clock() * 1000) - DISCORD_EPOCH_MS
        if ms > self._last_ms:
            self._last_ms, self._increment = ms, 0
        else:
            self._increment += 1
            if self._increment > _MAX_INCREMENT:
                self._last_ms, self._increment = self._last_ms + 1, 0
        return (self._last_ms << 22) | (self._worker << 17) | (self._process << 12) | self._increment
