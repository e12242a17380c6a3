"""The X timelines a poller can follow: the brand's mentions, and an optional recent search.

Each says which endpoint it calls (and so which rate budget it spends), where its
cursor is stored, and how to ask for one page of a segment.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from socialdesk.plugins.x.api_response import ApiAnswer, read_answer
from socialdesk.plugins.x.brand import BrandAccount
from socialdesk.plugins.x.connection import XConnection
from socialdesk.plugins.x.mentions import EXPANSIONS, MEDIA_FIELDS, TWEET_FIELDS, USER_FIELDS
from socialdesk.plugins.x.timeline_cursor import Segment, TimelineCursor

MENTIONS_WINDOW = 800  # GET /2/users/:id/mentions serves the newest 800 mentions, no more
SEARCH_WINDOW = timedelta(days=7)  # recent search covers the last seven days
SEARCH_MARGIN = timedelta(minutes=1)  # X checks start_time against its own clock


class Timeline(Protocol):
    name: str  # also the rate-budget key: one budget per endpoint
    job_id: str
    window: int | None  # how many posts X serves at most (older ones are not served at all)

    def cursor_key(self, brand: BrandAccount) -> str: ...

    def bounded(self, cursor: TimelineCursor, now: datetime) -> TimelineCursor: ...

    async def page(self, connection: XConnection, brand: BrandAccount, segment: Segment, token: str | None,
                   max_results: int) -> ApiAnswer: ...


@dataclass(frozen=True)
class MentionsTimeline:
    """GET /2/users/:id/mentions: posts that @mention the brand (X serves the newest 800)."""

    name: str = "mentions"
    job_id: str = "x.poll_mentions"
    window: int | None = MENTIONS_WINDOW

    def cursor_key(self, brand: BrandAccount) -> str:
        # Per account: pointing the desk at another account must not reuse this one's since_id.
        return f"mentions:{brand.id}"

    def bounded(self, cursor: TimelineCursor, now: datetime) -> TimelineCursor:
        return cursor

    async def page(self, connection: XConnection, brand: BrandAccount, segment: Segment, token: str | None,
                   max_results: int) -> ApiAnswer:
        response = await connection.reader.get_users_mentions(
            brand.id, since_id=segment.since_id, start_time=segment.start_time, until_id=segment.until_id,
            pagination_token=token, max_results=max_results, expansions=EXPANSIONS, tweet_fields=TWEET_FIELDS,
            user_fields=USER_FIELDS, media_fields=MEDIA_FIELDS, user_auth=False,
        )
        return await read_answer(response)


@dataclass(frozen=True)
class SearchTimeline:
    """GET /2/tweets/search/recent: brand talk without the @handle (``search_query``)."""

    query: str
    name: str = "search"
    job_id: str = "x.poll_search"
    window: int | None = None  # seven days, however many

    def cursor_key(self, brand: BrandAccount) -> str:
        # Per query: a changed query starts afresh instead of inheriting a since_id it never searched.
        return "search:" + hashlib.sha256(self.query.encode()).hexdigest()[:16]

    def bounded(self, cursor: TimelineCursor, now: datetime) -> TimelineCursor:
        return cursor.with_start_time_at_least(now - SEARCH_WINDOW + SEARCH_MARGIN)

    async def page(self, connection: XConnection, brand: BrandAccount, segment: Segment, token: str | None,
                   max_results: int) -> ApiAnswer:
        response = await connection.reader.search_recent_tweets(
            self.query, since_id=segment.since_id, start_time=segment.start_time, until_id=segment.until_id,
            next_token=token, max_results=max_results, expansions=EXPANSIONS, tweet_fields=TWEET_FIELDS,
            user_fields=USER_FIELDS, media_fields=MEDIA_FIELDS, user_auth=False,
        )
        return await read_answer(response)
