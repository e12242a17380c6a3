"""File uploads: the external upload flow (what slack_sdk's files_upload_v2 uses) and files.upload.

files.upload was retired by Slack in 2025; it answers ``method_deprecated`` unless the
emulator is built with ``legacy_files_upload=True`` (for replaying old behaviour).

files.getUploadURLExternal and files.completeUploadExternal are newer than the vendored
OpenAPI description (tests/contract/specs/slack, 2021): they follow Slack's method
reference (docs.slack.dev/reference/methods/files.getUploadURLExternal and
…/files.completeUploadExternal) instead. In particular, the share's message carries
``initial_comment`` as its text, or ``blocks`` when no ``initial_comment`` is given
(Slack ignores ``blocks`` next to an ``initial_comment``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from socialdesk.sandbox.slack.api_request import ApiCall, ApiError, invalid_arguments, parse_multipart
from socialdesk.sandbox.slack.chat_methods import checked_blocks
from socialdesk.sandbox.slack.state import TS_FORMAT, SlackState
from socialdesk.sandbox.slack.workspace import SlackChannel

MAX_FILES_PER_COMPLETION = 10


def get_upload_url(state: SlackState, call: ApiCall) -> dict[str, Any]:
    filename, length = call.text("filename"), call.text("length")
    missing = [name for name, value in (("filename", filename), ("length", length)) if not value]
    if missing:
        raise invalid_arguments([f"missing required field: {name}" for name in missing])
    if not str(length).isdigit():
        raise invalid_arguments(["must be an integer [json-pointer:/length]"])
    file, key = state.files.reserve(str(filename), int(str(length)), state.workspace.bot.user_id, state.clock())
    return {"ok": True, "upload_url": f"{state.base_url}/upload/v1/{key}", "file_id": file.id}


async def receive_upload(state: SlackState, request: web.Request) -> web.Response:
    """The one-time upload URL: Slack answers ``OK - <bytes>`` as text/plain."""
    raw = await request.read()
    data = raw
    if request.content_type == "multipart/form-data":
        params, files = parse_multipart(raw, request.headers.get("Content-Type", ""))
        data = next(iter(files.values())).data if files else str(params.get("file", "")).encode()
    file = state.files.receive(request.match_info["key"], data)
    if file is None:
        return web.Response(status=404, text="invalid upload URL", content_type="text/plain")
    return web.Response(text=f"OK - {len(data)}", content_type="text/plain")


def _share_targets(state: SlackState, call: ApiCall) -> list[SlackChannel]:
    refs = [call.text("channel_id")] if call.text("channel_id") else []
    refs += [c for c in (call.text("channels") or "").split(",") if c]
    return [state.resolve_channel(ref) for ref in refs]


def complete_upload(state: SlackState, call: ApiCall) -> dict[str, Any]:
    entries = call.structured("files", "invalid_arguments")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) and e.get("id") for e in entries):
        raise invalid_arguments(["must provide a JSON array of objects with an id [json-pointer:/files]"])
    if len(entries) > MAX_FILES_PER_COMPLETION:
        raise invalid_arguments([f"no more than {MAX_FILES_PER_COMPLETION} items allowed [json-pointer:/files]"])
    thread_ts = call.text("thread_ts")
    if thread_ts is not None and not TS_FORMAT.match(thread_ts):
        raise ApiError("invalid_thread_ts")
    targets = _share_targets(state, call)
    comment = call.text("initial_comment")
    blocks = None if comment else checked_blocks(call.structured("blocks", "invalid_blocks_format"))
    files = [state.files.complete(str(e["id"]), e.get("title")) for e in entries]
    for channel in targets:
        for file in files:
            file.channels.append(channel.id)
            file.thread_ts, file.initial_comment = thread_ts, comment
        state.post(channel, text=comment or "", blocks=blocks, user=state.workspace.bot.user_id,
                   thread_ts=thread_ts, files=[f.as_slack(state.base_url) for f in files],
                   source="files.completeUploadExternal")
    return {"ok": True, "files": [{"id": f.id, "title": f.title} for f in files]}


def legacy_upload(state: SlackState, call: ApiCall) -> dict[str, Any]:
    if not state.legacy_files_upload:
        raise ApiError("method_deprecated")
    part = call.files.get("file")
    if part is None and call.text("content") is None:
        raise ApiError("no_file_data")
    content = part.data if part is not None else str(call.text("content")).encode()
    name = call.text("filename") or (part.filename if part is not None else None) or "file.txt"
    file = state.files.add_complete(name, call.text("title"), content, state.workspace.bot.user_id, state.clock())
    targets = [state.resolve_channel(c) for c in (call.text("channels") or "").split(",") if c]
    for channel in targets:
        file.channels.append(channel.id)
        state.post(channel, text=call.text("initial_comment") or "", user=state.workspace.bot.user_id,
                   thread_ts=call.text("thread_ts"), files=[file.as_slack(state.base_url)], source="files.upload")
    return {"ok": True, "file": file.as_slack(state.base_url)}


METHODS = {
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
    "files.upload": legacy_upload,
}
