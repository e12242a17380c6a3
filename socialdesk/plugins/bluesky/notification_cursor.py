"""Where the notifications poller is, stored with ``app.cursors`` and moved only with what it covers.

Bluesky serves notifications newest first, in pages joined by an opaque ``cursor``;
there is no "since" parameter. A poll pages down from the newest until it reaches
notifications at or below the committed floor (an ``indexedAt``). The floor cannot
move to the newest notification before every page down to it is committed, and
holding all pages in memory would lose them on a 429 or a crash halfway. So each page
is committed on its own, with a cursor that records the run in progress:

    {"floor": F, "run": {"newest": N, "page": C}}

meaning "everything indexed after F is committed, except what lies beyond page cursor
C". A poll resumes the run from C (the AppView's cursors are positions in time, they
do not expire). When the page reaching F is committed, the cursor becomes
``{"floor": N}``. A crash between fetching a page and committing it leaves the previous
cursor: the page is fetched again, and ingest, idempotent on the post URI, stores
nothing twice.

Posts can be indexed slightly out of order, so a poll reads ``OVERLAP_SECONDS`` below
the floor; what was stored already comes back as a duplicate, which ingest ignores.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

OVERLAP_SECONDS = 30


@dataclass(frozen=True)
class PageRun:
    newest: datetime  # the floor once the run completes
    page: str  # the listNotifications cursor of the first page not yet committed


@dataclass(frozen=True)
class NotificationCursor:
    floor: datetime
    run: PageRun | None = None

    @property
    def reach(self) -> datetime:
        """Notifications indexed at or after this are read; older ones are covered."""
        return self.floor - timedelta(seconds=OVERLAP_SECONDS)

    def after_page(self, indexed: list[datetime], next_page: str | None) -> NotificationCursor:
        """The cursor once one page is committed; ``next_page`` None when the poll reached the floor."""
        newest = max([*indexed, self.run.newest if self.run else self.floor])
        if next_page is None:
            return NotificationCursor(floor=newest)
        return NotificationCursor(floor=self.floor, run=PageRun(newest, next_page))

    def dumps(self) -> str:
        value: dict[str, Any] = {"floor": self.floor.isoformat()}
        if self.run is not None:
            value["run"] = {"newest": self.run.newest.isoformat(), "page": self.run.page}
        return json.dumps(value, sort_keys=True)

    @classmethod
    def loads(cls, stored: str | None) -> NotificationCursor | None:
        """The stored cursor, or None when the notifications were never polled."""
        if stored is None:
            return None
        value = json.loads(stored)
        run = value.get("run")
        return cls(floor=datetime.fromisoformat(value["floor"]),
                   run=PageRun(datetime.fromisoformat(run["newest"]), run["page"]) if run else None)
