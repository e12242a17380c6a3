"""A notice in the desk channel about the desk itself (not a ticket): mentions that may be
missing, for one. Written to the outbox in the caller's transaction, posted once.

The job carries its own key (also the outbox dedupe key) as message metadata; a retry
after a lost answer looks for a message with that key in the channel before posting.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from socialdesk.core.outbox.jobs import JobFailed, OutboxJobSnapshot
from socialdesk.core.outbox.runner import ensure_lease
from socialdesk.core.slack.delivery import _call, _take_slot, post_key  # one delivery path for Slack posts
from socialdesk.core.slack.escaping import cut
from socialdesk.core.slack.runtime import runtime_for
from socialdesk.core.triage import HIGHEST_PRIORITY

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)

CHANNEL_NOTICE_KIND = "slack_channel_notice"  # payload: key, text (mrkdwn built by the desk)
NOTICE_EVENT_TYPE = "socialdesk_channel_notice"
MAX_HISTORY = 200


def queue_channel_notice(app: DeskApp, session: AsyncSession, *, key: str, text: str) -> bool:
    """Queue ``text`` for the desk channel in ``session``'s transaction; False when Slack is off."""
    if CHANNEL_NOTICE_KIND not in app.performers:
        log.warning("no Slack to post a desk notice to", extra={"key": key, "notice": text})
        return False
    app.outbox.enqueue(session, CHANNEL_NOTICE_KIND, {"key": key, "text": text}, now=app.clock(),
                       priority=HIGHEST_PRIORITY, dedupe_key=f"channel_notice:{key}")
    return True


async def post_channel_notice(job: OutboxJobSnapshot, app: DeskApp) -> None:
    rt = runtime_for(app)
    channel = app.config.desk.channel
    if channel is None:
        raise JobFailed("no desk.channel to post a desk notice to")
    key, text = str(job.payload["key"]), cut(str(job.payload["text"]), 3000)
    metadata = {"event_type": NOTICE_EVENT_TYPE, "event_payload": {"key": key}}
    if job.attempts > 1:  # an earlier attempt may have posted it and lost the answer
        answer = await _call(rt, "conversations.history", "look for an earlier desk notice", "conversations_history",
                             channel=channel, limit=MAX_HISTORY, include_all_metadata=True)
        for message in answer.get("messages") or []:
            if (message.get("metadata") or {}).get("event_payload", {}).get("key") == key:
                return
    slot = post_key(channel)
    await _take_slot(rt, app, job, slot, paced=True)
    ensure_lease("post a desk notice")
    await _call(rt, slot, "post a desk notice", "chat_postMessage", channel=channel, text=text,
                metadata=metadata, unfurl_links=False, unfurl_media=False)


CHANNEL_NOTICE_PERFORMERS = {CHANNEL_NOTICE_KIND: post_channel_notice}
