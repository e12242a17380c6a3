"""Pages Bluesky's notifications into the desk, each page committed with the cursor that covers it.

One poll: read the cursor, then fetch pages of ``listNotifications`` (reasons mention,
reply, quote) newest first until the floor is reached, each page's mentions ingested in
one transaction with the cursor that records them (``notification_cursor``). Within a
page mentions are ingested oldest first, so a thread's first post opens its ticket when
both arrive together. After the floor moved, ``updateSeen`` marks the notifications
read on Bluesky (a courtesy to people reading the account in the app: the desk's own
position is its cursor, never Bluesky's read marker).

What stops a poll early keeps its place: the rate budget saying "not yet", a 429
(waits for the PDS's reset), a 5xx or network failure (backs off), the page limit per
poll. An exception while ingesting propagates with the cursor untouched.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from atproto import models
from atproto_client.exceptions import RateLimitExceededError, RequestErrorBase

from socialdesk.core.errors import DeskError
from socialdesk.core.ingest import IngestOutcome
from socialdesk.core.runtime.metrics import metrics_for
from socialdesk.core.store.cursors import CursorAdvance
from socialdesk.plugins.bluesky.brand import BrandAccount
from socialdesk.plugins.bluesky.connection import BlueskyConnection, CredentialsRefused, LoginDeferred
from socialdesk.plugins.bluesky.errors import API_ERRORS, describe, headers_of, status_of
from socialdesk.plugins.bluesky.mentions import REASONS, is_inbound, parse_time, to_mention
from socialdesk.plugins.bluesky.notification_cursor import NotificationCursor
from socialdesk.plugins.bluesky.settings import PLUGIN_NAME

if TYPE_CHECKING:
    from socialdesk.plugins.bluesky.runtime import BlueskyRuntime

log = logging.getLogger(__name__)

JOB_ID = "bluesky.poll_notifications"
CURSOR_KEY = "notifications:{did}"
MAX_PAGES_PER_POLL = 20  # a deep backlog continues at the next poll, from the stored run
LIST_NOTIFICATIONS = "app.bsky.notification.listNotifications"
UPDATE_SEEN = "app.bsky.notification.updateSeen"


@dataclass(frozen=True)
class PollReport:
    """What one poll did (logged, and read by tests)."""

    pages: int = 0
    new: int = 0  # mentions that became or joined a ticket
    duplicates: int = 0
    skipped: int = 0  # the brand's own posts, unreadable records
    caught_up: bool = False
    stopped: str | None = None
    resume_at: datetime | None = None


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def _indexed(notification: Any) -> datetime | None:
    try:
        return parse_time(str(notification["indexedAt"]))
    except (KeyError, TypeError, ValueError):
        return None


class NotificationPoller:
    def __init__(self, runtime: BlueskyRuntime) -> None:
        self._runtime = runtime
        self._lock = asyncio.Lock()  # one poll at a time in this desk

    async def poll(self) -> PollReport:
        async with self._lock:
            report = await self._poll()
        log.info("bluesky poll", extra={"pages": report.pages, "new": report.new, "duplicates": report.duplicates,
                                        "caught_up": report.caught_up, "stopped": report.stopped})
        return report

    async def _identify(self) -> tuple[BlueskyConnection, BrandAccount] | PollReport:
        runtime = self._runtime
        budget = runtime.reading
        try:
            connection = await runtime.connection()
            return connection, await connection.brand()
        except LoginDeferred as exc:
            return PollReport(stopped="login deferred", resume_at=_at(exc.retry_at))
        except DeskError as exc:  # refused credentials, a variable not set: an admin must act
            budget.failed(runtime.epoch())
            stopped = "credentials refused" if isinstance(exc, CredentialsRefused) else "credentials missing"
            log.error("bluesky poll cannot start", extra={"error": str(exc)})
            return PollReport(stopped=stopped, resume_at=_at(budget.not_before))
        except API_ERRORS as exc:
            if isinstance(exc, RateLimitExceededError):
                budget.rate_limited(headers_of(exc), runtime.epoch())
            else:
                budget.failed(runtime.epoch())
            metrics_for(runtime.app).api_failure(PLUGIN_NAME, "transient",
                                                 rate_limited=isinstance(exc, RateLimitExceededError))
            log.warning("bluesky poll: not logged in", extra={"error": describe(exc)})
            return PollReport(stopped=f"login failed: {describe(exc)}", resume_at=_at(budget.not_before))

    async def _cursor(self, key: str) -> NotificationCursor:
        app = self._runtime.app
        cursor = NotificationCursor.loads(await app.cursors.get(PLUGIN_NAME, key))
        if cursor is None:
            # First poll: fix the floor now, so a post arriving before the next poll is inside it.
            start = app.clock() - timedelta(minutes=self._runtime.settings.first_poll_lookback_minutes)
            cursor = NotificationCursor(floor=start)
            await app.service.ingest_many([], cursor=CursorAdvance(PLUGIN_NAME, key, cursor.dumps()))
        return cursor

    async def _poll(self) -> PollReport:
        runtime = self._runtime
        budget, app, settings = runtime.reading, runtime.app, runtime.settings
        if budget.wait_seconds(runtime.epoch()) > 0:
            return PollReport(stopped="rate budget", resume_at=_at(budget.not_before))
        identified = await self._identify()
        if isinstance(identified, PollReport):
            return identified
        connection, brand = identified
        key = CURSOR_KEY.format(did=brand.did)
        cursor = await self._cursor(key)
        start_floor = cursor.floor

        pages = new = duplicates = skipped = 0
        page_cursor = cursor.run.page if cursor.run else None
        for _ in range(MAX_PAGES_PER_POLL):
            if budget.wait_seconds(runtime.epoch()) > 0:
                return PollReport(pages, new, duplicates, skipped, stopped="rate budget",
                                  resume_at=_at(budget.not_before))
            params = models.AppBskyNotificationListNotifications.Params(
                reasons=list(REASONS), limit=settings.page_size, cursor=page_cursor)
            try:
                answer = await connection.query(LIST_NOTIFICATIONS, params)
            except RateLimitExceededError as exc:
                metrics_for(app).api_failure(PLUGIN_NAME, "transient", rate_limited=True)
                until = budget.rate_limited(headers_of(exc), runtime.epoch())
                log.info("bluesky poll: rate limited", extra={"until": _at(until).isoformat()})
                return PollReport(pages, new, duplicates, skipped, stopped="rate limited (429)", resume_at=_at(until))
            except LoginDeferred as exc:  # the session was rejected and a new login must wait
                return PollReport(pages, new, duplicates, skipped, stopped="login deferred",
                                  resume_at=_at(exc.retry_at))
            except (*API_ERRORS, DeskError) as exc:
                budget.failed(runtime.epoch())
                refused = isinstance(exc, DeskError) or status_of(exc) in (401, 403)
                metrics_for(app).api_failure(PLUGIN_NAME, "permanent" if refused else "transient")
                log.log(logging.ERROR if refused else logging.WARNING,
                        "bluesky poll failed; the next poll resumes here", extra={"error": _reason(exc)})
                return PollReport(pages, new, duplicates, skipped, stopped=_reason(exc),
                                  resume_at=_at(budget.not_before))
            budget.observe(answer.headers, runtime.epoch())
            pages += 1
            body = answer.content if isinstance(answer.content, dict) else {}
            items = [n for n in body.get("notifications") or () if isinstance(n, dict)]
            reach = cursor.reach
            dated = [(n, _indexed(n)) for n in items]
            # Undated items are kept (ingest is idempotent); dated ones below the reach are covered.
            fresh = [n for n, at in dated if at is None or at >= reach]
            next_page = body.get("cursor") if isinstance(body.get("cursor"), str) else None
            reached_floor = not items or next_page is None or any(at is not None and at < reach for _, at in dated)
            wanted = [n for n in reversed(fresh) if is_inbound(n, brand)]  # oldest first
            mentions = [m for m in (to_mention(n) for n in wanted) if m is not None]
            skipped += len(fresh) - len(mentions)
            moved = cursor.after_page([at for _, at in dated if at is not None],
                                      None if reached_floor else next_page)
            advance = CursorAdvance(PLUGIN_NAME, key, moved.dumps()) if moved != cursor else None
            if mentions or advance:
                results = await app.service.ingest_many(mentions, cursor=advance)
                added = sum(r.outcome != IngestOutcome.DUPLICATE for r in results)
                new, duplicates = new + added, duplicates + len(results) - added
            cursor = moved
            if reached_floor:
                if cursor.floor > start_floor:
                    await self._mark_seen(connection, cursor.floor)
                return PollReport(pages, new, duplicates, skipped, caught_up=True)
            page_cursor = next_page
        return PollReport(pages, new, duplicates, skipped, stopped="page limit per poll")

    async def _mark_seen(self, connection: BlueskyConnection, seen: datetime) -> None:
        """updateSeen, after the commit: a failure here loses nothing (the desk's cursor is its own)."""
        data = models.AppBskyNotificationUpdateSeen.Data(
            seen_at=seen.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"))
        try:
            await connection.procedure(UPDATE_SEEN, data, expect_output=False)
        except (*API_ERRORS, DeskError) as exc:
            log.warning("bluesky updateSeen failed; notifications stay unread in the app",
                        extra={"error": _reason(exc)})


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RequestErrorBase):
        return f"Bluesky answered {describe(exc)}" if status_of(exc) else f"network: {describe(exc)}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
