"""Backfill: the forum's latest posts since the last one stored, so a lost webhook loses nothing.

``GET /posts.json`` lists the latest posts newest first; ``before=<id>`` pages back.
The backfill pages back until it reaches the cursor (the highest post id it has
covered), then ingests oldest first in chunks, each chunk's cursor committed in the same
transaction as its mentions: a crash mid-way resumes after the last committed chunk.
Webhooks never move the cursor (a post delivered while an earlier one was lost must not
hide the lost one). The first run only records where the forum is: history before the
desk was set up is not imported. A 429 pauses the backfill until Discourse's wait is over.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from socialdesk.core.store.cursors import CursorAdvance
from socialdesk.plugins.discourse.posts import ForumPost, NotAPost, parse_post
from socialdesk.plugins.discourse.runtime import DiscourseRuntime
from socialdesk.plugins.discourse.selection import wanted
from socialdesk.plugins.discourse.settings import PLUGIN_NAME

log = logging.getLogger(__name__)
CURSOR_KEY = "last_post_id"
CHUNK = 50


@dataclass(frozen=True, slots=True)
class BackfillReport:
    pages: int = 0
    seen: int = 0
    ingested: int = 0
    cursor: int | None = None
    paused: bool = False


def _posts(answer: Any) -> list[Any]:
    posts = answer.get("latest_posts") if isinstance(answer, dict) else None
    return posts if isinstance(posts, list) else []


async def backfill(runtime: DiscourseRuntime) -> BackfillReport:
    app, settings, client = runtime.app, runtime.settings, runtime.client()
    now = app.clock().timestamp()
    if runtime.backfill_not_before > now:
        return BackfillReport(paused=True)
    stored = await app.cursors.get(PLUGIN_NAME, CURSOR_KEY)
    cursor = int(stored) if stored is not None else None
    collected: dict[int, ForumPost] = {}
    before: int | None = None
    pages = 0
    reached = False
    while pages < settings.backfill_max_pages:
        answer = await client.get("/posts.json", params={"before": str(before)} if before is not None else None)
        pages += 1
        raw_posts = _posts(answer)
        ids: list[int] = []
        for raw in raw_posts:
            try:
                post = parse_post(raw)
            except NotAPost as exc:  # one odd post must not stop the forum
                log.warning("discourse backfill: a post was skipped", extra={"error": str(exc)})
                continue
            ids.append(post.id)
            if cursor is not None and post.id > cursor:
                collected[post.id] = post
        if cursor is None:  # first run: remember where the forum is, import no history
            newest = max(ids, default=0)
            await app.cursors.set(CursorAdvance(PLUGIN_NAME, CURSOR_KEY, str(newest)), app.clock())
            return BackfillReport(pages=pages, cursor=newest)
        if not raw_posts or not ids or min(ids) <= cursor:
            reached = True
            break
        before = min(ids)
    if not reached:
        log.error("discourse backfill: page limit reached before the last stored post; older posts missed "
                  "meanwhile are not backfilled; raise plugins.discourse.backfill_max_pages",
                  extra={"pages": pages, "cursor": cursor})
    ordered = [collected[i] for i in sorted(collected)]
    ingested = 0
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start:start + CHUNK]
        mentions = await wanted(runtime, chunk)
        advance = CursorAdvance(PLUGIN_NAME, CURSOR_KEY, str(chunk[-1].id))
        await app.service.ingest_many(mentions, cursor=advance)
        ingested += len(mentions)
        cursor = chunk[-1].id
    return BackfillReport(pages=pages, seen=len(ordered), ingested=ingested, cursor=cursor)
