"""conversations.info, and conversations.history and conversations.replies paginated with Slack's opaque cursors."""

from __future__ import annotations

import base64
from typing import Any

from socialdesk.sandbox.slack.api_request import ApiCall, ApiError, invalid_arguments
from socialdesk.sandbox.slack.state import SlackState

MAX_LIMIT = 1000


def page_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def page_offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        kind, _, number = base64.b64decode(cursor.encode(), validate=True).decode().partition(":")
        if kind == "offset" and number.isdigit():
            return int(number)
    except ValueError:
        pass
    raise ApiError("invalid_cursor")


def _in_window(ts: str, oldest: str | None, latest: str | None, inclusive: bool) -> bool:
    value = float(ts)
    if oldest is not None and (value < float(oldest) or (value == float(oldest) and not inclusive)):
        return False
    return not (latest is not None and (value > float(latest) or (value == float(latest) and not inclusive)))


def replies(state: SlackState, call: ApiCall) -> dict[str, Any]:
    channel = state.resolve_channel(call.text("channel"), for_posting=False)
    ts = call.text("ts")
    if not ts:
        raise invalid_arguments(["missing required field: ts"])
    thread = state.timeline(channel.id).thread(ts)
    if not thread:
        raise ApiError("thread_not_found")
    parent, answers = thread[0], thread[1:]
    oldest, latest = call.text("oldest"), call.text("latest")
    inclusive = call.flag("inclusive")
    try:
        shown = [m for m in answers if _in_window(m.ts, oldest, latest, inclusive)]
    except ValueError:
        raise invalid_arguments(["oldest and latest must be timestamps"]) from None
    limit = max(1, min(call.integer("limit", MAX_LIMIT), MAX_LIMIT))
    start = page_offset(call.text("cursor"))
    # Like Slack, every page starts with the parent so a client always knows the thread.
    page = shown[start:start + max(limit - 1, 1)]
    has_more = start + len(page) < len(shown)
    body: dict[str, Any] = {
        "ok": True,
        "messages": [parent.as_slack(state.workspace, in_thread_listing=True)]
        + [m.as_slack(state.workspace) for m in page],
        "has_more": has_more,
    }
    if has_more:
        body["response_metadata"] = {"next_cursor": page_cursor(start + len(page))}
    return body


def history(state: SlackState, call: ApiCall) -> dict[str, Any]:
    """A channel's messages, newest first (thread replies only when broadcast to the channel).

    ``metadata`` is returned only with ``include_all_metadata``, as Slack does: the desk
    looks for its own card by metadata before posting one again.
    """
    channel = state.resolve_channel(call.text("channel"), for_posting=False)
    oldest, latest = call.text("oldest"), call.text("latest")
    inclusive = call.flag("inclusive")
    try:
        found = [m for m in reversed(state.timeline(channel.id).messages())
                 if not m.deleted and _in_window(m.ts, oldest, latest, inclusive)]
    except ValueError:
        raise invalid_arguments(["oldest and latest must be timestamps"]) from None
    limit = max(1, min(call.integer("limit", 100), MAX_LIMIT))
    start = page_offset(call.text("cursor"))
    page = found[start:start + limit]
    messages = []
    for message in page:
        shown = message.as_slack(state.workspace)
        if call.flag("include_all_metadata") and message.metadata:
            shown["metadata"] = message.metadata
        messages.append(shown)
    has_more = start + len(page) < len(found)
    body: dict[str, Any] = {"ok": True, "messages": messages, "has_more": has_more}
    if has_more:
        body["response_metadata"] = {"next_cursor": page_cursor(start + len(page))}
    return body


CREATED = 1700000000  # when every emulated channel was made


def info(state: SlackState, call: ApiCall) -> dict[str, Any]:
    """A channel as Slack describes it to the bot; a private channel the bot is not in does
    not exist for it (``channel_not_found``), as on Slack."""
    ws = state.workspace
    channel = ws.find_channel(call.text("channel") or "")
    if channel is None or (channel.is_private and not ws.is_member(channel, ws.bot.user_id)):
        raise ApiError("channel_not_found")
    is_im = channel.id.startswith("D")
    blank = {"value": "", "creator": "", "last_set": 0}
    return {"ok": True, "channel": {
        "id": channel.id, "name": channel.name, "name_normalized": channel.name, "created": CREATED,
        "creator": next(iter(ws.users)), "is_archived": channel.is_archived, "is_general": channel.name == "general",
        "is_channel": not channel.is_private and not is_im, "is_group": channel.is_private and not is_im,
        "is_im": is_im, "is_mpim": False, "is_private": channel.is_private, "is_shared": False,
        "is_org_shared": False, "is_ext_shared": False, "is_member": ws.is_member(channel, ws.bot.user_id),
        "topic": dict(blank), "purpose": dict(blank),
    }}


METHODS = {"conversations.info": info, "conversations.history": history, "conversations.replies": replies}
