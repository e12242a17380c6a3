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

X serves only the newest 800 mentions: a run that received that many and still did
not reach its floor left a gap, kept in the cursor as ``gaps`` (``since_id`` or
``start_time`` below, ``until_id`` above, both exclusive) until recent search has filled
it (:mod:`socialdesk.plugins.x.gap_fill`). A run's ``served`` counts what it received.

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
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from socialdesk.plugins.x.snowflake import earlier

OVERLAP_SECONDS = 30


@dataclass(frozen=True)
class PageRun:
    newest_id: str  # the floor once the run completes
    below_id: str  # committed: everything from newest_id down to, not including, this id
    # Posts X served in this run so far (its window holds 800 mentions); bookkeeping, not a position.
    served: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Gap:
    """Posts X's window could not serve: newer than ``since_id`` (or from ``start_time``),
    older than ``until_id``, which was written at ``until_time``."""

    until_id: str
    until_time: datetime | None
    since_id: str | None = None
    start_time: datetime | None = None

    def dumps(self) -> dict[str, Any]:
        value: dict[str, Any] = {"until_id": self.until_id}
        if self.until_time is not None:
            value["until_time"] = self.until_time.isoformat()
        if self.since_id is not None:
            value["since_id"] = self.since_id
        if self.start_time is not None:
            value["start_time"] = self.start_time.isoformat()
        return value

    @classmethod
    def loads(cls, value: dict[str, Any]) -> Gap:
        def when(key: str) -> datetime | None:
            return datetime.fromisoformat(value[key]) if value.get(key) else None

        return cls(str(value["until_id"]), when("until_time"), value.get("since_id"), when("start_time"))


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
    gaps: tuple[Gap, ...] = ()

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
            served = (self.run.served if self.run else 0) + len(ids)
            return replace(self, run=PageRun(str(newest), str(min(ids)), served))
        if newest is None or (self.run is None and str(newest) == self.since_id):
            return self  # caught up with nothing new
        return TimelineCursor(since_id=str(newest), gaps=self.gaps)

    def served_in_run(self, page_size: int) -> int:
        """Posts served by this run including a last page of ``page_size``."""
        return (self.run.served if self.run else 0) + page_size

    def with_gap(self, gap: Gap) -> TimelineCursor:
        return replace(self, gaps=(*self.gaps, gap))

    def with_gap_replaced(self, old: Gap, new: Gap | None) -> TimelineCursor:
        """``old`` narrowed to ``new`` (filled in part), or gone (``None``: filled or given up)."""
        return replace(self, gaps=tuple(g for g in (new if g == old else g for g in self.gaps) if g is not None))

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
            if self.run.served:
                value["run"]["served"] = self.run.served
        if self.gaps:
            value["gaps"] = [gap.dumps() for gap in self.gaps]
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
                   run=PageRun(run["newest_id"], run["below_id"], int(run.get("served", 0))) if run else None,
                   gaps=tuple(Gap.loads(g) for g in value.get("gaps") or ()))
