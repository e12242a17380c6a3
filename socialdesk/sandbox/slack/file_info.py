"""files.info: one file as Slack describes it (``file``, ``comments``, paging).

Only files whose upload was completed (files.completeUploadExternal, or the legacy
files.upload) exist for Slack; a file id that was reserved by files.getUploadURLExternal
but never completed answers ``file_not_found``, as does an id Slack never issued.
Shared-in channels show in the file's ``channels``/``groups``/``ims``.
"""

from __future__ import annotations

from typing import Any

from socialdesk.sandbox.slack.api_request import ApiCall, ApiError, invalid_arguments
from socialdesk.sandbox.slack.state import SlackState


def files_info(state: SlackState, call: ApiCall) -> dict[str, Any]:
    file_id = call.text("file")
    if not file_id:
        raise invalid_arguments(["missing required field: file"])
    file = state.files.get(file_id)
    if file is None or not file.complete:
        raise ApiError("file_not_found")
    return {"ok": True, "file": file.as_slack(state.base_url), "comments": [],
            "response_metadata": {"next_cursor": ""}}


METHODS = {"files.info": files_info}
