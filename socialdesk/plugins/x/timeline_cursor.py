"""Where a timeline poller is, stored with ``app.cursors`` and moved only with the posts it covers.

X serves a timeline newest first, in pages. A poll starting from ``since_id = S`` finds
its newest post ``N`` on the first page and reaches ``S`` only on the last one. The
cursor cannot become ``N`` before every page down to ``S`` is committed, yet holding
all pages in memory until then would lose them on a 429 or a crash halfway. So each
page is committed on its own, together with a cursor that records the run in progress:

    {"since_id": S, "run": {"newest_id": N, "below_id": B}}

meaning "everything newer than S is committed, except what lies between S and B". A
poll resumes the run with ``since_id=S, until_id=B`` (``until_id`` is exclusive and,
unlike a pagination token, never expires). When the page reaching S is committed, the
cursor becomes ``{"since_id": N}``. A crash between fetching a page and committing it
leaves the previous cursor: the page is fetched again, and ingest, idempotent on the
post id, stores nothing twice.

Before the first post is seen, the floor is a time (``start_time``), written at the
first poll so that posts arriving between polls are never outside the window.

X indexes posts with a delay of seconds: a post can reach a timeline after a newer one
was served, with an id below the floor. So requests ask from a little before the floor
(``OVERLAP_SECONDS`` earlier in snowflake time); what was stored already comes back as
a duplicate, which ingest ignores and X bills once per day at most.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from socialdesk.plugins.x.snowflake import earlier

OVERLAP_SECONDS = 30


@dataclass(frozen=True)
class PageRun:
    newest_id: str  # the floor once the run completes
    below_id: str  # committed: everything from newest_id down to, not including, this id


@dataclass(frozen=True)
class Segment:
    """The fixed parameters of a series of page requests (X wants them unchanged while paging)."""

    since_id: str | None
    start_time: datetime | None
    until_id: str | None


@dataclass(frozen=True)
class TimelineCursor:
    since_id: str | None = None
    start_time: datetime | None = None
    run: PageRun | None = None

    def segment(self, overlap_seconds: float = OVERLAP_SECONDS) -> Segment:
        # since_id supersedes start_time; X refuses neither, but one floor is clearer.
        since = earlier(self.since_id, overlap_seconds) if self.since_id else None
        return Segment(since, None if self.since_id else self.start_time, self.run.below_id if self.run else None)

    def after_page(self, post_ids: Iterable[str], more: bool) -> TimelineCursor:
        """The cursor once one page (of any posts, kept or skipped) is committed."""
        ids = [int(i) for i in post_ids]
        # Posts from the overlap below the floor never move it backwards.
        known = [int(self.run.newest_id)] if self.run else [int(self.since_id)] if self.since_id else []
        newest = max([*ids, *known], default=None)
        if more:
            if not ids:  # an empty page with a token: no new position to record
                return self
            return replace(self, run=PageRun(str(newest), str(min(ids))))
        if newest is None or (self.run is None and str(newest) == self.since_id):
            return self  # caught up with nothing new
        return TimelineCursor(since_id=str(newest))

    def with_start_time_at_least(self, earliest: datetime) -> TimelineCursor:
        """Recent search forgets posts older than seven days and refuses older start times."""
        if self.since_id is None and self.start_time is not None and self.start_time < earliest:
            return replace(self, start_time=earliest)
        return self

    def dumps(self) -> str:
        value: dict[str, Any] = {}
        if self.since_id is not None:
            value["since_id"] = self.since_id
        if self.start_time is not None:
            value["start_time"] = self.start_time.isoformat()
        if self.run is not None:
            value["run"] = {"newest_id": self.run.newest_id, "below_id": self.run.below_id}
        return json.dumps(value, sort_keys=True)

    @classmethod
    def loads(cls, stored: str | None) -> TimelineCursor | None:
        """The stored cursor, or None when this timeline was never polled."""
        if stored is None:
            return None
        value = json.loads(stored)
        run = value.get("run")
        start = value.get("start_time")
        return cls(since_id=value.get("since_id"), start_time=datetime.fromisoformat(start) if start else None,
                   run=PageRun(run["newest_id"], run["below_id"]) if run else None)
