"""Which bot scope each emulated method needs, and the ``x-oauth-scopes`` header Slack sends.

Slack answers a call whose token lacks the method's scope with ``missing_scope`` (plus
``needed`` and ``provided``), and tells every token-authenticated caller what it holds in
the ``x-oauth-scopes`` response header; ``socialdesk check --online`` reads that header.
Methods on channels need the public (``channels:*``) or private (``groups:*``) scope
depending on the channel, as on Slack.
"""

from __future__ import annotations

from socialdesk.sandbox.slack.api_request import ApiCall, ApiError
from socialdesk.sandbox.slack.state import SlackState

# What an installed desk app holds by default: everything `socialdesk slack manifest` can ask for.
DEFAULT_BOT_SCOPES: tuple[str, ...] = (
    "chat:write", "commands", "channels:history", "channels:read", "groups:history", "groups:read",
    "users:read", "usergroups:read", "files:write",
)
SCOPES_HEADER = "x-oauth-scopes"

_FIXED: dict[str, str] = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "users.info": "users:read",
    "users.list": "users:read",
    "usergroups.list": "usergroups:read",
    "usergroups.users.list": "usergroups:read",
}
# Public channel scope, private channel scope.
_BY_CHANNEL: dict[str, tuple[str, str]] = {
    "conversations.info": ("channels:read", "groups:read"),
    "conversations.history": ("channels:history", "groups:history"),
    "conversations.replies": ("channels:history", "groups:history"),
}


def needed_scope(state: SlackState, call: ApiCall) -> str | None:
    if call.method in _FIXED:
        return _FIXED[call.method]
    pair = _BY_CHANNEL.get(call.method)
    if pair is None:
        return None
    channel = state.workspace.find_channel(call.text("channel") or "")
    if channel is None or channel.id.startswith("D"):
        return None  # the method's own error (channel_not_found) comes first
    return pair[1] if channel.is_private else pair[0]


def require_scope(state: SlackState, call: ApiCall, granted: tuple[str, ...]) -> None:
    needed = needed_scope(state, call)
    if needed is not None and needed not in granted:
        raise ApiError("missing_scope", needed=needed, provided=",".join(granted))
