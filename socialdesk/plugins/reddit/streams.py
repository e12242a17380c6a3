"""The four listings the desk reads, and polling one of them into the desk.

Each listing is newest first. A poll pages back (asyncpraw follows ``after``) until it
meets the stream's cursor (the newest fullname already covered), then ingests oldest
first in chunks, each chunk's cursor committed with its mentions: a restart resumes
from the stored fullname, nothing lost, nothing twice. The first poll of a stream only
records where it is (no history import). Reddit's listings reach back 1000 items; a
desk down for longer than that misses the rest, and says so in the log.

Subreddit items are taken when they match a keyword, or when their submission already
has an open ticket (a follow-up joins it). Inbox items (mentions, replies to our
comments) are always taken. Our own comments never are.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import asyncpraw
from asyncpraw.models import Subreddit

from socialdesk.core.mention import Mention
from socialdesk.core.store.cursors import CursorAdvance
from socialdesk.plugins.reddit.runtime import RedditRuntime
from socialdesk.plugins.reddit.settings import PLUGIN_NAME, RedditSettings
from socialdesk.plugins.reddit.things import NotAThing, author_name, conversation_of, fields, fullname, id36, \
    matches, text_of, to_mention

log = logging.getLogger(__name__)
CHUNK = 50
LISTING_DEPTH = 1000  # Reddit serves no further back


@dataclass(frozen=True, slots=True)
class Stream:
    name: str  # also the cursor key
    kind: str  # t1 comments, t3 submissions
    keyword_filtered: bool
    listing: Callable[[asyncpraw.Reddit], AsyncIterator[Any]]

    @property
    def job_id(self) -> str:
        return f"reddit.poll_{self.name}"


@dataclass(frozen=True, slots=True)
class PollReport:
    seen: int = 0
    ingested: int = 0
    cursor: str | None = None
    paused: bool = False


def streams_for(settings: RedditSettings) -> list[Stream]:
    streams: list[Stream] = []
    if settings.inbox:
        streams.append(Stream("mentions", "t1", False, lambda r: r.inbox.mentions(limit=LISTING_DEPTH)))
        streams.append(Stream("comment_replies", "t1", False, lambda r: r.inbox.comment_replies(limit=LISTING_DEPTH)))
    if settings.subreddits:
        watched = "+".join(settings.subreddits)
        streams.append(Stream("subreddit_comments", "t1", True,
                              lambda r: Subreddit(r, watched).comments(limit=LISTING_DEPTH)))
        streams.append(Stream("subreddit_posts", "t3", True, lambda r: Subreddit(r, watched).new(limit=LISTING_DEPTH)))
    return streams


async def _wanted(runtime: RedditRuntime, stream: Stream, items: list[dict[str, Any]]) -> list[Mention]:
    settings, reddit_url = runtime.settings, runtime.settings.reddit_url
    ours = runtime.connection().account.lower()
    taken: set[str] = set()
    mentions: list[Mention] = []
    for data in items:
        try:
            if author_name(data).lower() == ours:
                continue
            conversation = conversation_of(data, stream.kind)
            if stream.keyword_filtered and conversation not in taken \
                    and not matches(text_of(data, stream.kind), settings.keywords) \
                    and not await runtime.has_open_ticket(conversation):
                continue
            mentions.append(to_mention(data, stream.kind, reddit_url))
            taken.add(conversation)
        except (NotAThing, ValueError) as exc:  # one odd item must not stop the stream
            log.warning("reddit: an item was skipped", extra={"stream": stream.name, "error": str(exc)})
    return mentions


async def poll(runtime: RedditRuntime, stream: Stream) -> PollReport:
    app = runtime.app
    if runtime.budget.wait_seconds() > 0:
        return PollReport(paused=True)
    reddit = runtime.connection().reddit
    stored = await app.cursors.get(PLUGIN_NAME, stream.name)
    floor = id36(stored) if stored else None
    newer: list[dict[str, Any]] = []
    newest: str | None = None
    reached = False
    async for thing in stream.listing(reddit):
        data = fields(thing)
        try:
            name = fullname(data, stream.kind)
        except NotAThing:
            continue
        newest = newest or name
        if floor is None:
            break
        if id36(name) <= floor:
            reached = True
            break
        newer.append(data)
    if floor is None:
        value = newest or f"{stream.kind}_0"
        await app.cursors.set(CursorAdvance(PLUGIN_NAME, stream.name, value), app.clock())
        return PollReport(cursor=value)
    if not reached and len(newer) >= LISTING_DEPTH:
        log.error("reddit: the listing ended before the stored cursor; older items are out of Reddit's reach",
                  extra={"stream": stream.name, "cursor": stored})
    newer.sort(key=lambda data: id36(fullname(data, stream.kind)))
    ingested = 0
    cursor = stored
    for start in range(0, len(newer), CHUNK):
        chunk = newer[start:start + CHUNK]
        cursor = fullname(chunk[-1], stream.kind)
        mentions = await _wanted(runtime, stream, chunk)
        await app.service.ingest_many(mentions, cursor=CursorAdvance(PLUGIN_NAME, stream.name, cursor))
        ingested += len(mentions)
    return PollReport(seen=len(newer), ingested=ingested, cursor=cursor)
