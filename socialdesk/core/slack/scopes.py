"""The bot token scopes a desk needs, each with the reason, from its plugins.toml.

One list for the app manifest (``socialdesk slack manifest``) and for the scopes check of
``socialdesk check --online``, so the two can never disagree. The README's table is this
list in prose.
"""

from __future__ import annotations

from socialdesk.core.config import AppConfig

DIGEST_PLUGIN = "digest"  # by name: core must not import a built-in plugin

BASE_SCOPES: dict[str, str] = {
    "chat:write": "post and update triage cards, their thread notices and ephemeral answers",
    "commands": "the /desk slash command",
    "channels:history": "before posting a card again, look for one Slack received but never confirmed",
    "channels:read": "check --online: each card channel exists and the bot is a member",
    "users:read": "sign public replies with the agent's Slack display name; find the person an "
                  "@name in /desk assign or agents means",
}
# Private card channels: the same two reads, on private channels.
PRIVATE_CHANNEL_SCOPES: dict[str, str] = {
    "groups:history": "the same look before posting again, in private card channels",
    "groups:read": "check --online: private card channels exist and the bot is a member",
}
USER_GROUP_SCOPE = ("usergroups:read", "agent_groups, admin_groups and oncall_group: who is in them, that they exist")
DIGEST_SCOPE = ("files:write", "upload the daily digest's chart")


def needed_scopes(config: AppConfig, *, private_channels: bool = True) -> dict[str, str]:
    """Scope -> why, for what ``config`` enables. ``private_channels``: include the scopes
    private card channels need (the manifest does not know; the online check does)."""
    scopes = dict(BASE_SCOPES)
    if private_channels:
        scopes.update(PRIVATE_CHANNEL_SCOPES)
    desk = config.desk
    if desk.agent_groups or desk.admin_groups or desk.oncall_group:
        scopes[USER_GROUP_SCOPE[0]] = USER_GROUP_SCOPE[1]
    if DIGEST_PLUGIN in config.enabled:
        scopes[DIGEST_SCOPE[0]] = DIGEST_SCOPE[1]
    return scopes
