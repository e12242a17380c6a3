"""``socialdesk check --online`` for Slack: which workspace and bot, its scopes, channels, user groups.

``auth.test`` says whose token it is; its ``x-oauth-scopes`` header says what the token
may do, compared with what this desk's features need (:mod:`socialdesk.core.slack.scopes`).
Each configured card channel must exist, not be archived and have the bot as a member;
each user group named in ``desk`` must exist and be enabled. Every problem names the key
or the Slack setting and the fix. The token is never in a line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk.core.extensions import OnlineCheck
from socialdesk.core.secrets import MissingSecret
from socialdesk.core.slack.scopes import PRIVATE_CHANNEL_SCOPES, needed_scopes
from socialdesk.core.slack.settings import PLUGIN_NAME, slack_settings

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp
    from socialdesk.core.config import AppConfig

PLATFORM = "slack"
SCOPES_HEADER = "x-oauth-scopes"
REFUSED_TOKEN = ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "not_allowed_token_type")
SCOPE_FIX = ("add it under OAuth & Permissions -> Bot Token Scopes (or update the app from "
             "`socialdesk slack manifest`) and reinstall the app to the workspace")


@dataclass
class _Report:
    seen: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def done(self) -> OnlineCheck:
        return OnlineCheck(PLATFORM, tuple(self.seen), tuple(self.problems))


def configured_channels(config: AppConfig) -> dict[str, str]:
    """Channel id -> the key that names it: desk.channel, each route, the digest's channel."""
    channels: dict[str, str] = {}
    if config.desk.channel:
        channels[config.desk.channel] = "desk.channel"
    for n, route in enumerate(config.desk.routes):
        channels.setdefault(route.channel, f"desk.routes.{n}.channel")
    digest = config.settings("digest") if "digest" in config.enabled else None
    digest_channel = getattr(digest, "channel", None)
    if digest_channel:
        channels.setdefault(digest_channel, "plugins.digest.channel")
    return channels


def configured_groups(config: AppConfig) -> dict[str, str]:
    """User group id -> the key that names it."""
    desk = config.desk
    groups: dict[str, str] = {}
    for key, ids in (("desk.agent_groups", desk.agent_groups), ("desk.admin_groups", desk.admin_groups),
                     ("desk.oncall_group", [desk.oncall_group] if desk.oncall_group else [])):
        for group in ids:
            groups.setdefault(group, key)
    return groups


async def _channels(client: AsyncWebClient, config: AppConfig, bot: str, report: _Report) -> bool:
    """Check each channel; True when one of them is private (its scopes are needed then)."""
    any_private = False
    channels = configured_channels(config)
    if not channels:
        report.problems.append('no card channel is configured: set desk.channel = "C..." in plugins.toml')
    for channel_id, key in channels.items():
        try:
            channel: dict[str, Any] = (await client.conversations_info(channel=channel_id))["channel"]
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error == "channel_not_found":
                report.problems.append(
                    f"{key}: channel {channel_id} was not found: check the id (channel details -> the id at the "
                    f"bottom); if it is private, invite the bot first (/invite @{bot} in the channel)")
            elif error == "missing_scope":
                needed = exc.response.get("needed")
                report.problems.append(f"{key}: cannot look at channel {channel_id}: the bot token lacks {needed}; "
                                       + SCOPE_FIX)
            else:
                report.problems.append(f"{key}: channel {channel_id}: Slack answered {error}")
            continue
        private = bool(channel.get("is_private"))
        any_private = any_private or private
        shown = f"#{channel.get('name')} ({channel_id}, {'private' if private else 'public'})"
        if channel.get("is_archived"):
            report.problems.append(f"{key}: {shown} is archived: unarchive it or name another channel")
        elif not channel.get("is_member"):
            report.problems.append(f"{key}: the bot is not a member of {shown}: "
                                   f"invite it with /invite @{bot} in that channel")
        else:
            report.seen.append(f"{key}: {shown}, the bot is a member")
    return any_private


async def _groups(client: AsyncWebClient, config: AppConfig, report: _Report) -> None:
    groups = configured_groups(config)
    if not groups:
        return
    try:
        answer = await client.usergroups_list(include_disabled=True)
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error == "missing_scope":
            report.problems.append("cannot list user groups: the bot token lacks usergroups:read; " + SCOPE_FIX)
        else:
            report.problems.append(f"cannot list user groups: Slack answered {error}")
        return
    known = {g["id"]: g for g in answer.get("usergroups") or []}
    for group_id, key in groups.items():
        group = known.get(group_id)
        if group is None:
            report.problems.append(
                f"{key}: user group {group_id} does not exist in this workspace: copy its id from the group's "
                "page (People -> User groups -> the group -> ... -> Copy group ID)")
        elif group.get("date_delete"):
            report.problems.append(f"{key}: user group @{group.get('handle')} ({group_id}) is disabled: "
                                   "enable it in Slack or remove it from plugins.toml")
        else:
            report.seen.append(f"{key}: user group @{group.get('handle')} ({group_id})")


async def check_online(app: DeskApp) -> OnlineCheck:
    config = app.config
    settings = slack_settings(config)
    report = _Report()
    try:
        token = config.secret(settings.bot_token_env, f"plugins.{PLUGIN_NAME}.bot_token_env")
    except MissingSecret as exc:
        return OnlineCheck(PLATFORM, problems=(str(exc),))
    client = AsyncWebClient(token=token.get_secret_value(), base_url=settings.api_url,
                            timeout=int(max(1, settings.request_timeout_seconds)))
    report.seen.append(f"Web API at {settings.api_url}")
    try:
        try:
            who = await client.auth_test()
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error in REFUSED_TOKEN:
                report.problems.append(
                    f"Slack refused the bot token in {settings.bot_token_env} ({error}): it must be the app's "
                    "Bot User OAuth Token (xoxb-...), from OAuth & Permissions after installing the app")
            else:
                report.problems.append(f"auth.test failed: {error}")
            return report.done()
        bot = str(who.get("user") or "socialdesk")
        report.seen.append(f"workspace {who.get('team')} ({who.get('team_id')}) at {who.get('url')}, "
                           f"bot @{bot} ({who.get('user_id')})")
        granted = {s.strip() for s in (who.headers.get(SCOPES_HEADER) or "").split(",") if s.strip()}
        any_private = await _channels(client, config, bot, report)
        await _groups(client, config, report)
        needed = needed_scopes(config, private_channels=any_private)
        report.seen.append(f"scopes granted: {', '.join(sorted(granted)) or 'none'}")
        for scope, why in needed.items():
            if scope not in granted:
                where = " (a card channel is private)" if scope in PRIVATE_CHANNEL_SCOPES else ""
                report.problems.append(f"the bot token lacks the scope {scope}{where} ({why}); {SCOPE_FIX}")
    except (OSError, TimeoutError) as exc:
        report.problems.append(f"Slack could not be reached at {settings.api_url}: {type(exc).__name__}; "
                               "check plugins.slack.api_url and the network")
    return report.done()
