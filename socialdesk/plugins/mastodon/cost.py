"""What catching up costs: requests per Mastodon rate-limit window and per day.

Mastodon counts every request of the account against one budget, 300 per 5 minutes by
default. With the stream connected, mentions cost nothing to receive; only the catch-up
polls and the thread lookups cost requests:

* one ``GET /api/v1/notifications`` per catch-up (every ``catch_up_interval`` and at each
  stream reconnect), plus one more per ``page_size`` mentions waiting;
* one ``GET /api/v1/statuses/:id/context`` per reply-mention whose parent the desk does not
  store yet (a first mention in a thread begun elsewhere);
* per agent reply: one ``GET /api/v1/statuses/:id`` (visibility) and one ``POST``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WINDOW_SECONDS = 300
DAY_SECONDS = 86_400
DEFAULT_WINDOW_LIMIT = 300


@dataclass(frozen=True)
class CatchUpCost:
    interval: int

    @property
    def per_window(self) -> int:
        return math.ceil(WINDOW_SECONDS / self.interval)

    @property
    def per_day(self) -> int:
        return math.ceil(DAY_SECONDS / self.interval)

    def share_of_window(self, limit: int = DEFAULT_WINDOW_LIMIT) -> float:
        return self.per_window / limit

    def summary(self) -> str:
        return (f"catch-up every {self.interval} s: {self.per_window} request(s) per 5-minute window "
                f"({self.share_of_window():.1%} of Mastodon's default 300), {self.per_day:,} per day, "
                "plus one per page of waiting mentions")


def catch_up_cost(interval: int) -> CatchUpCost:
    return CatchUpCost(interval)
