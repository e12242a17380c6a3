"""Catching up with mention notifications: ``GET /api/v1/notifications?types[]=mention``.

Runs when the user stream (re)connects, at start-up, and every ``catch_up_interval``
as a safety net, so that whatever arrived while the desk was stopped or the stream was
down is ingested. The cursor is the newest notification id the desk has committed:
every notification above it is asked for with ``min_id``, the forward-paging form of
``since_id`` (``since_id`` answers the *newest* page above the cursor, which would
leave a gap below it when more than a page arrived; ``min_id`` answers the page
immediately above it). Each page's mentions are ingested in one transaction with the
cursor that covers them, oldest first, so a crash or a 429 halfway loses nothing and
repeats nothing (ingest is idempotent on the status id anyway).

The first catch-up of an account has no cursor: it reads back
``first_poll_lookback_minutes`` and starts the cursor at the newest notification.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from mastodon import MastodonAPIError, MastodonNetworkError, MastodonRatelimitError

from socialdesk.core.errors import DeskError
from socialdesk.core.ingest import IngestOutcome
from socialdesk.core.mention import Mention
from socialdesk.core.runtime.metrics import metrics_for
from socialdesk.core.store.cursors import CursorAdvance
from socialdesk.plugins.mastodon.api_errors import CALL_ERRORS, describe, status_of
from socialdesk.plugins.mastodon.mentions import is_inbound, status_of as status_in, timestamp, to_mention
from socialdesk.plugins.mastodon.settings import PLUGIN_NAME
from socialdesk.plugins.mastodon.stored import stored_status_ids
from socialdesk.plugins.mastodon.threads import conversation_of

if TYPE_CHECKING:
    from socialdesk.plugins.mastodon.runtime import MastodonRuntime

log = logging.getLogger(__name__)

MAX_PAGES_PER_POLL = 25  # a deeper backlog continues at the next catch-up, from the stored cursor
MAX_LOOKBACK_PAGES = 10


@dataclass(frozen=True)
class PollReport:
    """What one catch-up did (logged, and read by tests)."""

    pages: int = 0
    new: int = 0  # mentions that became or joined a ticket
    duplicates: int = 0  # already stored (the stream was first, or an earlier page)
    skipped: int = 0  # the brand's own statuses, unreadable or vanished ones
    caught_up: bool = False
    stopped: str | None = None  # why it ended before catching up
    resume_at: datetime | None = None


def cursor_key(brand_id: str) -> str:
    return f"notifications:{brand_id}"


class MentionConverter:
    """Notifications -> Mentions with their conversations; shared by the catch-up and the stream."""

    def __init__(self, runtime: MastodonRuntime) -> None:
        self._runtime = runtime

    async def convert(self, notifications: Sequence[Mapping[str, Any]], brand_id: str,
                      ) -> tuple[list[Mention], int, int]:
        """(mentions oldest first, how many are stored already, how many were skipped)."""
        readable = [s for s in (status_in(n) for n in notifications) if s is not None]
        statuses = sorted((s for s in readable if is_inbound(s, brand_id)), key=lambda s: int(s["id"]))
        skipped = len(notifications) - len(statuses)  # other types, vanished statuses, the brand's own
        known = await stored_status_ids(self._runtime.app, [str(s["id"]) for s in statuses])
        mentions: list[Mention] = []
        for status in statuses:
            if str(status["id"]) in known:
                continue
            try:
                conversation = await conversation_of(self._runtime, status)
            except MastodonAPIError as exc:
                if status_of(exc) != 404:
                    raise
                skipped += 1  # deleted between the notification and now: nothing to answer
                continue
            mention = to_mention(status, conversation)
            if mention is None:
                skipped += 1
            else:
                mentions.append(mention)
        return mentions, len(known), skipped


class CatchUp:
    def __init__(self, runtime: MastodonRuntime) -> None:
        self._runtime = runtime
        self._lock = asyncio.Lock()  # one catch-up at a time in this desk
        self.converter = MentionConverter(runtime)

    async def poll(self) -> PollReport:
        async with self._lock:
            report = await self._poll()
        log.info("mastodon catch-up", extra={"pages": report.pages, "new": report.new,
                                            "duplicates": report.duplicates, "caught_up": report.caught_up,
                                            "stopped": report.stopped})
        return report

    async def _poll(self) -> PollReport:
        runtime = self._runtime
        budget = runtime.budget
        if budget.wait_seconds(runtime.epoch(), polling=True) > 0:
            return PollReport(stopped="rate budget", resume_at=_at(runtime.epoch() + budget.wait_seconds(
                runtime.epoch(), polling=True)))
        try:
            connection = await runtime.connection()
            brand = await connection.brand()
        except DeskError as exc:  # refused token, unset variable or api_base: an admin must act
            budget.failed(runtime.epoch())
            log.error("mastodon catch-up cannot start", extra={"error": str(exc)})
            return PollReport(stopped=str(exc), resume_at=_at(budget.not_before))
        except CALL_ERRORS as exc:
            return self._failed(PollReport(), exc)
        key = cursor_key(brand.id)
        stored = await runtime.app.cursors.get(PLUGIN_NAME, key)
        report = PollReport()
        if stored is None:
            return await self._first(connection, brand.id, key)
        floor = str(json.loads(stored)["min_id"])
        for _ in range(MAX_PAGES_PER_POLL):
            if budget.wait_seconds(runtime.epoch(), polling=True) > 0:
                return _with(report, stopped="rate budget", resume_at=_at(budget.not_before))
            try:
                page = await connection.call(connection.client.notifications, types=["mention"], min_id=floor,
                                             limit=runtime.settings.page_size)
                mentions, known, skipped = await self.converter.convert(page, brand.id)
            except CALL_ERRORS as exc:
                return self._failed(report, exc)
            if not page:
                return _with(report, caught_up=True)
            floor = str(max(int(n["id"]) for n in page))
            report = await self._ingest(report, mentions, known, skipped, CursorAdvance(PLUGIN_NAME, key,
                                                                                          _cursor(floor)))
            if len(page) < runtime.settings.page_size:
                return _with(report, caught_up=True)
        return _with(report, stopped="page limit per catch-up")

    async def _first(self, connection: Any, brand_id: str, key: str) -> PollReport:
        """No cursor yet: read back the lookback window, newest first, then start the cursor at the top."""
        runtime = self._runtime
        since = runtime.app.clock() - timedelta(minutes=runtime.settings.first_poll_lookback_minutes)
        collected: list[Mapping[str, Any]] = []
        newest: str | None = None
        below: str | None = None
        report = PollReport()
        try:
            for _ in range(MAX_LOOKBACK_PAGES):
                page = await connection.call(connection.client.notifications, types=["mention"], max_id=below,
                                             limit=runtime.settings.page_size)
                report = _with(report, pages=report.pages + 1)
                if not page:
                    break
                newest = newest or str(max(int(n["id"]) for n in page))
                recent = [n for n in page if timestamp(n["created_at"]) >= since]
                collected.extend(recent)
                if len(recent) < len(page) or len(page) < runtime.settings.page_size:
                    break
                below = str(min(int(n["id"]) for n in page))
            mentions, known, skipped = await self.converter.convert(collected, brand_id)
        except CALL_ERRORS as exc:
            return self._failed(report, exc)
        report = _with(report, pages=report.pages - 1)  # _ingest counts the page it commits
        return _with(await self._ingest(report, mentions, known, skipped,
                                        CursorAdvance(PLUGIN_NAME, key, _cursor(newest or "0"))), caught_up=True)

    async def _ingest(self, report: PollReport, mentions: list[Mention], known: int, skipped: int,
                      advance: CursorAdvance) -> PollReport:
        results = await self._runtime.app.service.ingest_many(mentions, cursor=advance)
        fresh = sum(r.outcome != IngestOutcome.DUPLICATE for r in results)
        return _with(report, pages=report.pages + 1, new=report.new + fresh,
                     duplicates=report.duplicates + known + len(results) - fresh, skipped=report.skipped + skipped)

    def _failed(self, report: PollReport, exc: BaseException) -> PollReport:
        runtime = self._runtime
        limited = isinstance(exc, MastodonRatelimitError)
        if not limited and not isinstance(exc, (MastodonAPIError, MastodonNetworkError)):
            runtime.budget.failed(runtime.epoch())  # an unreadable answer: back off as for a 5xx
        refused = status_of(exc) in (401, 403)
        metrics_for(runtime.app).api_failure(PLUGIN_NAME, "permanent" if refused else "transient",
                                             rate_limited=limited)
        reason = f"Mastodon answered {describe(exc)}" if status_of(exc) else f"{type(exc).__name__}: {exc}"
        log.log(logging.ERROR if refused else logging.WARNING,
                "mastodon catch-up stopped; the next one resumes here", extra={"error": reason})
        return _with(report, stopped=reason, resume_at=_at(max(runtime.budget.not_before, runtime.epoch())))


def _cursor(min_id: str) -> str:
    return json.dumps({"min_id": min_id})


def _with(report: PollReport, **changes: Any) -> PollReport:
    return replace(report, **changes)


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)
