"""A gateway session: what IDENTIFY created, its sequence, and the events kept for RESUME.

A session outlives its websocket: when the connection drops the session is detached,
keeps numbering and buffering the events meant for it, and a RESUME on a new
connection replays everything after the client's last sequence number.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from socialdesk.sandbox.discord.snowflake import shard_for

if TYPE_CHECKING:
    from socialdesk.sandbox.discord.connection import GatewayConnection


@dataclass
class GatewaySession:
    user_id: int
    intents: int
    shard: tuple[int, int] | None  # (shard_id, shard_count) as sent in IDENTIFY
    buffer_size: int
    session_id: str = field(default_factory=lambda: secrets.token_hex(16))
    sequence: int = 0
    invalid: bool = False  # can no longer be resumed
    connection: GatewayConnection | None = field(default=None, repr=False)
    detached_at: float | None = None
    resumes: int = 0
    # URL paths of the latest connections, in order (bounded: a long demo reconnects many times)
    connection_paths: deque[str] = field(default_factory=lambda: deque(maxlen=64))
    _buffer: deque[dict[str, Any]] = field(init=False, repr=False)
    _evicted_through: int = 0  # highest sequence no longer in the buffer

    def __post_init__(self) -> None:
        self._buffer = deque()

    @property
    def connected(self) -> bool:
        return self.connection is not None and not self.connection.closing

    @property
    def shard_id(self) -> int:
        return self.shard[0] if self.shard else 0

    @property
    def shard_count(self) -> int:
        return self.shard[1] if self.shard else 1

    def covers(self, guild_id: int | None) -> bool:
        return guild_id is None or shard_for(guild_id, self.shard_count) == self.shard_id

    def has_intent(self, intent: int) -> bool:
        return bool(self.intents & intent)

    def dispatch_frame(self, name: str, data: dict[str, Any], *, buffered: bool = True) -> dict[str, Any]:
        """The next op 0 frame of this session; kept for RESUME unless ``buffered`` is False."""
        self.sequence += 1
        frame = {"op": 0, "t": name, "s": self.sequence, "d": data}
        if buffered:
            self._buffer.append(frame)
            while len(self._buffer) > self.buffer_size:
                self._evicted_through = self._buffer.popleft()["s"]
        return frame

    def replay_after(self, sequence: int) -> list[dict[str, Any]] | None:
        """Buffered frames after ``sequence``, or None when some of them were already forgotten."""
        if sequence > self.sequence or self._evicted_through > sequence:
            return None
        return [frame for frame in self._buffer if frame["s"] > sequence]

    def detach(self, now: float | None = None) -> None:
        self.connection = None
        self.detached_at = time.monotonic() if now is None else now

    def expired(self, window: float, now: float | None = None) -> bool:
        if self.invalid:
            return True
        if self.detached_at is None or self.connection is not None:
            return False
        return (time.monotonic() if now is None else now) - self.detached_at > window
