"""Mentions beyond X's 800-mention window, fetched from recent search, or reported missing.

``GET /2/users/:id/mentions`` serves only the newest 800 mentions: a storm of more than
that within one poll interval would otherwise be lost with the poll reporting it had
caught up. The poller records such a gap in the mentions cursor
(:class:`~socialdesk.plugins.x.timeline_cursor.Gap`); here it is filled from
``GET /2/tweets/search/recent`` with ``@handle``, newest first, each page ingested with
the cursor narrowed below it (``until_id``), within the search endpoint's rate budget.
A rate limit or a 5xx leaves the rest of the gap for the next poll.

What cannot be filled (search refused by X, or the gap older than search's seven days)
is said out loud: the ``socialdesk_mention_gaps_total{platform="x"}`` metric, a warning
in the log and a notice in the desk channel naming the time range that may be missing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import aiohttp
import tweepy

from socialdesk.core.ingest import IngestOutcome
from socialdesk.core.runtime.metrics import metrics_for
from socialdesk.core.slack.channel_notice import queue_channel_notice
from socialdesk.core.store.cursors import CursorAdvance, write_cursor
from socialdesk.plugins.x.api_response import describe, headers_of
from socialdesk.plugins.x.brand import BrandAccount
from socialdesk.plugins.x.connection import XConnection
from socialdesk.plugins.x.mentions import is_inbound, to_mention
from socialdesk.plugins.x.settings import PLUGIN_NAME
from socialdesk.plugins.x.snowflake import minted_at
from socialdesk.plugins.x.timeline_cursor import Gap, Segment, TimelineCursor
from socialdesk.plugins.x.timelines import SEARCH_MARGIN, SEARCH_WINDOW, SearchTimeline

if TYPE_CHECKING:
    from socialdesk.plugins.x.runtime import XRuntime

log = logging.getLogger(__name__)

MAX_SEARCH_PAGES = 20  # per poll; the rest of a gap waits for the next one


@dataclass(frozen=True)
class FillReport:
    new: int = 0
    duplicates: int = 0
    pages: int = 0
    unfilled: int = 0  # gaps given up on (and reported)


def gap_start(gap: Gap) -> datetime | None:
    return minted_at(gap.since_id) if gap.since_id else gap.start_time


async def fill_gaps(runtime: XRuntime, connection: XConnection, brand: BrandAccount, key: str,
                    cursor: TimelineCursor) -> tuple[TimelineCursor, FillReport]:
    """Fill ``cursor``'s gaps as far as the search budget allows; returns the cursor as stored."""
    report = FillReport()
    for gap in cursor.gaps:
        cursor, report, finished = await _fill(runtime, connection, brand, key, cursor, gap, report)
        if not finished:
            break
    return cursor, report


async def _fill(runtime: XRuntime, connection: XConnection, brand: BrandAccount, key: str,
                cursor: TimelineCursor, gap: Gap, report: FillReport) -> tuple[TimelineCursor, FillReport, bool]:
    app = runtime.app
    budget = runtime.budgets["search"]
    search = SearchTimeline(f"@{brand.username}")
    oldest_searchable = app.clock() - SEARCH_WINDOW + SEARCH_MARGIN
    start = gap_start(gap)
    if start is not None and start < oldest_searchable:
        cursor = await _give_up(runtime, brand, key, cursor, gap, "it is older than recent search's seven days")
        return cursor, _add(report, unfilled=1), True
    for _ in range(MAX_SEARCH_PAGES):
        if budget.wait_seconds(runtime.epoch()) > 0:
            return cursor, report, False
        segment = Segment(gap.since_id, None if gap.since_id else gap.start_time, gap.until_id)
        try:
            answer = await search.page(connection, brand, segment, None, runtime.settings.max_results)
        except tweepy.TooManyRequests as exc:
            metrics_for(app).api_failure(PLUGIN_NAME, "transient", rate_limited=True)
            budget.rate_limited(headers_of(exc), runtime.epoch())
            return cursor, report, False
        except (tweepy.BadRequest, tweepy.Unauthorized, tweepy.Forbidden) as exc:
            metrics_for(app).api_failure(PLUGIN_NAME, "permanent")
            cursor = await _give_up(runtime, brand, key, cursor, gap, f"recent search was refused: {describe(exc)}")
            return cursor, _add(report, unfilled=1), True
        except (tweepy.HTTPException, aiohttp.ClientError, TimeoutError, ValueError) as exc:
            if isinstance(exc, tweepy.HTTPException):
                budget.observe(headers_of(exc), runtime.epoch())
            budget.failed(runtime.epoch())
            metrics_for(app).api_failure(PLUGIN_NAME, "transient")
            log.warning("x gap fill failed; the next poll goes on", extra={"error": type(exc).__name__})
            return cursor, report, False
        budget.observe(answer.headers, runtime.epoch())
        posts = answer.data if isinstance(answer.data, list) else []
        users = answer.users_by_id()
        wanted = [p for p in reversed(posts) if is_inbound(p, brand)]
        media = answer.media_by_key()
        mentions = [m for m in (to_mention(p, users, media) for p in wanted) if m is not None]
        more = bool(posts) and answer.meta.get("next_token") is not None
        narrowed = Gap(str(min(int(p["id"]) for p in posts)), None, gap.since_id, gap.start_time) if more else None
        moved = cursor.with_gap_replaced(gap, narrowed)
        results = await app.service.ingest_many(mentions, cursor=CursorAdvance(PLUGIN_NAME, key, moved.dumps()))
        fresh = sum(r.outcome != IngestOutcome.DUPLICATE for r in results)
        report = _add(report, new=fresh, duplicates=len(results) - fresh, pages=1)
        cursor = moved
        if narrowed is None:
            log.info("x mentions beyond the 800-mention window filled from recent search",
                     extra={"until_id": gap.until_id, "new": report.new})
            return cursor, report, True
        gap = narrowed
    return cursor, report, False


async def _give_up(runtime: XRuntime, brand: BrandAccount, key: str, cursor: TimelineCursor, gap: Gap,
                   why: str) -> TimelineCursor:
    app = runtime.app
    start, end = gap_start(gap), gap.until_time or minted_at(gap.until_id)
    span = f"between {_shown(start)} and {_shown(end)}"
    metrics_for(app).mention_gap(PLUGIN_NAME)
    log.warning("x mentions may be missing: more than X's 800-mention window, and recent search cannot fill it",
                extra={"from": _shown(start), "to": _shown(end), "reason": why})
    moved = cursor.with_gap_replaced(gap, None)
    async with app.database.transaction() as session:  # the notice and the cursor without the gap, together
        await write_cursor(session, CursorAdvance(PLUGIN_NAME, key, moved.dumps()), app.clock())
        queue_channel_notice(
            app, session, key=f"x_gap:{brand.id}:{gap.until_id}",
            text=(f":warning: Mentions of @{brand.username} on X written {span} may be missing: X serves only "
                  f"the newest 800 mentions, and recent search could not fill the rest ({why}). "
                  "Look at X for that period."))
    return moved


def _shown(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC") if when else "the first poll"


def _add(report: FillReport, *, new: int = 0, duplicates: int = 0, pages: int = 0, unfilled: int = 0) -> FillReport:
    return FillReport(report.new + new, report.duplicates + duplicates, report.pages + pages,
                      report.unfilled + unfilled)
