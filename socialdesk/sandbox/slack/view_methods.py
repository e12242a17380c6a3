"""views.open, views.update and views.push: modals, opened with a fresh trigger_id.

A malformed view is answered ``invalid_arguments`` with the problems in
``response_metadata.messages`` (Slack does not use ``invalid_blocks`` here).
"""

from __future__ import annotations

from typing import Any

from socialdesk.sandbox.slack.api_request import ApiCall, invalid_arguments
from socialdesk.sandbox.slack.blockkit import validate_view, with_generated_ids
from socialdesk.sandbox.slack.state import SlackState


def _definition(call: ApiCall) -> dict[str, Any]:
    view = call.structured("view", "invalid_arguments")
    if view is None:
        raise invalid_arguments(["missing required field: view"])
    problems = validate_view(view)
    if problems:
        raise invalid_arguments(problems)
    return {**view, "blocks": with_generated_ids(view["blocks"])}


def open_view(state: SlackState, call: ApiCall) -> dict[str, Any]:
    definition = _definition(call)
    user = state.use_trigger(call.text("trigger_id"))
    view = state.views.open(user, definition, state.clock())
    return {"ok": True, "view": view.as_slack(state.workspace)}


def push_view(state: SlackState, call: ApiCall) -> dict[str, Any]:
    definition = _definition(call)
    user = state.use_trigger(call.text("trigger_id"))
    view = state.views.push(user, definition, state.clock())
    return {"ok": True, "view": view.as_slack(state.workspace)}


def update_view(state: SlackState, call: ApiCall) -> dict[str, Any]:
    view_id, external_id = call.text("view_id"), call.text("external_id")
    if not view_id and not external_id:
        raise invalid_arguments(["must provide either view_id or external_id"])
    definition = _definition(call)
    view = state.views.find(view_id=view_id, external_id=external_id)
    state.views.update(view, definition, state.clock(), call.text("hash"))
    return {"ok": True, "view": view.as_slack(state.workspace)}


METHODS = {
    "views.open": open_view,
    "views.push": push_view,
    "views.update": update_view,
}
