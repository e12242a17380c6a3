"""The conversation of a status: the root of its ``in_reply_to_id`` chain.

A status that answers nothing is its own root. A reply's root is, in order: the
conversation of its parent when the desk stores the parent (no request), else the
first of the ancestors Mastodon shows (``GET /api/v1/statuses/:id/context``). When
the ancestors cannot be seen (followers-only, deleted), the oldest visible one is the
root, and with none visible the parent's id: the thread is as far as the brand can see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from socialdesk.plugins.mastodon.stored import stored_conversation

if TYPE_CHECKING:
    from socialdesk.plugins.mastodon.runtime import MastodonRuntime


async def conversation_of(runtime: MastodonRuntime, status: Mapping[str, Any]) -> str:
    """Raises Mastodon.py's errors when the context cannot be read (the caller retries later)."""
    parent = status.get("in_reply_to_id")
    if not parent:
        return str(status["id"])
    known = await stored_conversation(runtime.app, str(parent))
    if known is not None:
        return known
    connection = await runtime.connection()
    context = await connection.call(connection.client.status_context, str(status["id"]))
    ancestors = context.get("ancestors") or []
    return str(ancestors[0]["id"]) if ancestors else str(parent)
