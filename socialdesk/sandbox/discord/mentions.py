"""Who a message pings: mentions parsed from the content, filtered by ``allowed_mentions``.

The result is what Discord stores in ``mentions``, ``mention_roles`` and ``mention_everyone``;
a suppressed mention is still shown as text but notifies nobody and is not listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

USER_MENTION = re.compile(r"<@!?(\d{1,20})>")
ROLE_MENTION = re.compile(r"<@&(\d{1,20})>")
EVERYONE_MENTION = re.compile(r"@(?:everyone|here)\b")
PARSE_TYPES = ("users", "roles", "everyone")


@dataclass
class Pings:
    users: list[int] = field(default_factory=list)
    roles: list[int] = field(default_factory=list)
    everyone: bool = False


def _unique(values: list[int]) -> list[int]:
    return list(dict.fromkeys(values))


def written(content: str) -> Pings:
    """Every mention written in ``content``, whether or not it will ping."""
    return Pings(users=_unique([int(m) for m in USER_MENTION.findall(content)]),
                 roles=_unique([int(m) for m in ROLE_MENTION.findall(content)]),
                 everyone=bool(EVERYONE_MENTION.search(content)))


def allowed_mentions_errors(allowed: Any) -> dict[str, Any]:
    """Field errors (Discord's nested ``_errors`` form) for an invalid ``allowed_mentions`` object."""
    if allowed is None:
        return {}
    if not isinstance(allowed, dict):
        return {"_errors": [{"code": "DICT_TYPE_CONVERT", "message": "Only dictionaries may be used in a DictType"}]}
    errors: dict[str, Any] = {}
    parse = allowed.get("parse") or []
    for index, kind in enumerate(parse):
        if kind not in PARSE_TYPES:
            errors.setdefault("parse", {})[str(index)] = {"_errors": [
                {"code": "ENUM_TYPE_COERCE", "message": f"Value \"{kind}\" is not a valid enum value."}]}
    for kind in ("users", "roles"):
        listed = allowed.get(kind) or []
        if kind in parse and listed:
            errors.setdefault("_errors", []).append({
                "code": "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                "message": f"parse:[\"{kind}\"] and {kind}: [ids...] are mutually exclusive."})
        if len(listed) > 100:
            errors[kind] = {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 100 or fewer in length."}]}
    return errors


def resolve(content: str, allowed: dict[str, Any] | None, *, known_users: set[int], mentionable_roles: set[int],
            all_roles: set[int], may_mention_everyone: bool, replied_author: int | None) -> Pings:
    """Who actually gets pinged.

    Without ``allowed_mentions`` Discord parses everything the author may mention and pings the
    author of a replied-to message; with it, only what ``parse``/``users``/``roles`` allow, and the
    replied-to author only when ``replied_user`` is true.
    """
    text = written(content)
    if allowed is None:
        users = [u for u in text.users if u in known_users]
        roles = [r for r in text.roles if r in (all_roles if may_mention_everyone else mentionable_roles)]
        everyone = text.everyone and may_mention_everyone
        reply_ping = replied_author is not None
    else:
        parse = set(allowed.get("parse") or [])
        listed_users = {int(u) for u in allowed.get("users") or []}
        listed_roles = {int(r) for r in allowed.get("roles") or []}
        users = [u for u in text.users if u in known_users and ("users" in parse or u in listed_users)]
        role_pool = all_roles if may_mention_everyone else mentionable_roles
        roles = [r for r in text.roles if r in role_pool and ("roles" in parse or r in listed_roles)]
        everyone = text.everyone and may_mention_everyone and "everyone" in parse
        reply_ping = replied_author is not None and bool(allowed.get("replied_user"))
    if reply_ping and replied_author is not None and replied_author not in users:
        users.append(replied_author)
    return Pings(users=users, roles=roles, everyone=everyone)
