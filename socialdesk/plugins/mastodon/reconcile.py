"""Was a reply posted after all? Look for it in the thread instead of guessing.

After an ambiguous failure (the answer to ``POST /api/v1/statuses`` never arrived,
twice, or the desk died between sending and recording) the desk does not send again.
It reads the thread below the status answered (``GET /api/v1/statuses/:id/context``,
``descendants``) and takes the oldest status by the brand that answers that status
with the same text and is not already recorded as another reply. Texts are compared
as Mastodon shows them: HTML back to text, mentions by their local part, spaces folded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from socialdesk.core.platform import ReplyRequest, SentReply
from socialdesk.plugins.mastodon.html_text import html_to_text
from socialdesk.plugins.mastodon.status_length import MENTION
from socialdesk.plugins.mastodon.stored import recorded_replies

if TYPE_CHECKING:
    from socialdesk.plugins.mastodon.runtime import MastodonRuntime


def comparable(text: str) -> str:
    return " ".join(MENTION.sub(lambda m: "@" + m.group(1).lower(), text).split())


async def find_posted_reply(runtime: MastodonRuntime, request: ReplyRequest, posted_text: str) -> SentReply | None:
    """Our status answering ``request``, if Mastodon shows it; raises Mastodon.py's errors."""
    connection = await runtime.connection()
    brand = await connection.brand()
    target = request.in_reply_to_id or request.conversation_id
    context = await connection.call(connection.client.status_context, target)
    wanted = comparable(posted_text)
    matches = [status for status in context.get("descendants") or []
               if str((status.get("account") or {}).get("id")) == brand.id
               and str(status.get("in_reply_to_id")) == target
               and comparable(html_to_text(str(status.get("content") or ""))) == wanted]
    if not matches:
        return None
    recorded = await recorded_replies(runtime.app, [str(s["id"]) for s in matches])
    unclaimed = sorted((s for s in matches if str(s["id"]) not in recorded), key=lambda s: int(s["id"]))
    if not unclaimed:
        return None
    first = unclaimed[0]
    return SentReply(platform_id=str(first["id"]), url=first.get("url") or first.get("uri"))
