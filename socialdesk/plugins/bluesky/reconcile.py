"""Was a reply posted after all? Look for it in the thread instead of guessing.

After an ambiguous failure (the answer to createRecord never arrived) the desk does not
send again. It reads the thread under the post it answered (``getPostThread``, depth 1)
and takes the oldest reply by the brand with the same text that is not already recorded
as another reply. Bluesky stores the text exactly as sent, so texts compare as they are.
A thread that cannot be read (the post was deleted, the network is down) raises: not
knowing is not "not posted".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from atproto import models
from sqlalchemy import select

from socialdesk.core.platform import ReplyRequest, SentReply
from socialdesk.core.store.models import Message
from socialdesk.plugins.bluesky.mentions import PLATFORM

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp
    from socialdesk.plugins.bluesky.runtime import BlueskyRuntime

GET_POST_THREAD = "app.bsky.feed.getPostThread"


async def recorded_post_uris(app: DeskApp, uris: list[str]) -> set[str]:
    """Which of these posts the desk already holds as sent replies."""
    async with app.database.sessions() as session:
        rows = await session.scalars(select(Message.external_id).where(
            Message.platform == PLATFORM, Message.direction == "outbound", Message.external_id.in_(uris)))
        return {row for row in rows if row}


def _replies(thread: Any) -> list[dict[str, Any]]:
    if not isinstance(thread, dict) or thread.get("$type") != "app.bsky.feed.defs#threadViewPost":
        raise LookupError("the post answered is not in the thread any more (deleted or blocked)")
    return [r["post"] for r in thread.get("replies") or ()
            if isinstance(r, dict) and isinstance(r.get("post"), dict)]


async def find_posted_reply(runtime: BlueskyRuntime, request: ReplyRequest) -> SentReply | None:
    """Our post answering ``request``, if Bluesky has it; raises on API and network errors."""
    connection = await runtime.connection()
    brand = await connection.brand()
    target = request.in_reply_to_id or request.conversation_id
    params = models.AppBskyFeedGetPostThread.Params(uri=target, depth=1, parent_height=0)
    answer = await connection.query(GET_POST_THREAD, params)
    runtime.reading.observe(answer.headers, runtime.epoch())
    thread = answer.content.get("thread") if isinstance(answer.content, dict) else None
    matches = []
    for post in _replies(thread):
        record = post.get("record") or {}
        parent = ((record.get("reply") or {}).get("parent") or {}).get("uri")
        if (post.get("author") or {}).get("did") == brand.did and parent == target \
                and record.get("text") == request.text:
            matches.append(post)
    if not matches:
        return None
    recorded = await recorded_post_uris(runtime.app, [str(p["uri"]) for p in matches])
    unclaimed = sorted((p for p in matches if p["uri"] not in recorded), key=lambda p: str(p.get("indexedAt")))
    if not unclaimed:
        return None
    uri = str(unclaimed[0]["uri"])
    return SentReply(platform_id=uri, url=brand.post_url(uri))
