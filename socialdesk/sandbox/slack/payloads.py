"""The payloads Slack sends to an app, field for field: slash commands, block_actions,
view_submission and Events API callbacks.

Field names follow Slack's reference for each payload (and what slack-bolt reads:
``team_id``/``team.id``, ``user_id``/``user.id``, ``trigger_id``, ``response_url``...).
The same dicts travel over HTTP and inside Socket Mode envelopes.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from socialdesk.sandbox.slack.modals import View
from socialdesk.sandbox.slack.state import SlackState
from socialdesk.sandbox.slack.timeline import Message
from socialdesk.sandbox.slack.workspace import SlackChannel


def user_ref(state: SlackState, user_id: str) -> dict[str, str]:
    user = state.workspace.users[user_id]
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": state.workspace.team.id}


def _team(state: SlackState) -> dict[str, str]:
    return {"id": state.workspace.team.id, "domain": state.workspace.team.domain}


def slash_command(state: SlackState, *, command: str, text: str, user_id: str, channel: SlackChannel,
                  response_url: str, trigger: str) -> dict[str, str]:
    """Form fields of a slash command request (all strings, as Slack sends them urlencoded)."""
    ws = state.workspace
    return {
        "token": state.credentials.verification_token, "team_id": ws.team.id, "team_domain": ws.team.domain,
        "channel_id": channel.id, "channel_name": "directmessage" if channel.id.startswith("D") else channel.name,
        "user_id": user_id, "user_name": ws.users[user_id].name, "command": command, "text": text,
        "api_app_id": ws.bot.app_id, "is_enterprise_install": "false", "response_url": response_url,
        "trigger_id": trigger,
    }


def _interaction(state: SlackState, kind: str, user_id: str, trigger: str) -> dict[str, Any]:
    return {"type": kind, "user": user_ref(state, user_id), "api_app_id": state.workspace.bot.app_id,
            "token": state.credentials.verification_token, "trigger_id": trigger, "team": _team(state),
            "enterprise": None, "is_enterprise_install": False}


def message_actions(state: SlackState, *, user_id: str, channel: SlackChannel, message: Message,
                    action: dict[str, Any], trigger: str, response_url: str,
                    state_values: dict[str, Any]) -> dict[str, Any]:
    """block_actions for an element in a channel message."""
    container: dict[str, Any] = {"type": "message", "message_ts": message.ts, "channel_id": channel.id,
                                 "is_ephemeral": False}
    if message.thread_ts:
        container["thread_ts"] = message.thread_ts
    return {
        **_interaction(state, "block_actions", user_id, trigger),
        "container": container, "channel": {"id": channel.id, "name": channel.name},
        "message": message.as_slack(state.workspace), "state": {"values": state_values},
        "response_url": response_url, "actions": [action],
    }


def view_actions(state: SlackState, *, user_id: str, view: View, action: dict[str, Any],
                 trigger: str) -> dict[str, Any]:
    """block_actions for an element inside an open modal (no response_url: modals have none)."""
    return {
        **_interaction(state, "block_actions", user_id, trigger),
        "container": {"type": "view", "view_id": view.id}, "view": view.as_slack(state.workspace),
        "actions": [action],
    }


def view_submission(state: SlackState, *, user_id: str, view: View, trigger: str) -> dict[str, Any]:
    return {**_interaction(state, "view_submission", user_id, trigger), "view": view.as_slack(state.workspace),
            "response_urls": []}


def element_action(element: dict[str, Any], block_id: str, action_ts: str,
                   selected: dict[str, Any] | None = None) -> dict[str, Any]:
    """One entry of ``actions``: what the user touched, as Slack describes it."""
    action: dict[str, Any] = {"type": element["type"], "action_id": element.get("action_id"), "block_id": block_id,
                              "action_ts": action_ts}
    if element["type"] == "button":
        action["text"] = copy.deepcopy(element.get("text"))
        for key in ("value", "style", "url"):
            if key in element:
                action[key] = element[key]
    if selected is not None:
        action["selected_option"] = copy.deepcopy(selected)
    if "placeholder" in element:
        action["placeholder"] = copy.deepcopy(element["placeholder"])
    return action


def event_callback(state: SlackState, event: dict[str, Any], event_time: int) -> dict[str, Any]:
    """The Events API wrapper around one event."""
    ws = state.workspace
    return {
        "token": state.credentials.verification_token, "team_id": ws.team.id, "context_team_id": ws.team.id,
        "context_enterprise_id": None, "api_app_id": ws.bot.app_id, "event": event, "type": "event_callback",
        "event_id": state.ids.next("Ev"), "event_time": event_time,
        "authorizations": [{"enterprise_id": None, "team_id": ws.team.id, "user_id": ws.bot.user_id,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False, "event_context": f"4-{uuid.uuid4().hex}",
    }


def message_event(state: SlackState, message: Message, channel: SlackChannel) -> dict[str, Any]:
    """A ``message`` event for a person's message (what the desk sees when an agent writes in a thread)."""
    event: dict[str, Any] = {
        "type": "message", "channel": channel.id, "user": message.user, "text": message.text, "ts": message.ts,
        "event_ts": message.ts, "team": state.workspace.team.id, "client_msg_id": str(uuid.uuid4()),
        "channel_type": "im" if channel.id.startswith("D") else ("group" if channel.is_private else "channel"),
    }
    if message.thread_ts:
        event["thread_ts"] = message.thread_ts
        if message.parent_user_id:
            event["parent_user_id"] = message.parent_user_id
    return event
