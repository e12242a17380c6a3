"""chat.* methods: post, update, delete, ephemeral and permalink, with Slack's checks and errors."""

from __future__ import annotations

from typing import Any

from socialdesk.sandbox.slack.api_request import ApiCall, ApiError
from socialdesk.sandbox.slack.blockkit import utf16_length, validate_message_blocks, with_generated_ids
from socialdesk.sandbox.slack.state import TS_FORMAT, SlackState

MAX_TEXT = 40_000
MAX_ATTACHMENTS = 100


def invalid_blocks(problems: list[str]) -> ApiError:
    """Slack's answer to blocks that break Block Kit rules: the problems twice, as Slack lists them."""
    return ApiError("invalid_blocks", errors=problems,
                    response_metadata={"messages": [f"[ERROR] {p}" for p in problems]})


def checked_blocks(value: Any) -> list[dict[str, Any]] | None:
    """Blocks as stored: validated, with the ids Slack generates filled in. ``None`` if absent."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise ApiError("invalid_blocks_format")
    problems = validate_message_blocks(value)
    if problems:
        raise invalid_blocks(problems)
    return with_generated_ids(value)


def fetch_images(state: SlackState, blocks: list[dict[str, Any]] | None) -> None:
    """Slack downloads each image block's ``image_url`` when the message is posted or updated;
    an image it cannot fetch refuses the whole message (``invalid_blocks``)."""
    problems = [f"downloading image failed [json-pointer:/blocks/{n}/image_url]"
                for n, block in enumerate(blocks or [])
                if block.get("type") == "image"
                and any(str(block.get("image_url", "")).startswith(p) for p in state.unreachable_images)]
    if problems:
        raise invalid_blocks(problems)


def _content(call: ApiCall, state: SlackState) -> tuple[str | None, list[dict[str, Any]] | None,
                                                        list[dict[str, Any]] | None]:
    text = call.text("text")
    blocks = checked_blocks(call.structured("blocks", "invalid_blocks_format"))
    fetch_images(state, blocks)
    attachments = call.structured("attachments", "invalid_attachments")
    if attachments is not None:
        if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
            raise ApiError("invalid_attachments")
        if len(attachments) > MAX_ATTACHMENTS:
            raise ApiError("too_many_attachments")
    if text is not None and utf16_length(text) > MAX_TEXT:
        raise ApiError("msg_too_long")
    return text, blocks, attachments


def _thread_ts(call: ApiCall) -> str | None:
    thread_ts = call.text("thread_ts")
    if thread_ts is not None and not TS_FORMAT.match(thread_ts):
        raise ApiError("invalid_thread_ts")
    return thread_ts


def post_message(state: SlackState, call: ApiCall) -> dict[str, Any]:
    channel = state.resolve_channel(call.text("channel"))
    text, blocks, attachments = _content(call, state)
    if not text and not blocks and not attachments:
        raise ApiError("no_text")
    metadata = call.structured("metadata", "invalid_metadata_format")
    message = state.post(channel, text=text or "", user=state.workspace.bot.user_id, blocks=blocks,
                         attachments=attachments, thread_ts=_thread_ts(call),
                         reply_broadcast=call.flag("reply_broadcast"),
                         metadata=metadata if isinstance(metadata, dict) else None)
    return {"ok": True, "channel": channel.id, "ts": message.ts, "message": message.as_slack(state.workspace)}


def update(state: SlackState, call: ApiCall) -> dict[str, Any]:
    channel = state.resolve_channel(call.text("channel"))
    message = state.find_message(channel.id, call.text("ts"))
    if message.user != state.workspace.bot.user_id:
        raise ApiError("cant_update_message")
    text, blocks, attachments = _content(call, state)
    if text is None and blocks is None and attachments is None:
        raise ApiError("no_text")
    # Slack keeps what the update leaves out; an empty blocks list removes the blocks.
    new_blocks = message.blocks if blocks is None else (blocks or None)
    state.timeline(channel.id).edit(message, text=message.text if text is None else text, blocks=new_blocks,
                                    edited_at=state.ts.next(), edited_by=state.workspace.bot.user_id)
    if attachments is not None:
        message.attachments = attachments or None
    shown = message.as_slack(state.workspace)
    return {"ok": True, "channel": channel.id, "ts": message.ts, "text": message.text, "message": shown}


def delete(state: SlackState, call: ApiCall) -> dict[str, Any]:
    channel = state.resolve_channel(call.text("channel"))
    message = state.find_message(channel.id, call.text("ts"))
    if message.user != state.workspace.bot.user_id:
        raise ApiError("cant_delete_message")
    state.timeline(channel.id).delete(message)
    return {"ok": True, "channel": channel.id, "ts": message.ts}


def post_ephemeral(state: SlackState, call: ApiCall) -> dict[str, Any]:
    channel = state.resolve_channel(call.text("channel"))
    user = call.text("user")
    if user is None or user not in state.workspace.users or not state.workspace.is_member(channel, user):
        raise ApiError("user_not_in_channel")
    text, blocks, attachments = _content(call, state)
    if not text and not blocks and not attachments:
        raise ApiError("no_text")
    ephemeral = state.post_ephemeral(channel, user=user, text=text or "", blocks=blocks, thread_ts=_thread_ts(call))
    return {"ok": True, "message_ts": ephemeral.ts}


def get_permalink(state: SlackState, call: ApiCall) -> dict[str, Any]:
    channel = state.resolve_channel(call.text("channel"), for_posting=False)
    message = state.find_message(channel.id, call.text("message_ts"))
    return {"ok": True, "channel": channel.id, "permalink": state.permalink(channel.id, message)}


METHODS = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.delete": delete,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
}
