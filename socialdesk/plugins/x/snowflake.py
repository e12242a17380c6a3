"""X's ids are snowflakes: (milliseconds since X's epoch) << 22 | worker | sequence.

So an id says when its post was made, and ids compare in time order.
"""

from __future__ import annotations

from datetime import datetime, timezone

TWITTER_EPOCH_MS = 1288834974657  # 2010-11-04T01:42:54.657Z
TIMESTAMP_SHIFT = 22


def minted_at(post_id: str) -> datetime:
    millis = (int(post_id) >> TIMESTAMP_SHIFT) + TWITTER_EPOCH_MS
    return datetime.fromtimestamp(millis / 1000, tz=timezone.utc)


def earlier(post_id: str, seconds: float) -> str:
    """The smallest id X could have minted ``seconds`` before ``post_id``."""
    if seconds <= 0:
        return post_id
    millis = (int(post_id) >> TIMESTAMP_SHIFT) - int(seconds * 1000)
    return str(max(millis, 0) << TIMESTAMP_SHIFT)
