"""Was a reply posted after all? Look for it on X instead of guessing.

After an ambiguous failure (the answer to POST /2/tweets never arrived) the desk does
not send again. It searches the conversation for the brand's own posts
(``conversation_id:<id> from:<brand>``, recent search) and takes the oldest one that
answers the same post with the same text and is not already recorded as another reply.
Texts are compared as X stores them: NFC, ``&<>`` escaped, links rewritten to t.co
(so links compare by position, not address), the leading @mentions X adds to replies.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import tweepy
from sqlalchemy import select

from socialdesk.core.store.models import Message
from socialdesk.core.platform import ReplyRequest, SentReply
from socialdesk.plugins.x.api_response import headers_of, read_answer
from socialdesk.plugins.x.mentions import PLATFORM, referenced
from socialdesk.plugins.x.weighted_length import extract_urls, normalize

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp
    from socialdesk.plugins.x.runtime import XRuntime

MAX_SEARCH_PAGES = 5  # 500 brand posts in one conversation is far beyond any support thread
SEARCH_FIELDS = ["author_id", "conversation_id", "referenced_tweets", "created_at"]
_LEADING_MENTIONS = re.compile(r"^(?:@\w{1,15}\s+)+")
_LINK = "\x00link\x00"


def comparable(text: str) -> str:
    text = normalize(text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    for span in reversed(extract_urls(text)):
        text = text[:span.start] + _LINK + text[span.end:]
    return " ".join(_LEADING_MENTIONS.sub("", text.strip()).split())


async def recorded_post_ids(app: DeskApp, post_ids: list[str]) -> set[str]:
    """Which of these posts the desk already holds as sent replies."""
    async with app.database.sessions() as session:
        rows = await session.scalars(select(Message.external_id).where(
            Message.platform == PLATFORM, Message.direction == "outbound", Message.external_id.in_(post_ids)))
        return {row for row in rows if row}


async def find_posted_reply(runtime: XRuntime, request: ReplyRequest) -> SentReply | None:
    """Our post answering ``request``, if X has it; raises on API and network errors."""
    connection = await runtime.connection()
    brand = await connection.brand()
    target = request.in_reply_to_id or request.conversation_id
    wanted = comparable(request.text)
    query = f"conversation_id:{request.conversation_id} from:{brand.username}"
    budget = runtime.budgets["search"]
    matches: list[str] = []
    token: str | None = None
    for _ in range(MAX_SEARCH_PAGES):
        try:
            response = await connection.reader.search_recent_tweets(
                query, max_results=100, next_token=token, tweet_fields=SEARCH_FIELDS, user_auth=False)
        except tweepy.TooManyRequests as exc:
            budget.rate_limited(headers_of(exc), runtime.epoch())
            raise
        answer = await read_answer(response)
        budget.observe(answer.headers, runtime.epoch())
        for post in answer.data or []:
            if (str(post.get("author_id", brand.id)) == brand.id and referenced(post, "replied_to") == target
                    and comparable(post.get("text", "")) == wanted):
                matches.append(str(post["id"]))
        token = answer.meta.get("next_token")
        if not token:
            break
    if not matches:
        return None
    recorded = await recorded_post_ids(runtime.app, matches)
    unclaimed = sorted((m for m in matches if m not in recorded), key=int)
    if not unclaimed:
        return None
    return SentReply(platform_id=unclaimed[0], url=brand.post_url(unclaimed[0]))
