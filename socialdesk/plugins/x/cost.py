"""What a poll interval costs: requests per X window, day and month, per timeline.

X meters the API two ways, and a poll interval matters for both:

* rate limits count requests per endpoint per 15-minute window, whether or not they
  return anything: ``900 / poll_interval`` requests per window per timeline, at least;
* billing (pay-per-use) charges for what answers return, per post and per user
  object, each counted once per UTC day: an empty poll is billed nothing, a mention
  costs one post read plus its author (once a day), whatever the interval.

So a shorter interval costs rate-limit headroom, not money, and each followed timeline
(mentions, plus the recent search when ``search_query`` is set) costs the same again.
A busy poll needs more than one page (``max_results`` posts each): add
``ceil(new posts / max_results) - 1`` requests. The desk logs this at start-up and
the plugin's README has the table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

X_WINDOW_SECONDS = 900
DAY_SECONDS = 86_400
MONTH_DAYS = 30


@dataclass(frozen=True)
class PollCost:
    poll_interval: int
    timelines: int

    @property
    def per_window(self) -> int:
        """Requests per 15-minute rate-limit window, per timeline."""
        return math.ceil(X_WINDOW_SECONDS / self.poll_interval)

    @property
    def per_day(self) -> int:
        """Requests per day, all timelines together (one page per poll)."""
        return math.ceil(DAY_SECONDS / self.poll_interval) * self.timelines

    @property
    def per_month(self) -> int:
        return self.per_day * MONTH_DAYS

    def summary(self) -> str:
        return (f"{self.timelines} timeline(s) every {self.poll_interval} s: {self.per_window} requests per "
                f"15-minute window per timeline, {self.per_day:,} per day, {self.per_month:,} per 30-day month")


def poll_cost(poll_interval: int, timelines: int = 1) -> PollCost:
    return PollCost(poll_interval, timelines)


def shortest_interval(requests_per_window: int) -> int:
    """The shortest poll interval a per-window limit sustains for one timeline."""
    return math.ceil(X_WINDOW_SECONDS / requests_per_window)
