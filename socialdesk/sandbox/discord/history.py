"""One channel's messages, paged the way GET /channels/{id}/messages pages them."""

from __future__ import annotations

import bisect
from typing import Any


class ChannelHistory:
    """Messages in id order (ids only grow); the oldest are forgotten past ``capacity``."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._ids: list[int] = []
        self._messages: dict[int, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, message: dict[str, Any]) -> None:
        message_id = int(message["id"])
        if self._ids and message_id <= self._ids[-1]:
            raise ValueError("messages must be added in id order")
        self._ids.append(message_id)
        self._messages[message_id] = message
        if len(self._ids) > self._capacity:
            # Trim in chunks so adding stays O(1) amortised.
            drop = max(1, self._capacity // 10)
            for old in self._ids[:drop]:
                del self._messages[old]
            del self._ids[:drop]

    def get(self, message_id: int) -> dict[str, Any] | None:
        return self._messages.get(message_id)

    def remove(self, message_id: int) -> dict[str, Any] | None:
        message = self._messages.pop(message_id, None)
        if message is not None:
            del self._ids[bisect.bisect_left(self._ids, message_id)]
        return message

    def oldest_first(self) -> list[dict[str, Any]]:
        return [self._messages[i] for i in self._ids]

    def page(self, limit: int, before: int | None = None, after: int | None = None,
             around: int | None = None) -> list[dict[str, Any]]:
        """Newest first, like Discord. ``after`` gives the ``limit`` messages right after the id,
        ``around`` about half before and half after it (the id itself included)."""
        ids = self._ids
        if around is not None:
            start = bisect.bisect_left(ids, around)
            newer = ids[start:start + (limit + 1) // 2]
            older = ids[max(0, start - (limit - len(newer))):start]
            chosen = older + newer
        elif after is not None:
            start = bisect.bisect_right(ids, after)
            end = bisect.bisect_left(ids, before) if before is not None else len(ids)
            chosen = ids[start:min(end, start + limit)]
        else:
            end = bisect.bisect_left(ids, before) if before is not None else len(ids)
            chosen = ids[max(0, end - limit):end]
        return [self._messages[i] for i in reversed(chosen)]
