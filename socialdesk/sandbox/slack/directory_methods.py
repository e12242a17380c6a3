"""Who is who: auth.test, users.info, users.list, usergroups.list and usergroups.users.list."""

from __future__ import annotations

import hashlib
from typing import Any

from socialdesk.sandbox.slack.api_request import ApiCall, ApiError
from socialdesk.sandbox.slack.conversation_methods import page_cursor, page_offset
from socialdesk.sandbox.slack.state import SlackState
from socialdesk.sandbox.slack.workspace import SlackUser


def auth_test(state: SlackState, call: ApiCall) -> dict[str, Any]:
    ws = state.workspace
    return {"ok": True, "url": f"{state.base_url}/", "team": ws.team.name, "user": ws.bot.name,
            "team_id": ws.team.id, "user_id": ws.bot.user_id, "bot_id": ws.bot.bot_id,
            "is_enterprise_install": False}


def user_object(state: SlackState, user: SlackUser, *, include_locale: bool = False) -> dict[str, Any]:
    """Slack's user object, with the profile fields the API description marks required."""
    ws = state.workspace
    avatar_hash = hashlib.sha1(user.id.encode()).hexdigest()[:12]
    image = f"https://secure.gravatar.com/avatar/{avatar_hash}.jpg?s={{}}"
    first, _, last = user.real_name.partition(" ")
    profile: dict[str, Any] = {
        "title": "", "phone": "", "skype": "", "real_name": user.real_name, "real_name_normalized": user.real_name,
        "display_name": user.name, "display_name_normalized": user.name, "fields": None, "status_text": "",
        "status_emoji": "", "status_expiration": 0, "avatar_hash": avatar_hash, "first_name": first,
        "last_name": last, "team": ws.team.id,
        **{f"image_{size}": image.format(size) for size in (24, 32, 48, 72, 192, 512)},
    }
    if user.email and not user.is_bot:
        profile["email"] = user.email
    if user.is_bot and user.id == ws.bot.user_id:
        profile.update(bot_id=ws.bot.bot_id, api_app_id=ws.bot.app_id, always_active=True)
    out: dict[str, Any] = {
        "id": user.id, "team_id": ws.team.id, "name": user.name, "deleted": user.deleted, "color": "9f69e7",
        "real_name": user.real_name, "tz": user.tz, "tz_label": user.tz, "tz_offset": 0, "profile": profile,
        "is_admin": user.is_admin, "is_owner": False, "is_primary_owner": False, "is_restricted": False,
        "is_ultra_restricted": False, "is_bot": user.is_bot, "is_app_user": False, "updated": 1700000000,
        "has_2fa": False,
    }
    if include_locale:
        out["locale"] = "en-US"
    return out


def users_info(state: SlackState, call: ApiCall) -> dict[str, Any]:
    user = state.workspace.users.get(call.text("user") or "")
    if user is None:
        raise ApiError("user_not_found")
    return {"ok": True, "user": user_object(state, user, include_locale=call.flag("include_locale"))}


USERS_LIST_MAX = 1000  # Slack: "no more than 1000"; it suggests 200


def users_list(state: SlackState, call: ApiCall) -> dict[str, Any]:
    """Every member, deleted and bot users included as Slack lists them, a page at a time."""
    members = list(state.workspace.users.values())
    limit = call.integer("limit", 0)
    size = len(members) if limit <= 0 else min(limit, USERS_LIST_MAX)
    start = page_offset(call.text("cursor"))
    page = members[start:start + size]
    more = start + len(page) < len(members)
    return {"ok": True, "members": [user_object(state, u, include_locale=call.flag("include_locale")) for u in page],
            "cache_ts": 1700000000,
            "response_metadata": {"next_cursor": page_cursor(start + len(page)) if more else ""}}


def usergroup_members(state: SlackState, call: ApiCall) -> dict[str, Any]:
    group = state.workspace.usergroups.get(call.text("usergroup") or "")
    if group is None:
        raise ApiError("no_such_subteam")
    if group.disabled and not call.flag("include_disabled"):
        raise ApiError("no_such_subteam")
    return {"ok": True, "users": list(group.members)}


def usergroups_list(state: SlackState, call: ApiCall) -> dict[str, Any]:
    ws = state.workspace
    creator = next(iter(ws.users))
    groups = []
    for group in ws.usergroups.values():
        if group.disabled and not call.flag("include_disabled"):
            continue
        entry: dict[str, Any] = {
            "id": group.id, "team_id": ws.team.id, "is_usergroup": True, "is_subteam": True, "name": group.name,
            "description": "", "handle": group.handle, "is_external": False, "date_create": 1700000000,
            "date_update": 1700000000, "date_delete": 1700000001 if group.disabled else 0, "auto_type": None,
            "auto_provision": False, "enterprise_subteam_id": "", "created_by": creator, "updated_by": creator,
            "deleted_by": creator if group.disabled else None, "prefs": {"channels": [], "groups": []},
            "user_count": len(group.members),
        }
        if call.flag("include_users"):
            entry["users"] = list(group.members)
        groups.append(entry)
    return {"ok": True, "usergroups": groups}


METHODS = {
    "auth.test": auth_test,
    "users.info": users_info,
    "users.list": users_list,
    "usergroups.list": usergroups_list,
    "usergroups.users.list": usergroup_members,
}
