"""Answers to interactions: response_url posts and the message a command's ack carries.

Slack gives each slash command and message interaction a ``response_url`` that accepts
up to five JSON posts within 30 minutes. A post (or a command's ack body) becomes an
ephemeral for the user by default, a channel message with ``response_type: in_channel``,
an edit of the clicked message with ``replace_original``, or removes it with
``delete_original``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from socialdesk.sandbox.slack.api_request import ApiError
from socialdesk.sandbox.slack.chat_methods import MAX_TEXT, checked_blocks
from socialdesk.sandbox.slack.ids import capability
from socialdesk.sandbox.slack.state import SlackState

MAX_USES = 5
LIFETIME_SECONDS = 30 * 60


class ResponseRejected(Exception):
    """Slack answers a bad response_url post with a status and a one-word text body."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class ResponseTarget:
    kind: str  # "commands" or "actions", as in Slack's URL paths
    channel: str
    user: str
    message_ts: str | None  # the message an action came from
    created: float
    uses: int = 0


class ResponseUrls:
    def __init__(self, max_urls: int = 1000) -> None:
        self._targets: OrderedDict[str, ResponseTarget] = OrderedDict()
        self._max = max_urls
        self._serial = 0

    def issue(self, state: SlackState, kind: str, *, channel: str, user: str, message_ts: str | None = None) -> str:
        key = capability()
        self._serial += 1
        self._targets[key] = ResponseTarget(kind, channel, user, message_ts, state.clock())
        while len(self._targets) > self._max:
            self._targets.popitem(last=False)
        return f"{state.base_url}/{kind}/{state.workspace.team.id}/{self._serial}/{key}"

    def take(self, key: str, now: float) -> ResponseTarget:
        target = self._targets.get(key)
        if target is None:
            raise ResponseRejected(404, "invalid_url")
        if now - target.created > LIFETIME_SECONDS:
            raise ResponseRejected(404, "expired_url")
        if target.uses >= MAX_USES:
            raise ResponseRejected(404, "used_url")
        target.uses += 1
        return target


def apply_response(state: SlackState, *, channel_id: str, user: str, payload: dict[str, Any], source: str,
                   original_ts: str | None = None) -> str:
    """Show ``payload`` as Slack would; returns what happened (ephemeral, in_channel, replaced, deleted)."""
    channel = state.workspace.channels.get(channel_id) or state.resolve_channel(channel_id, for_posting=False)
    timeline = state.timeline(channel.id)
    original = timeline.get(original_ts) if original_ts else None
    if payload.get("delete_original") is True:
        if original is None:
            raise ResponseRejected(404, "message_not_found")
        timeline.delete(original)
        return "deleted"
    try:
        blocks = checked_blocks(payload.get("blocks"))
    except ApiError as error:
        raise ResponseRejected(400, error.error) from None
    text = payload.get("text")
    if text is not None and not isinstance(text, str):
        raise ResponseRejected(400, "invalid_payload")
    if not text and not blocks:
        raise ResponseRejected(400, "no_text")
    if text and len(text) > MAX_TEXT:
        raise ResponseRejected(400, "msg_too_long")
    if payload.get("replace_original") is True and original is not None:
        timeline.edit(original, text=text or "", blocks=blocks, edited_at=state.ts.next(),
                      edited_by=state.workspace.bot.user_id)
        return "replaced"
    thread_ts = payload.get("thread_ts") if isinstance(payload.get("thread_ts"), str) else None
    if payload.get("response_type") == "in_channel":
        state.post(channel, text=text or "", user=state.workspace.bot.user_id, blocks=blocks,
                   thread_ts=thread_ts, source=source)
        return "in_channel"
    state.post_ephemeral(channel, user=user, text=text or "", blocks=blocks, thread_ts=thread_ts, source=source)
    return "ephemeral"
