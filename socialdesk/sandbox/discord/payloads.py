"""Discord's JSON shapes for the emulated world (REST v10 and gateway), built from ``models``.

Snowflakes are strings, timestamps ISO 8601 with microseconds, nullable fields present
as ``null`` — what the OpenAPI description requires and discord.py parses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from socialdesk.sandbox.discord.models import Application, Channel, ChannelType, Guild, Member, Role, User


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def snowflake(value: int | None) -> str | None:
    return None if value is None else str(value)


def user(u: User) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(u.id), "username": u.username, "global_name": u.global_name, "avatar": None,
        "discriminator": "0", "public_flags": 0, "flags": 0, "banner": None, "accent_color": None,
        "avatar_decoration_data": None, "collectibles": None, "primary_guild": None,
    }
    if u.bot:
        data["bot"] = True
    return data


def current_user(u: User) -> dict[str, Any]:
    """GET /users/@me and READY's user: the public user plus the account's private fields."""
    return {**user(u), "mfa_enabled": False, "locale": "en-US", "verified": True, "email": None}


def role(r: Role) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(r.id), "name": r.name, "permissions": str(r.permissions), "position": r.position,
        "color": 0, "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False, "managed": r.managed, "mentionable": r.mentionable, "icon": None,
        "unicode_emoji": None, "flags": 0,
    }
    if r.bot_id is not None:
        data["tags"] = {"bot_id": str(r.bot_id)}
    return data


def member(m: Member, u: User | None) -> dict[str, Any]:
    """A guild member; ``u=None`` gives the partial member Discord attaches to MESSAGE_CREATE."""
    data: dict[str, Any] = {
        "nick": m.nick, "avatar": None, "banner": None, "roles": [str(r) for r in m.roles],
        "joined_at": iso(m.joined_at), "premium_since": None, "deaf": False, "mute": False, "flags": 0,
        "pending": False, "communication_disabled_until": None,
    }
    if u is not None:
        data["user"] = user(u)
    return data


def channel(ch: Channel) -> dict[str, Any]:
    """A guild channel (text, announcement, category or forum)."""
    data: dict[str, Any] = {
        "id": str(ch.id), "type": int(ch.type), "guild_id": str(ch.guild_id), "name": ch.name,
        "position": ch.position, "flags": 0, "parent_id": snowflake(ch.parent_id), "permission_overwrites": [],
        "nsfw": False,
    }
    if ch.type is ChannelType.GUILD_CATEGORY:
        return data
    data.update(topic=ch.topic, rate_limit_per_user=ch.rate_limit_per_user, last_message_id=snowflake(ch.last_message_id))
    if ch.type is ChannelType.GUILD_FORUM:
        data.update(available_tags=[], default_reaction_emoji=None, default_sort_order=None, default_forum_layout=0,
                    default_thread_rate_limit_per_user=0)
    return data


def thread(ch: Channel, created: datetime, viewer_id: int | None = None) -> dict[str, Any]:
    """A thread; ``member`` is included when ``viewer_id`` (the bot) has joined it, as Discord does."""
    metadata: dict[str, Any] = {
        "archived": ch.archived, "archive_timestamp": iso(created), "auto_archive_duration": ch.auto_archive_duration,
        "locked": ch.locked, "create_timestamp": iso(created),
    }
    if ch.type is ChannelType.PRIVATE_THREAD:
        metadata["invitable"] = ch.invitable
    data: dict[str, Any] = {
        "id": str(ch.id), "type": int(ch.type), "guild_id": str(ch.guild_id), "parent_id": snowflake(ch.parent_id),
        "owner_id": snowflake(ch.owner_id), "name": ch.name, "last_message_id": snowflake(ch.last_message_id),
        "message_count": ch.message_count, "member_count": len(ch.member_ids),
        "total_message_sent": ch.total_message_sent, "rate_limit_per_user": ch.rate_limit_per_user, "flags": 0,
        "thread_metadata": metadata, "applied_tags": [str(t) for t in ch.applied_tags],
    }
    if viewer_id is not None and viewer_id in ch.member_ids:
        data["member"] = thread_member(ch, viewer_id, created)
    return data


def thread_member(ch: Channel, user_id: int, joined: datetime) -> dict[str, Any]:
    return {"id": str(ch.id), "user_id": str(user_id), "join_timestamp": iso(joined), "flags": 0}


def guild(g: Guild) -> dict[str, Any]:
    """GET /guilds/{id}: every field GuildWithCountsResponse requires."""
    return {
        "id": str(g.id), "name": g.name, "icon": None, "description": g.description, "home_header": None,
        "splash": None, "discovery_splash": None, "features": list(g.features), "banner": None,
        "owner_id": str(g.owner_id), "application_id": None, "region": "deprecated", "afk_channel_id": None,
        "afk_timeout": 300, "system_channel_id": snowflake(g.system_channel_id), "system_channel_flags": 0,
        "widget_enabled": False, "widget_channel_id": None, "verification_level": 1,
        "roles": [role(r) for r in sorted(g.roles.values(), key=lambda r: r.position)],
        "default_message_notifications": 1, "mfa_level": 0, "explicit_content_filter": 2, "max_presences": None,
        "max_members": 500_000, "max_stage_video_channel_users": 50, "max_video_channel_users": 25,
        "vanity_url_code": None, "premium_tier": 0, "premium_subscription_count": 0, "preferred_locale": "en-US",
        "rules_channel_id": None, "safety_alerts_channel_id": None, "public_updates_channel_id": None,
        "premium_progress_bar_enabled": False, "nsfw": False, "nsfw_level": 0, "emojis": [], "stickers": [],
        "incidents_data": None,
    }


def my_guild(g: Guild, permissions: int) -> dict[str, Any]:
    """An entry of GET /users/@me/guilds."""
    return {"id": str(g.id), "name": g.name, "icon": None, "banner": None, "owner": False,
            "permissions": str(permissions), "features": list(g.features)}


def application(app: Application, bot: User, owner: User, flags: int, guild_count: int) -> dict[str, Any]:
    """GET /oauth2/applications/@me: every field PrivateApplicationResponse requires."""
    return {
        "id": str(app.id), "name": app.name, "icon": None, "description": app.description, "type": None,
        "bot": user(bot), "bot_public": True, "bot_require_code_grant": False, "verify_key": app.verify_key,
        "flags": flags, "flags_new": str(flags), "redirect_uris": [], "interactions_endpoint_url": None,
        "role_connections_verification_url": None, "owner": user(owner), "approximate_guild_count": guild_count,
        "approximate_user_install_count": 0, "approximate_user_authorization_count": 0,
        "explicit_content_filter": 0, "team": None, "eligible_oauth2_scopes": ["bot", "applications.commands"],
        "rpc_origins": [], "tags": [], "integration_types_config": {"0": {}},
    }


def attachment(attachment_id: int, filename: str, size: int, url: str, content_type: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {"id": str(attachment_id), "filename": filename, "size": size, "url": url, "proxy_url": url}
    if content_type:
        data["content_type"] = content_type
    return data
