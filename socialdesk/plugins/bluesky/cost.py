"""What a poll interval costs on Bluesky, against the PDS's documented limits.

Reading is not billed; it counts against the per-IP limit of 3000 requests per 5
minutes, shared by everything on the desk's address. One poll is one
``listNotifications`` page, plus one more per further page of a backlog
(``page_size`` notifications each), plus one ``updateSeen`` when something new
arrived. The session costs one login at start-up and one ``refreshSession`` per access
token lifetime (about two hours); logins are limited to 30 per 5 minutes and 300 a day.
Writing costs points: a reply is 3 of the 5000 per hour (about 1666 replies an hour)
and 35000 per day, plus one ``getPosts`` and one ``resolveHandle`` per @handle in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WINDOW_SECONDS = 300  # the PDS's per-IP window
IP_LIMIT = 3000
DAY_SECONDS = 86_400
REFRESHES_PER_DAY = 12  # access tokens live about two hours


@dataclass(frozen=True)
class PollCost:
    poll_interval: int

    @property
    def per_window(self) -> int:
        """Requests per 5-minute window when idle (one page per poll, nothing new)."""
        return math.ceil(WINDOW_SECONDS / self.poll_interval)

    @property
    def busy_per_window(self) -> int:
        """With something new at every poll: a page and an updateSeen."""
        return 2 * self.per_window

    @property
    def per_day(self) -> int:
        return math.ceil(DAY_SECONDS / self.poll_interval) + REFRESHES_PER_DAY

    @property
    def share_of_ip_limit(self) -> float:
        return self.busy_per_window / IP_LIMIT

    def summary(self) -> str:
        return (f"every {self.poll_interval} s: {self.per_window}-{self.busy_per_window} requests per 5-minute window "
                f"({self.share_of_ip_limit:.1%} of the 3000 per IP), about {self.per_day:,} per day when idle")


def poll_cost(poll_interval: int) -> PollCost:
    return PollCost(poll_interval)
