"""Who may use the desk: agents and admins, by Slack user id or user group.

Group members come from ``usergroups.users.list`` (Tier 2: about 20 calls a minute),
cached for ``permission_cache_seconds``; one lookup per group at a time, however many
clicks arrive together. If Slack cannot be asked, the last known members are used; with
none known, the answer is "not allowed" (never "allowed" by accident).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from socialdesk.core.admin.members import MemberLists
from socialdesk.core.config import DeskConfig
from socialdesk.core.extensions import Actor

log = logging.getLogger(__name__)

REFUSAL = ("Only desk agents can do that. Ask a desk admin to add you to `desk.agents` "
           "(or one of `desk.agent_groups`) in plugins.toml.")
ADMIN_REFUSAL = "Only desk admins can do that (`desk.admins` or `desk.admin_groups` in plugins.toml)."


@dataclass
class _Members:
    users: frozenset[str]
    fetched: float


class Permissions:
    def __init__(self, desk: DeskConfig, client: AsyncWebClient, cache_seconds: float,
                 clock: Callable[[], float] = time.monotonic,
                 members: Callable[[], Awaitable[MemberLists]] | None = None) -> None:
        """``members``: plugins.toml's lists merged with the database's (``/desk agents``);
        without it, plugins.toml's alone."""
        self._desk = desk
        self._member_lists = members
        self._client = client
        self._ttl = cache_seconds
        self._clock = clock
        self._groups: dict[str, _Members] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def _members(self, group: str) -> frozenset[str]:
        cached = self._groups.get(group)
        if cached is not None and self._clock() - cached.fetched < self._ttl:
            return cached.users
        lock = self._locks.setdefault(group, asyncio.Lock())
        async with lock:
            cached = self._groups.get(group)  # someone else may have just fetched it
            if cached is not None and self._clock() - cached.fetched < self._ttl:
                return cached.users
            try:
                answer = await self._client.usergroups_users_list(usergroup=group)
            except (SlackApiError, OSError, TimeoutError) as exc:
                error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
                log.warning("user group lookup failed", extra={"usergroup": group, "error": error})
                return cached.users if cached is not None else frozenset()
            users = frozenset(answer.get("users") or [])
            self._groups[group] = _Members(users, self._clock())
            return users

    async def _in_any(self, user_id: str, groups: list[str]) -> bool:
        for group in groups:
            if user_id in await self._members(group):
                return True
        return False

    async def lists(self) -> MemberLists:
        if self._member_lists is not None:
            return await self._member_lists()
        d = self._desk
        return MemberLists(frozenset(d.agents), frozenset(d.agent_groups), frozenset(d.admins),
                           frozenset(d.admin_groups))

    async def is_admin(self, user_id: str) -> bool:
        lists = await self.lists()
        return user_id in lists.admins or await self._in_any(user_id, sorted(lists.admin_groups))

    async def actor(self, user_id: str) -> Actor | None:
        """The desk actor for a Slack user, or ``None`` if they are neither agent nor admin."""
        if await self.is_admin(user_id):
            return Actor(user_id, is_admin=True)
        lists = await self.lists()
        if user_id in lists.agents or await self._in_any(user_id, sorted(lists.agent_groups)):
            return Actor(user_id)
        return None

    def forget(self) -> None:
        """Drop cached group members (tests, or after a config change)."""
        self._groups.clear()
