"""Pages one X timeline into the desk, committing each page with the cursor that covers it.

One poll: read the cursor, then fetch pages newest first until caught up (no
``next_token``), each page's posts ingested in one transaction with the cursor that
records them (``timeline_cursor``). Posts within a page are ingested oldest first, so a
conversation's first post opens its ticket when both arrive together.

X's mentions timeline serves only the newest 800 mentions: a run that received that
many without reaching its floor records the gap in the cursor, and the poll then fills
it from recent search (:mod:`socialdesk.plugins.x.gap_fill`), or says it cannot.

What stops a poll early keeps its place: the rate budget saying "not yet", a 429
(waits for X's reset), a 5xx or network failure (backs off), the page limit per poll.
What the desk has not committed is simply fetched again. An exception while ingesting
(the database is gone, the task is cancelled) propagates with the cursor untouched.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import aiohttp
import tweepy

from socialdesk.core.store.cursors import CursorAdvance
from socialdesk.core.errors import DeskError
from socialdesk.core.ingest import IngestOutcome
from socialdesk.core.runtime.metrics import metrics_for
from socialdesk.plugins.x.api_response import describe, headers_of
from socialdesk.plugins.x.brand import BrandAccount
from socialdesk.plugins.x.connection import CredentialsRefused, XConnection
from socialdesk.plugins.x.gap_fill import fill_gaps
from socialdesk.plugins.x.mentions import created_at, is_inbound, to_mention
from socialdesk.plugins.x.settings import PLUGIN_NAME
from socialdesk.plugins.x.timeline_cursor import Gap, TimelineCursor
from socialdesk.plugins.x.timelines import Timeline

if TYPE_CHECKING:
    from socialdesk.plugins.x.runtime import XRuntime

log = logging.getLogger(__name__)

MAX_PAGES_PER_POLL = 20  # a deep backlog continues at the next poll, from the stored run


@dataclass(frozen=True)
class PollReport:
    """What one poll did (logged, and read by tests)."""

    timeline: str
    pages: int = 0
    new: int = 0  # mentions that became or joined a ticket
    duplicates: int = 0
    skipped: int = 0  # our own posts, reposts, unreadable posts
    caught_up: bool = False
    stopped: str | None = None  # why it ended before catching up
    resume_at: datetime | None = None
    gaps_open: int = 0  # ranges beyond X's window still to fill from recent search
    gaps_unfilled: int = 0  # ranges given up on this poll (reported as possibly missing)


class TimelinePoller:
    def __init__(self, runtime: XRuntime, timeline: Timeline) -> None:
        self._runtime = runtime
        self.timeline = timeline
        self._lock = asyncio.Lock()  # one poll of a timeline at a time in this desk

    async def poll(self) -> PollReport:
        async with self._lock:
            report = await self._poll()
        log.info("x poll", extra={"timeline": report.timeline, "pages": report.pages, "new": report.new,
                                  "duplicates": report.duplicates, "caught_up": report.caught_up,
                                  "stopped": report.stopped})
        return report

    async def _identify(self) -> tuple[XConnection, BrandAccount] | PollReport:
        """The connection and the brand account, or why this poll cannot start."""
        runtime, name = self._runtime, self.timeline.name
        budget = runtime.budgets[name]
        try:
            connection = await runtime.connection()
            return connection, await connection.brand()
        except DeskError as exc:  # refused credentials, or a variable not set: an admin must act
            budget.failed(runtime.epoch())
            stopped = "credentials refused" if isinstance(exc, CredentialsRefused) else "credentials missing"
            log.error("x poll cannot start", extra={"timeline": name, "error": str(exc)})
            return PollReport(name, stopped=stopped, resume_at=_at(budget.not_before))
        except (tweepy.HTTPException, aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
            budget.failed(runtime.epoch())  # users/me has its own window; back off on this timeline
            metrics_for(runtime.app).api_failure(PLUGIN_NAME, "transient",
                                                 rate_limited=isinstance(exc, tweepy.TooManyRequests))
            log.warning("x poll: brand account unknown", extra={"timeline": name, "error": _reason(exc)})
            return PollReport(name, stopped=_reason(exc), resume_at=_at(budget.not_before))

    async def _cursor(self, key: str) -> TimelineCursor:
        app = self._runtime.app
        cursor = TimelineCursor.loads(await app.cursors.get(PLUGIN_NAME, key))
        if cursor is None:
            # First poll of this timeline: fix the floor now, so that a post arriving before
            # the next poll is inside it whatever happens to this one.
            start = app.clock() - timedelta(minutes=self._runtime.settings.first_poll_lookback_minutes)
            cursor = TimelineCursor(start_time=start)
            await app.service.ingest_many([], cursor=CursorAdvance(PLUGIN_NAME, key, cursor.dumps()))
        return self.timeline.bounded(cursor, app.clock())

    async def _poll(self) -> PollReport:
        runtime, name = self._runtime, self.timeline.name
        budget = runtime.budgets[name]
        app, settings = runtime.app, runtime.settings
        if budget.wait_seconds(runtime.epoch()) > 0:
            return PollReport(name, stopped="rate budget", resume_at=_at(budget.not_before))
        identified = await self._identify()
        if isinstance(identified, PollReport):
            return identified
        connection, brand = identified
        key = self.timeline.cursor_key(brand)
        cursor = await self._cursor(key)

        pages = new = duplicates = skipped = 0
        segment, token = cursor.segment(), None
        for _ in range(MAX_PAGES_PER_POLL):
            now = runtime.epoch()
            if budget.wait_seconds(now) > 0:
                return PollReport(name, pages, new, duplicates, skipped, stopped="rate budget",
                                  resume_at=_at(budget.not_before))
            try:
                answer = await self.timeline.page(connection, brand, segment, token, settings.max_results)
            except tweepy.TooManyRequests as exc:
                metrics_for(app).api_failure(PLUGIN_NAME, "transient", rate_limited=True)
                until = budget.rate_limited(headers_of(exc), runtime.epoch())
                log.info("x poll: rate limited", extra={"timeline": name, "until": _at(until).isoformat()})
                return PollReport(name, pages, new, duplicates, skipped, stopped="rate limited (429)",
                                  resume_at=_at(until))
            except (tweepy.HTTPException, aiohttp.ClientError, TimeoutError, ValueError) as exc:
                if isinstance(exc, tweepy.HTTPException):
                    budget.observe(headers_of(exc), runtime.epoch())
                budget.failed(runtime.epoch())
                # 401/403 will not pass by themselves: an admin must look.
                refused = isinstance(exc, (tweepy.Unauthorized, tweepy.Forbidden))
                metrics_for(app).api_failure(PLUGIN_NAME, "permanent" if refused else "transient")
                level = logging.ERROR if refused else logging.WARNING
                log.log(level, "x poll failed; the next poll resumes here", extra={"timeline": name,
                                                                                   "error": _reason(exc)})
                return PollReport(name, pages, new, duplicates, skipped, stopped=_reason(exc),
                                  resume_at=_at(budget.not_before))
            budget.observe(answer.headers, runtime.epoch())
            pages += 1
            posts = answer.data if isinstance(answer.data, list) else []
            if answer.errors and not posts and "meta" not in answer.body:
                # e.g. the brand account vanished: X answers 200 with only errors
                budget.failed(runtime.epoch())
                log.warning("x poll: X answered with errors only", extra={"timeline": name,
                                                                          "errors": answer.errors[:3]})
                return PollReport(name, pages, new, duplicates, skipped, stopped="X answered with errors only",
                                  resume_at=_at(budget.not_before))
            next_token = answer.meta.get("next_token")
            users = answer.users_by_id()
            wanted = [p for p in reversed(posts) if is_inbound(p, brand)]  # oldest first
            media = answer.media_by_key()
            mentions = [m for m in (to_mention(p, users, media) for p in wanted) if m is not None]
            skipped += len(posts) - len(mentions)
            moved = cursor.after_page([str(p["id"]) for p in posts], more=next_token is not None)
            gap = self._window_gap(cursor, posts) if next_token is None else None
            if gap is not None:
                moved = moved.with_gap(gap)
                log.warning("x: more mentions than X's window serves; filling the rest from recent search",
                            extra={"timeline": name, "until_id": gap.until_id})
            advance = CursorAdvance(PLUGIN_NAME, key, moved.dumps()) if moved != cursor else None
            if mentions or advance:
                results = await app.service.ingest_many(mentions, cursor=advance)
                fresh = sum(r.outcome != IngestOutcome.DUPLICATE for r in results)
                new, duplicates = new + fresh, duplicates + len(results) - fresh
            cursor = moved
            if next_token is None:
                cursor, filled = await fill_gaps(runtime, connection, brand, key, cursor)
                return PollReport(name, pages + filled.pages, new + filled.new, duplicates + filled.duplicates,
                                  skipped, caught_up=not cursor.gaps, gaps_open=len(cursor.gaps),
                                  gaps_unfilled=filled.unfilled,
                                  stopped="mentions beyond X's window wait for recent search" if cursor.gaps else None)
            token = next_token
        return PollReport(name, pages, new, duplicates, skipped, stopped="page limit per poll")

    def _window_gap(self, cursor: TimelineCursor, last_page: list[dict[str, Any]]) -> Gap | None:
        """The range X did not serve, when this run filled X's whole window without reaching
        its floor (``cursor`` is the one before the run's last page)."""
        window = self.timeline.window
        if window is None or not last_page or cursor.served_in_run(len(last_page)) < window:
            return None
        oldest = min(last_page, key=lambda p: int(p["id"]))
        if cursor.since_id is not None:
            if int(oldest["id"]) <= int(cursor.since_id):
                return None  # the window reached the floor: nothing left out
            return Gap(str(oldest["id"]), created_at(oldest), since_id=cursor.since_id)
        if cursor.start_time is not None and created_at(oldest) <= cursor.start_time:
            return None
        return Gap(str(oldest["id"]), created_at(oldest), start_time=cursor.start_time)


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, tweepy.HTTPException):
        return f"X answered {describe(exc)}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
